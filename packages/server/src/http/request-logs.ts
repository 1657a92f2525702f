import { LogController, type FastifyReply, type FastifyRequest } from 'fastify';
import type { LogLevel } from '../config.js';

/**
 * Fastify's two lines per request ("incoming request", "request completed") at REQUEST_LOG_LEVEL
 * (debug by default) instead of its fixed info, so a busy service's info log says what the service
 * does rather than every poll. Failed requests keep their error lines. Each request logs through
 * its route's logger, so routes with their own level (health, metrics: warn) stay quiet.
 */
export class LeveledRequestLogs extends LogController {
  constructor(private readonly level: LogLevel) {
    super();
  }

  override incomingRequest(request: FastifyRequest): void {
    if (this.level !== 'silent') request.log[this.level]({ req: request }, 'incoming request');
  }

  override requestCompleted(error: Error | null | undefined, request: FastifyRequest, reply: FastifyReply): void {
    if (error) super.requestCompleted(error, request, reply);
    else if (this.level !== 'silent') reply.log[this.level]({ res: reply, responseTime: reply.elapsedTime }, 'request completed');
  }
}
