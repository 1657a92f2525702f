import type { Command } from '../command.js';
import { serveCommand } from './serve.js';
import { snsCommand } from './sns.js';

/** Every `baton` command, in the order `baton --help` lists them. */
export const commands: readonly Command[] = [serveCommand, snsCommand];
