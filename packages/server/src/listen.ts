import { createServer } from 'node:net';
import type { ServerConfig } from './config.js';
import { StartupError } from './startup-error.js';

/**
 * Tries the address before the slow part of start-up (opening the database, migrations), so a busy
 * port or a wrong HOST fails in a moment. The real listen can still lose a race and is checked too.
 */
export async function probeListen(config: ServerConfig): Promise<void> {
  if (config.port === 0) return;
  const probe = createServer();
  await new Promise<void>((resolve, reject) => {
    probe.once('error', (err) => reject(listenError(err, config)));
    probe.listen({ port: config.port, host: config.host, exclusive: true }, () => probe.close(() => resolve()));
  });
}

/** Turns a listen failure into the operator's terms, naming PORT or HOST. */
export function listenError(err: unknown, config: ServerConfig): unknown {
  const code = (err as NodeJS.ErrnoException).code;
  const opts = { cause: err };
  switch (code) {
    case 'EADDRINUSE':
      return new StartupError('PORT', `port ${config.port} is already in use on ${config.host}`, opts);
    case 'EACCES':
      return new StartupError('PORT', `not permitted to listen on ${config.host}:${config.port} (ports below 1024 need privileges)`, opts);
    case 'EADDRNOTAVAIL':
      return new StartupError('HOST', `${config.host} is not an address of this machine`, opts);
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
    case 'EAI_NONAME':
      return new StartupError('HOST', `cannot resolve host name ${config.host}`, opts);
    default:
      return err;
  }
}
