import { pino, type Logger } from 'pino';
import type { LogLevel } from './config.js';

export type { Logger };

/**
 * JSON lines on stdout, one object per event, ISO timestamps. Written synchronously so nothing is
 * lost when the process exits right after a fatal start-up problem.
 */
export function createLogger(level: LogLevel, destination: pino.DestinationStream = pino.destination({ fd: 1, sync: true })): Logger {
  return pino(
    {
      name: 'baton',
      level,
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: { paths: ['req.headers.authorization', 'req.headers.cookie', 'databaseUrl'], censor: '***' },
    },
    destination,
  );
}

/**
 * Readable lines for a terminal (pino-pretty, loaded only then): `2026-12-06T20:40:01.123Z INFO
 * server ready {"url":"http://127.0.0.1:8080"}`, colored, one line per event, written
 * synchronously to stdout like the JSON lines.
 */
export async function prettyDestination(fd = 1): Promise<pino.DestinationStream> {
  const { default: pretty } = await import('pino-pretty');
  return pretty({
    destination: fd,
    sync: true,
    colorize: true,
    singleLine: true,
    translateTime: "UTC:yyyy-mm-dd'T'HH:MM:ss.l'Z'",
    ignore: 'pid,hostname,name',
  });
}
