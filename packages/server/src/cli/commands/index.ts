import type { CommandEntry } from '../command.js';

/**
 * Every `baton` command, in the order `baton --help` lists them. Each module is imported only when
 * its command runs (the build keeps each in a chunk of its own), so a new command adds one entry
 * here and costs the others nothing.
 */
export const commands: readonly CommandEntry[] = [
  { name: 'serve', summary: 'run the Baton service (HTTP API, triggers, workflow engine)', load: async () => (await import('./serve.js')).serveCommand },
  { name: 'workflow', summary: 'push, validate, start, list, describe, show, stop and restart workflows; pause and activate their triggers', load: async () => (await import('./workflow.js')).workflowCommand },
  { name: 'instance', summary: 'list instances, show or watch the status of one, or kill it', load: async () => (await import('./instance.js')).instanceCommand },
  { name: 'step', summary: 'resume, skip, stop or kill one step of a running instance; show an attempt and its logs; why it waits', load: async () => (await import('./step.js')).stepCommand },
  { name: 'breakpoint', summary: 'set, delete and list step breakpoints', load: async () => (await import('./breakpoint.js')).breakpointCommand },
  { name: 'signal', summary: 'publish, list and show signals', load: async () => (await import('./signal.js')).signalCommand },
  { name: 'lineage', summary: 'show the lineage of a signal instance or a workflow instance', load: async () => (await import('./lineage.js')).lineageCommand },
  { name: 'schedule', summary: 'list the time triggers and their next fire times; preview a cron expression', load: async () => (await import('./schedule.js')).scheduleCommand },
  { name: 'trigger', summary: 'list signal triggers: which signals start which workflows, paused or not; why one has not fired', load: async () => (await import('./trigger.js')).triggerCommand },
  { name: 'sel', summary: 'the SEL expression REPL and evaluator', load: async () => (await import('./sel.js')).selCommand },
  { name: 'admin', summary: 'operator commands: signal retention status and passes', load: async () => (await import('./admin.js')).adminCommand },
  { name: 'sns', summary: "subscribe Baton's SNS endpoint to an SNS topic", load: async () => (await import('./sns.js')).snsCommand },
];
