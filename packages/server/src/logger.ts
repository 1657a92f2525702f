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
