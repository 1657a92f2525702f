import { parseArgs } from 'node:util';
import { loadConfig, SETTINGS } from '../../config.js';
import { SERVICE_SETTINGS } from '../../service-settings.js';
import { StartupError } from '../../startup-error.js';
import { UsageError, type Command } from '../command.js';

export const serveCommand: Command = {
  name: 'serve',
  summary: 'run the Baton service (HTTP API, triggers, workflow engine)',
  help: [
    'Usage: baton serve',
    '',
    'Runs the Baton service until SIGINT or SIGTERM, then finishes in-flight requests and exits.',
    '',
    'Settings (environment variables):',
    ...[...SETTINGS, ...SERVICE_SETTINGS].map((s) => `  ${s.name.padEnd(28)} ${s.description}`),
  ].join('\n'),

  async run(args, io) {
    try {
      parseArgs({ args, options: {}, strict: true, allowPositionals: false });
    } catch (err) {
      throw new UsageError((err as Error).message);
    }
    const config = loadConfig(io.env, io.cwd);
    const { createLogger, prettyDestination } = await import('../../logger.js');
    const pretty = (config.logFormat ?? ((io.stdout as { isTTY?: boolean }).isTTY ? 'pretty' : 'json')) === 'pretty';
    const logger = createLogger(config.logLevel, pretty ? await prettyDestination() : undefined);
    // Said before anything slow (loading the server, creating the embedded database) happens.
    logger.info(
      { pid: process.pid, node: process.version, database: config.databaseUrl ? 'postgresql' : 'pglite', dataDir: config.databaseUrl ? undefined : config.dataDir, sinceProcessStartMs: Math.round(performance.now()) },
      'Baton starting',
    );
    // Loaded on demand so other commands and --help do not pay for the server's dependencies.
    const loading = performance.now();
    const [{ startServer }, { stopOnSignal }] = await Promise.all([import('../../server.js'), import('../../shutdown.js')]);
    logger.info({ loadMs: Math.round(performance.now() - loading) }, 'server code loaded');
    let server;
    try {
      server = await startServer(config, { logger });
    } catch (err) {
      if (err instanceof StartupError) logger.fatal({ setting: err.setting }, err.message);
      else logger.fatal({ err }, 'start-up failed');
      throw err;
    }
    // Services start after the server listens; if they fail, the server has already closed itself
    // and the command must end with a failure rather than wait for a signal that never comes.
    const startFailed = server.servicesStarted.then(
      () => new Promise<number>(() => {}),
      () => 1,
    );
    return Promise.race([stopOnSignal(server), startFailed]);
  },
};
