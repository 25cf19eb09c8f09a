import type { FastifyBaseLogger } from 'fastify';
import type { Database } from '../../platform/database/index.js';

type Subscriber = (value: number) => void;

export interface CounterEventsObserver {
  /** A change reached this replica, this long after the database made it. */
  onDelivered(delaySeconds: number): void;
}

const CHANNEL = 'counter_changed';

/**
 * Fans every committed counter change out to this replica's subscribers. The database
 * trigger NOTIFYs after each commit, whichever replica made it; after a lost connection
 * the current value is read again, since notifications sent meanwhile are gone.
 */
export function createCounterEvents(
  db: Database,
  name: string,
  readCurrent: () => Promise<number>,
  log: FastifyBaseLogger,
  observer: CounterEventsObserver,
) {
  const subscribers = new Set<Subscriber>();
  const publish = (value: number) => {
    for (const subscriber of subscribers) subscriber(value);
  };
  const onNotification = (payload: string | undefined) => {
    if (payload === undefined) {
      readCurrent().then(publish, (error: unknown) =>
        log.warn({ err: error }, 'counter: could not read the value after reconnecting'),
      );
      return;
    }
    const change = JSON.parse(payload) as { name: string; value: number; changedAtMs?: number };
    if (change.name !== name) return;
    publish(change.value);
    // Measured after every subscriber has been written to. The two clocks are the database
    // server's and ours, both NTP-synced; a clock ahead of ours reads as no delay at all.
    if (change.changedAtMs !== undefined)
      observer.onDelivered(Math.max(0, Date.now() - change.changedAtMs) / 1000);
  };
  let unlisten: (() => Promise<void>) | undefined;

  return {
    async start(): Promise<void> {
      unlisten = await db.listen(CHANNEL, onNotification);
    },
    subscribe(subscriber: Subscriber): () => void {
      subscribers.add(subscriber);
      return () => subscribers.delete(subscriber);
    },
    async stop(): Promise<void> {
      subscribers.clear();
      await unlisten?.();
    },
  };
}
