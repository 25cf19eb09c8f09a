import type { Redis, Result } from 'ioredis';

// Adds a batch to a client's count; the window starts with the first request anyone saw.
const ADD_SCRIPT = `
local current = redis.call('INCRBY', KEYS[1], ARGV[1])
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  ttl = tonumber(ARGV[2])
end
return {current, ttl}
`;

declare module 'ioredis' {
  interface RedisCommander<Context> {
    /** ADD_SCRIPT: the client's count in this window after adding `count`, and the ms left. */
    rateLimitAdd(key: string, count: number, windowMs: number): Result<[number, number], Context>;
  }
}

/** How often counts that are not due yet go to Redis. */
export const SYNC_INTERVAL_MS = 100;
/** A replica answers alone for at most this share of the limit before it tells Redis. */
const UNSENT_SHARE = 0.01;
/** The last share of a client's limit, where each request is counted in Redis before it is answered. */
const EXACT_SHARE = 0.2;
/** Clients counted here at once; beyond, each request asks Redis (the memory stays bounded). */
const MAX_LOCAL_CLIENTS = 100_000;

interface Count {
  /** The total in Redis when it last answered: every replica's requests in this window. */
  shared: number;
  /** Sent to Redis, not answered yet. */
  sending: number;
  /** Counted here only. */
  unsent: number;
  /** When the window ends (ms since the epoch), as Redis last said. */
  resetsAt: number;
}

type Answer = (error: Error | null, result?: { current: number; ttl: number }) => void;

/**
 * A store for @fastify/rate-limit that counts each client across replicas without a Redis
 * round trip for most requests. A client's first request in a window on this replica, and
 * every request once it is past 80 % of its limit, wait for Redis, which holds every
 * replica's count: answers at the limit are those of a round trip per request. Below that,
 * this replica counts in memory and sends what it counted in batches (every
 * SYNC_INTERVAL_MS, or at once when a client's unsent requests reach 1 % of the limit),
 * reading back the total each time. What a replica does not know yet is what the others
 * counted since its last answer: about a batch each, which the 20 % margin covers. A client
 * Redis has seen over the limit is refused here until the window ends, with no further
 * calls, so a flood costs Redis nothing. While Redis cannot answer, nothing is limited
 * (fail-open, the plugin's `skipOnError`), as the cache fails open too.
 */
export function sharedRateLimitStore(redis: Redis, keyPrefix: string) {
  redis.defineCommand('rateLimitAdd', { numberOfKeys: 1, lua: ADD_SCRIPT });
  const counts = new Map<string, Count>();
  const due = new Set<string>();
  let windowMs = 60_000;
  // Set by a failed call, cleared by the next answer: until then nothing is limited or counted.
  let failure: Error | undefined;
  const failed = (error: unknown) => {
    failure = error instanceof Error ? error : new Error(String(error));
  };

  const send = (key: string, count: Count): Promise<void> => {
    const sending = count.unsent;
    count.sending += sending;
    count.unsent = 0;
    due.delete(key);
    return redis.rateLimitAdd(`${keyPrefix}${key}`, sending, windowMs).then(
      ([shared, ttl]) => {
        failure = undefined;
        count.sending -= sending;
        count.shared = shared;
        count.resetsAt = Date.now() + ttl;
      },
      (error: unknown) => {
        failed(error);
        // Sent again with the next batch, once Redis answers.
        count.sending -= sending;
        count.unsent += sending;
        if (counts.get(key) === count) due.add(key);
      },
    );
  };

  const flush = () => {
    if (failure !== undefined) {
      redis.ping().then(() => (failure = undefined), failed);
      return;
    }
    for (const key of due) {
      const count = counts.get(key);
      if (count === undefined) due.delete(key);
      else if (count.sending === 0) void send(key, count);
    }
    // Windows that ended take their clients with them.
    if (counts.size > MAX_LOCAL_CLIENTS / 2) {
      const now = Date.now();
      for (const [key, count] of counts)
        if (count.resetsAt <= now && count.sending === 0 && count.unsent === 0) counts.delete(key);
    }
  };
  const timer = setInterval(flush, SYNC_INTERVAL_MS).unref();

  const answer = (count: Count, cb: Answer) => {
    cb(null, {
      current: count.shared + count.sending + count.unsent,
      ttl: Math.max(0, count.resetsAt - Date.now()),
    });
  };

  /** Sends the client's count now and answers with what Redis says. */
  const answerOnceSent = (key: string, count: Count, cb: Answer) => {
    void send(key, count).then(() => {
      if (failure === undefined) answer(count, cb);
      else cb(failure);
    });
  };

  /** A client new to this window here: Redis counts this request and says where the client stands. */
  const first = (key: string, cb: Answer) => {
    const count: Count = { shared: 0, sending: 0, unsent: 1, resetsAt: Date.now() + windowMs };
    // Beyond the bound, the client is counted in Redis alone, a round trip per request.
    if (counts.size < MAX_LOCAL_CLIENTS) counts.set(key, count);
    answerOnceSent(key, count, cb);
  };

  class SharedStore {
    constructor(params: { timeWindow?: unknown }) {
      if (typeof params.timeWindow === 'number') windowMs = params.timeWindow;
    }

    incr(key: string, cb: Answer, _timeWindow: number, max: number): void {
      if (failure !== undefined) {
        cb(failure);
        return;
      }
      const count = counts.get(key);
      if (count === undefined || count.resetsAt <= Date.now()) {
        first(key, cb);
        return;
      }
      // Refused already, as Redis said: refused until the window ends, without asking again.
      if (count.shared > max) {
        answer(count, cb);
        return;
      }
      count.unsent += 1;
      // Near the limit every request asks Redis, so the answer there is Redis's own: what
      // the other replicas counted since this one last heard (about a batch each) fits in
      // the margin below it.
      if (count.shared + count.sending + count.unsent > max - Math.ceil(max * EXACT_SHARE)) {
        answerOnceSent(key, count, cb);
        return;
      }
      if (count.sending === 0 && count.unsent >= Math.max(1, Math.floor(max * UNSENT_SHARE)))
        void send(key, count);
      else due.add(key);
      answer(count, cb);
    }

    read(key: string, cb: Answer): void {
      const count = counts.get(key);
      if (count === undefined) cb(null, { current: 0, ttl: 0 });
      else answer(count, cb);
    }

    /** Every route shares one count per client: no route sets a limit of its own. */
    child(): this {
      return this;
    }
  }

  return {
    Store: SharedStore,
    /** How many clients this replica counts now. */
    clients: () => counts.size,
    /** Stops sending batches (one in flight still ends). */
    close: () => clearInterval(timer),
  };
}
