import { UsageError, type Command } from '../command.js';
import { CONNECTION_HELP } from '../client.js';
import { TRIGGER_WHY_HELP, triggerWhy } from './why-waiting.js';
import { LIST_OPTIONS_HELP, runTriggerList } from './trigger-lists.js';

const HELP = [
  'Usage: baton trigger list [--workflow ID] [--signal NAME] [--paused true|false] [--json]',
  '',
  'Lists the signal triggers of active workflow versions: which signal names start which workflow,',
  'with their match params (operators), join keys, pause state and the signals waiting for the rest',
  'of a join. Time triggers: baton schedule list. Pause: baton workflow pause ID.',
  '',
  'Options:',
  '  --signal <name>       only triggers fed by this signal name',
  ...LIST_OPTIONS_HELP,
  ...CONNECTION_HELP,
  '',
  ...TRIGGER_WHY_HELP,
].join('\n');

export const triggerCommand: Command = {
  name: 'trigger',
  summary: 'list signal triggers: which signals start which workflows, paused or not; why one has not fired',
  help: HELP,
  async run(args, io) {
    if (args[0] === 'why') return triggerWhy(args.slice(1), io);
    if (args[0] !== 'list') throw new UsageError(args[0] === undefined ? 'missing subcommand: list or why' : `unknown subcommand "${args[0]}": expected list or why`);
    return runTriggerList(args, io);
  },
};
