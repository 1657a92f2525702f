import { createHash } from 'node:crypto';

/**
 * A delay in [0, maxMs) that depends only on the workflow and trigger, so every Baton process
 * and every restart computes the same start time for a fire, while different workflows sharing
 * a cron spread out instead of starting in one burst.
 */
export function stableJitterMs(workflowId: string, triggerKey: string, maxMs: number): number {
  if (maxMs <= 0) return 0;
  const digest = createHash('sha256').update(`${workflowId}\u0000${triggerKey}`).digest();
  // 48 bits keep the modulo bias far below a millisecond for any sensible bound.
  return Number(digest.readUIntBE(0, 6) % Math.floor(maxMs));
}
