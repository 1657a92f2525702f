import type { Command } from '../command.js';
import { breakpointCommand } from './breakpoint.js';
import { instanceCommand } from './instance.js';
import { lineageCommand } from './lineage.js';
import { scheduleCommand } from './schedule.js';
import { selCommand } from './sel.js';
import { serveCommand } from './serve.js';
import { signalCommand } from './signal.js';
import { snsCommand } from './sns.js';
import { stepCommand } from './step.js';
import { triggerCommand } from './trigger.js';
import { workflowCommand } from './workflow.js';

/** Every `baton` command, in the order `baton --help` lists them. */
export const commands: readonly Command[] = [serveCommand, workflowCommand, instanceCommand, stepCommand, breakpointCommand, signalCommand, lineageCommand, scheduleCommand, triggerCommand, selCommand, snsCommand];
