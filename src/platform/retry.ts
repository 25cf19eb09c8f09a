import { setTimeout as sleep } from 'node:timers/promises';

export { sleep };

/** Exponential backoff with full jitter, so replicas that failed together retry apart. */
export function backoffDelay(attempt: number, baseMs = 250, maxMs = 10_000): number {
  const ceiling = Math.min(maxMs, baseMs * 2 ** Math.min(attempt, 16));
  return Math.round(ceiling / 2 + (Math.random() * ceiling) / 2);
}
