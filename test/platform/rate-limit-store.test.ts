import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { sharedRateLimitStore, SYNC_INTERVAL_MS } from '../../src/platform/rate-limit-store.js';
import { freePort } from '../helpers/ports.js';
import { createTestRedisPrefix, realServersAvailable } from '../helpers/servers.js';

type Store = InstanceType<ReturnType<typeof sharedRateLimitStore>['Store']>;

/** One replica's view: its store and the Redis calls it made. */
function replica(url: string, prefix: string, windowMs: number) {
  const redis = new Redis(url, { enableAutoPipelining: true, maxRetriesPerRequest: 0 });
  redis.on('error', () => undefined);
  const shared = sharedRateLimitStore(redis, prefix);
  const calls = vi.spyOn(redis, 'rateLimitAdd');
  const store: Store = new shared.Store({ timeWindow: windowMs });
  const incr = (key: string, max: number) =>
    new Promise<{ allowed: boolean; failed: boolean }>((resolve) =>
      store.incr(
        key,
        (error, result) =>
          resolve({
            allowed: error !== null || (result?.current ?? 0) <= max,
            failed: error !== null,
          }),
        windowMs,
        max,
      ),
    );
  return {
    incr,
    calls: () => calls.mock.calls.length,
    async close() {
      shared.close();
      await redis.quit().catch(() => redis.disconnect());
    },
  };
}

const settle = () => new Promise((resolve) => setTimeout(resolve, SYNC_INTERVAL_MS * 2));

describe.runIf(realServersAvailable)('the shared rate limit store', () => {
  const redis = createTestRedisPrefix();
  let a: ReturnType<typeof replica>;
  let b: ReturnType<typeof replica>;
  beforeAll(() => {
    a = replica(redis.url, redis.prefix, 60_000);
    b = replica(redis.url, redis.prefix, 60_000);
  });
  afterAll(async () => {
    await Promise.all([a.close(), b.close()]);
    await redis.clear();
  });

  it('admits the limit across replicas taken in turn, and at most one more per replica', async () => {
    const max = 50;
    const answers = [];
    for (let i = 0; i < max + 10; i += 1) {
      answers.push(await (i % 2 ? b : a).incr('turns', max));
      // As requests over HTTP do, each arrives in an I/O turn of its own.
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
    const allowed = answers.filter((answer) => answer.allowed).length;
    expect(allowed).toBeGreaterThanOrEqual(max);
    expect(allowed).toBeLessThanOrEqual(max + 2);
    expect(answers.slice(-5).every((answer) => !answer.allowed)).toBe(true);
  });

  it('asks Redis about once per batch, not once per request, far from the limit', async () => {
    const before = a.calls();
    for (let i = 0; i < 1000; i += 1) expect((await a.incr('busy', 1_000_000)).allowed).toBe(true);
    await settle();
    // The first request waits for Redis; the rest go in a batch every SYNC_INTERVAL_MS.
    expect(a.calls() - before).toBeLessThan(20);
  });

  it('sends what it counted alone, so another replica sees it', async () => {
    for (let i = 0; i < 10; i += 1) await a.incr('seen', 1000);
    await settle();
    const admin = new Redis(redis.url);
    try {
      expect(await admin.get(`${redis.prefix}seen`)).toBe('10');
    } finally {
      await admin.quit();
    }
  });

  it('refuses a client over the limit until its window ends, without asking Redis again', async () => {
    const max = 5;
    for (let i = 0; i < max; i += 1) expect((await a.incr('flood', max)).allowed).toBe(true);
    expect((await a.incr('flood', max)).allowed).toBe(false);
    const before = a.calls();
    for (let i = 0; i < 500; i += 1) expect((await a.incr('flood', max)).allowed).toBe(false);
    expect(a.calls()).toBe(before);
  });

  it('starts a new window when the old one ends', async () => {
    const short = replica(redis.url, redis.prefix, 300);
    try {
      for (let i = 0; i < 3; i += 1) await short.incr('windows', 3);
      expect((await short.incr('windows', 3)).allowed).toBe(false);
      await new Promise((resolve) => setTimeout(resolve, 400));
      expect((await short.incr('windows', 3)).allowed).toBe(true);
    } finally {
      await short.close();
    }
  });
});

describe('the shared rate limit store with Redis unreachable', () => {
  it('lets every request through and says why (fail-open)', async () => {
    const down = replica(`redis://127.0.0.1:${await freePort()}`, 'down:', 60_000);
    try {
      for (let i = 0; i < 10; i += 1)
        expect(await down.incr('anyone', 2)).toEqual({ allowed: true, failed: true });
    } finally {
      await down.close();
    }
  });
});
