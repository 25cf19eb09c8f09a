import type { FastifyInstance } from 'fastify';
import { sleep } from './retry.js';

export interface ShutdownOptions {
  drainMs: number;
  timeoutMs: number;
  exit?: (code: number) => void;
}

/**
 * SIGTERM/SIGINT: readiness turns 503 (liveness stays 200), wait `drainMs` so load
 * balancers stop routing here, then close: in-flight requests finish and every plugin
 * closes what it opened; exit 0. Past `timeoutMs`, or on a second signal, exit 1 at once.
 * Returns a function that removes the signal handlers.
 */
export function installShutdown(
  app: FastifyInstance,
  { drainMs, timeoutMs, exit = (code) => process.exit(code) }: ShutdownOptions,
): () => void {
  let shuttingDown = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (shuttingDown) {
      app.log.warn({ signal }, 'shutdown: second signal, exiting now');
      exit(1);
      return;
    }
    shuttingDown = true;
    void shutDown(signal);
  };

  const shutDown = async (signal: NodeJS.Signals) => {
    const timer = setTimeout(() => {
      app.log.error({ timeoutMs }, 'shutdown: timed out, exiting');
      exit(1);
    }, drainMs + timeoutMs);
    timer.unref();
    try {
      app.log.info({ signal, drainMs }, 'shutdown: draining (readiness now 503)');
      app.lifecycle.beginDrain();
      await sleep(drainMs);
      app.log.info('shutdown: closing (finishing in-flight requests)');
      await app.close();
      app.log.info('shutdown: closed, exiting');
      exit(0);
    } catch (error) {
      app.log.error({ err: error }, 'shutdown: failed');
      exit(1);
    }
  };

  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  return () => {
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
  };
}
