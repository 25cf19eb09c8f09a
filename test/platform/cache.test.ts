import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMemoryCache } from '../../src/platform/cache/memory.js';
import { createRedisCache } from '../../src/platform/cache/redis.js';
import type { Cache, CacheObserver } from '../../src/platform/cache/types.js';
import { createTestRedisPrefix, realServersAvailable } from '../helpers/servers.js';

function recordingObserver() {
  const events: string[] = [];
  const observer: CacheObserver = {
    lookup: (result) => events.push(result),
    unavailable: () => events.push('unavailable'),
    recovered: () => events.push('recovered'),
  };
  return { events, observer };
}

/** The contract both caches keep; Redis additionally shares it between replicas. */
function behavesLikeACache(create: (observer: CacheObserver) => Promise<Cache>) {
  let cache: Cache;
  let events: string[];

  beforeAll(async () => {
    const recording = recordingObserver();
    events = recording.events;
    cache = await create(recording.observer);
  });
  afterAll(() => cache.close());

  it('misses, then hits what was stored under the looked-up generation', async () => {
    const first = await cache.get('ns1', 'k');
    expect(first.value).toBeUndefined();
    await cache.set('ns1', first.generation ?? '', 'k', 'v1');
    expect((await cache.get('ns1', 'k')).value?.toString()).toBe('v1');
    expect(events.slice(-2)).toEqual(['miss', 'hit']);
  });

  it('makes values unreachable after invalidate', async () => {
    const lookup = await cache.get('ns2', 'k');
    await cache.set('ns2', lookup.generation ?? '', 'k', 'old');
    await cache.invalidate('ns2');
    expect((await cache.get('ns2', 'k')).value).toBeUndefined();
  });

  it('never serves a value computed before an invalidation that raced it', async () => {
    const lookup = await cache.get('ns3', 'k'); // a reader starts...
    await cache.invalidate('ns3'); // ...a write commits and invalidates...
    await cache.set('ns3', lookup.generation ?? '', 'k', 'stale'); // ...the reader stores late
    expect((await cache.get('ns3', 'k')).value).toBeUndefined();
  });

  it('keeps namespaces apart', async () => {
    const lookup = await cache.get('ns4', 'k');
    await cache.set('ns4', lookup.generation ?? '', 'k', 'four');
    await cache.invalidate('ns5');
    expect((await cache.get('ns4', 'k')).value?.toString()).toBe('four');
  });
}

describe('memory cache', () => {
  behavesLikeACache(async (observer) =>
    createMemoryCache({ maxEntries: 100, maxBytes: 1_000_000, ttlSeconds: 60 }, observer),
  );

  it('evicts the least recently used entry beyond its size', async () => {
    const cache = createMemoryCache(
      { maxEntries: 2, maxBytes: 1_000_000, ttlSeconds: 60 },
      recordingObserver().observer,
    );
    for (const key of ['a', 'b', 'c']) await cache.set('ns', '0', key, key);
    expect((await cache.get('ns', 'a')).value).toBeUndefined();
    expect((await cache.get('ns', 'c')).value?.toString()).toBe('c');
  });

  it('evicts the least recently used entries beyond its bytes, and keeps no value larger than all', async () => {
    const cache = createMemoryCache(
      { maxEntries: 100, maxBytes: 10_000, ttlSeconds: 60 },
      recordingObserver().observer,
    );
    // Values count by their bytes, keys two bytes a character (an upper bound): two fit.
    for (const key of ['a', 'b', 'c']) await cache.set('ns', '0', key, key.repeat(4000));
    expect((await cache.get('ns', 'a')).value).toBeUndefined();
    expect((await cache.get('ns', 'c')).value?.toString()).toHaveLength(4000);
    expect(cache.bytes).toBeLessThanOrEqual(10_000);
    await cache.set('ns', '0', 'huge', 'x'.repeat(12_000));
    expect((await cache.get('ns', 'huge')).value).toBeUndefined();
  });
});

describe.runIf(realServersAvailable)('redis cache', () => {
  const redis = createTestRedisPrefix();
  afterAll(() => redis.clear());
  const options = { url: redis.url, keyPrefix: redis.prefix, ttlSeconds: 60, timeoutMs: 500 };

  behavesLikeACache(async (observer) => {
    return createRedisCache(options, observer);
  });

  it('shares values and invalidations between replicas', async () => {
    const a = await createRedisCache(options, recordingObserver().observer);
    const b = await createRedisCache(options, recordingObserver().observer);
    try {
      const lookup = await a.get('shared', 'k');
      await a.set('shared', lookup.generation ?? '', 'k', 'from-a');
      expect((await b.get('shared', 'k')).value?.toString()).toBe('from-a');
      await b.invalidate('shared');
      expect((await a.get('shared', 'k')).value).toBeUndefined();
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  it('serves nothing stored before a write once Redis has evicted the generation', async () => {
    const cache = await createRedisCache(options, recordingObserver().observer);
    try {
      const { generation = '' } = await cache.get('evicted', 'k');
      await cache.set('evicted', generation, 'k', 'before the write');
      await cache.invalidate('evicted');
      // As maxmemory's eviction would, while the value is still within its TTL.
      const client = new Redis(redis.url);
      await client.del(`${redis.prefix}{cache:evicted}:generation`);
      await client.quit();
      expect((await cache.get('evicted', 'k')).value).toBeUndefined();
    } finally {
      await cache.close();
    }
  });

  it("expires each value at its TTL, even while the namespace's other values keep being written", async () => {
    const cache = await createRedisCache(
      { ...options, ttlSeconds: 1 },
      recordingObserver().observer,
    );
    try {
      const { generation = '' } = await cache.get('busy', 'first');
      await cache.set('busy', generation, 'first', 'v');
      const until = Date.now() + 2500;
      for (let i = 0; Date.now() < until; i += 1) {
        await cache.set('busy', generation, `other-${i}`, 'v');
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      expect((await cache.get('busy', 'first')).value).toBeUndefined();
    } finally {
      await cache.close();
    }
  });

  it('fails open when Redis cannot be reached: a miss with no generation, reported once', async () => {
    const { events, observer } = recordingObserver();
    const cache = await createRedisCache({ ...options, url: 'redis://127.0.0.1:1' }, observer);
    try {
      const lookup = await cache.get('ns', 'k');
      expect(lookup).toEqual({ value: undefined, generation: undefined });
      await cache.set('ns', '0', 'k', 'v');
      await cache.invalidate('ns');
      expect(events.filter((event) => event === 'unavailable')).toEqual(['unavailable']);
    } finally {
      await cache.close();
    }
  });
});
