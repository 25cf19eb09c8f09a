import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApp, testConfig } from '../helpers/app.js';
import {
  createTestDatabase,
  createTestRedisPrefix,
  realServersAvailable,
  testRedisUrl,
} from '../helpers/servers.js';
import { TcpProxy } from '../helpers/tcp-proxy.js';
import { waitFor } from '../helpers/wait.js';

const metric = async (app: FastifyInstance, line: RegExp) =>
  (await app.inject({ method: 'GET', url: '/metrics' })).body.match(line)?.[1];

describe.runIf(realServersAvailable)('Redis failing under the service', () => {
  let app: FastifyInstance;
  let proxy: TcpProxy;
  let cleanup: () => Promise<void>;

  beforeAll(async () => {
    const database = await createTestDatabase();
    const redis = createTestRedisPrefix();
    const target = new URL(testRedisUrl);
    proxy = await TcpProxy.create({ host: target.hostname, port: Number(target.port || 6379) });
    app = await startApp(
      testConfig({
        DATABASE_URL: database.url,
        REDIS_URL: proxy.rewrite(testRedisUrl),
        REDIS_KEY_PREFIX: redis.prefix,
        REDIS_TIMEOUT_MS: '200',
      }),
    );
    cleanup = async () => {
      await database.drop();
      await redis.clear();
    };
  });

  afterAll(async () => {
    await app.close();
    await proxy.cut();
    await cleanup();
  });

  const names = async () =>
    (await app.inject({ method: 'GET', url: '/items' }))
      .json<{ name: string }[]>()
      .map((item) => item.name);

  it('answers every request correctly from the database while Redis is gone, then uses it again', async () => {
    await app.inject({ method: 'POST', url: '/items', payload: { name: 'before' } });
    await app.inject({ method: 'GET', url: '/items' });
    expect((await app.inject({ method: 'GET', url: '/items' })).headers['x-cache']).toBe('hit');

    await proxy.cut();
    for (const name of ['during 1', 'during 2']) {
      const created = await app.inject({ method: 'POST', url: '/items', payload: { name } });
      expect(created.statusCode).toBe(201);
      const read = await app.inject({ method: 'GET', url: '/items' });
      expect(read.statusCode).toBe(200);
      expect(read.headers['x-cache']).toBe('miss');
      expect(read.json<{ name: string }[]>().map((item) => item.name)).toContain(name);
    }
    const sale = await app.inject({ method: 'POST', url: '/decrement' });
    expect(sale.statusCode).toBe(200);
    expect(await metric(app, /^cache_fallback_active (\d+)/m)).toBe('1');
    expect(Number(await metric(app, /^cache_errors_total (\d+)/m))).toBeGreaterThanOrEqual(1);

    await proxy.restore();
    await waitFor('the cache to serve hits again', async () => {
      await app.inject({ method: 'GET', url: '/items' });
      return (await app.inject({ method: 'GET', url: '/items' })).headers['x-cache'] === 'hit';
    });
    expect(await names()).toEqual(['before', 'during 1', 'during 2']);
    expect(await metric(app, /^cache_fallback_active (\d+)/m)).toBe('0');
  });

  it('starts and serves with Redis unreachable from the start (a dead port)', async () => {
    const database = await createTestDatabase();
    const lonely = await startApp(
      testConfig({ DATABASE_URL: database.url, REDIS_URL: 'redis://127.0.0.1:1' }),
    );
    try {
      expect((await lonely.inject({ method: 'GET', url: '/readyz' })).statusCode).toBe(200);
      const created = await lonely.inject({
        method: 'POST',
        url: '/items',
        payload: { name: 'x' },
      });
      expect(created.statusCode).toBe(201);
      const read = await lonely.inject({ method: 'GET', url: '/items' });
      expect({ status: read.statusCode, body: read.json<unknown>() }).toEqual({
        status: 200,
        body: [created.json()],
      });
      expect((await lonely.inject({ method: 'GET', url: '/counter' })).statusCode).toBe(200);
    } finally {
      await lonely.close();
      await database.drop();
    }
  });

  it('loses nothing when Redis stops mid-load and comes back, then serves hits again', async () => {
    const created: number[] = [];
    const failures: string[] = [];
    let phase = 'before';
    const hits = async () =>
      Number(await metric(app, /^cache_lookups_total\{result="hit"\} (\d+)/m));
    // Eight clients writing and reading, bounded in time, across the whole outage.
    const until = Date.now() + 9000;
    const worker = async (id: number) => {
      for (let n = 0; Date.now() < until; n += 1) {
        const write = await app.inject({
          method: 'POST',
          url: '/items',
          payload: { name: `load ${id}-${n}` },
        });
        if (write.statusCode === 201) created.push(write.json<{ id: number }>().id);
        else failures.push(`${phase} POST ${write.statusCode}`);
        const read = await app.inject({ method: 'GET', url: '/items?limit=50' });
        if (read.statusCode !== 200) failures.push(`${phase} GET ${read.statusCode}`);
      }
    };
    const load = Promise.all(Array.from({ length: 8 }, (_, id) => worker(id)));
    await new Promise((resolve) => setTimeout(resolve, 3000));
    phase = 'during';
    await proxy.cut();
    await new Promise((resolve) => setTimeout(resolve, 3000));
    phase = 'after';
    await proxy.restore();
    await load;

    expect(failures).toEqual([]);
    expect(created.length).toBeGreaterThan(100);
    for (const id of created)
      expect((await app.inject({ method: 'GET', url: `/items/${id}` })).statusCode).toBe(200);
    const before = await hits();
    await waitFor('the cache to serve hits again', async () => {
      await app.inject({ method: 'GET', url: '/items?limit=50' });
      return (await hits()) > before;
    });
    expect(await metric(app, /^cache_fallback_active (\d+)/m)).toBe('0');
  }, 60_000);
});
