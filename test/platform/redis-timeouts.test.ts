import { spawn, type ChildProcess } from 'node:child_process';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRedisCache } from '../../src/platform/cache/redis.js';
import type { Cache } from '../../src/platform/cache/types.js';
import { freePort } from '../helpers/ports.js';
import { realServersAvailable } from '../helpers/servers.js';
import { waitFor } from '../helpers/wait.js';

// A private redis-server: pausing the shared one would slow every other test file.
async function startPrivateRedis(): Promise<{ url: string; process: ChildProcess }> {
  const port = await freePort();
  const child = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    {
      stdio: 'ignore',
    },
  );
  const url = `redis://127.0.0.1:${port}`;
  await waitFor('the private redis-server', async () => {
    const client = new Redis(url, { lazyConnect: true, retryStrategy: () => null });
    client.on('error', () => undefined);
    const ok = await client.connect().then(
      () => true,
      () => false,
    );
    client.disconnect();
    return ok;
  });
  return { url, process: child };
}

describe.runIf(realServersAvailable)('redis cache when Redis stalls without disconnecting', () => {
  let redis: { url: string; process: ChildProcess };
  let admin: Redis;
  let cache: Cache;
  const events: string[] = [];

  beforeAll(async () => {
    redis = await startPrivateRedis();
    admin = new Redis(redis.url);
    cache = await createRedisCache(
      { url: redis.url, keyPrefix: 't:', ttlSeconds: 60, timeoutMs: 200 },
      {
        lookup: () => undefined,
        unavailable: () => events.push('unavailable'),
        recovered: () => events.push('recovered'),
      },
    );
  });

  afterAll(async () => {
    await cache.close();
    admin.disconnect();
    redis.process.kill();
  });

  it('bypasses the cache while commands time out, then re-sends the missed invalidation', async () => {
    const before = await cache.get('items', 'page');
    await cache.set('items', before.generation ?? '', 'page', 'cached before the write');
    expect((await cache.get('items', 'page')).value?.toString()).toBe('cached before the write');

    await admin.call('CLIENT', 'PAUSE', '1000', 'ALL');
    await cache.invalidate('items'); // a write happens; its invalidation times out
    expect(events).toEqual(['unavailable']);
    expect(await cache.get('items', 'page')).toEqual({ value: undefined, generation: undefined });

    await waitFor('the cache to recover', async () => {
      await cache.get('items', 'page');
      return events.includes('recovered');
    });
    // The page cached before the write is never served again.
    expect((await cache.get('items', 'page')).value).toBeUndefined();
  });
});
