import type { FastifyInstance } from 'fastify';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApp, testConfig } from '../helpers/app.js';
import { buildApp } from '../../src/app.js';
import { createTestDatabase, realServersAvailable } from '../helpers/servers.js';
import { openStream } from '../helpers/sse.js';
import { TcpProxy } from '../helpers/tcp-proxy.js';
import { waitFor } from '../helpers/wait.js';

const status = async (app: FastifyInstance, url: string) =>
  (await app.inject({ method: 'GET', url })).statusCode;

describe.runIf(realServersAvailable)('PostgreSQL unreachable', () => {
  let proxy: TcpProxy;
  let databaseUrl: string;
  let dropDatabase: () => Promise<void>;
  const config = () =>
    testConfig({ DATABASE_URL: proxy.rewrite(databaseUrl), DATABASE_TIMEOUT_MS: '1000' });

  beforeAll(async () => {
    const database = await createTestDatabase();
    databaseUrl = database.url;
    dropDatabase = database.drop;
    proxy = await TcpProxy.create(
      { host: '127.0.0.1', port: Number(new URL(databaseUrl).port) },
      false,
    );
  });

  afterAll(async () => {
    await proxy.cut();
    await dropDatabase();
  });

  it('at start-up: stays up, not ready, answers 503 with Retry-After, and becomes ready by itself', async () => {
    const app = await buildApp(config());
    await app.ready();
    try {
      expect(await status(app, '/healthz')).toBe(200);
      expect(await status(app, '/readyz')).toBe(503);
      const items = await app.inject({ method: 'GET', url: '/items' });
      expect({ status: items.statusCode, retryAfter: items.headers['retry-after'] }).toEqual({
        status: 503,
        retryAfter: '5',
      });
      expect(items.json()).toMatchObject({ statusCode: 503, error: 'Service Unavailable' });

      await proxy.restore();
      await waitFor(
        'readiness after the database came up',
        async () => (await status(app, '/readyz')) === 200,
        20_000,
      );
      expect((await app.inject({ method: 'GET', url: '/counter' })).json()).toEqual({
        counter: 1000,
      });
    } finally {
      await app.close();
    }
  });

  it('mid-flight: readiness and requests turn 503 quickly, then recover, losing no acknowledged write', async () => {
    await proxy.restore();
    const app = await startApp(config());
    const address = await app.listen({ host: '127.0.0.1', port: 0 });
    const stream = await openStream(`${address}/counter/events`);
    try {
      const before = await app.inject({ method: 'POST', url: '/items', payload: { name: 'kept' } });
      expect(before.statusCode).toBe(201);
      await stream.waitFor(1000);

      await proxy.cut();
      await waitFor('readiness to fail', async () => (await status(app, '/readyz')) === 503);
      // What the readiness alert reads: the scrape itself still answers.
      const metrics = await app.inject({ method: 'GET', url: '/metrics' });
      expect(metrics.statusCode).toBe(200);
      expect(metrics.body).toMatch(/^service_ready 0$/m);
      const write = await app.inject({ method: 'POST', url: '/items', payload: { name: 'lost' } });
      expect({ status: write.statusCode, retryAfter: write.headers['retry-after'] }).toEqual({
        status: 503,
        retryAfter: '5',
      });
      expect(await status(app, '/healthz')).toBe(200);

      await proxy.restore();
      await waitFor(
        'readiness to return',
        async () => (await status(app, '/readyz')) === 200,
        20_000,
      );
      const names = (await app.inject({ method: 'GET', url: '/items' }))
        .json<{ name: string }[]>()
        .map((item) => item.name);
      expect(names).toEqual(['kept']);

      // The LISTEN connection came back too: a sale still reaches the open stream.
      await waitFor('a sale to go through', async () => {
        return (await app.inject({ method: 'POST', url: '/decrement' })).statusCode === 200;
      });
      await stream.waitFor(999, 0, 15_000);
    } finally {
      await stream.close();
      await app.close();
    }
  });

  it('a statement over DATABASE_TIMEOUT_MS is a 503 with Retry-After, not a 500', async () => {
    const app = await startApp(
      testConfig({ DATABASE_URL: databaseUrl, DATABASE_TIMEOUT_MS: '300' }),
    );
    const blocker = new pg.Client({ connectionString: databaseUrl });
    await blocker.connect();
    try {
      await blocker.query('BEGIN');
      await blocker.query("SELECT value FROM counters WHERE name = 'cameras' FOR UPDATE");
      const sale = await app.inject({ method: 'POST', url: '/decrement' });
      expect({ status: sale.statusCode, retryAfter: sale.headers['retry-after'] }).toEqual({
        status: 503,
        retryAfter: '5',
      });
    } finally {
      await blocker.query('ROLLBACK');
      await blocker.end();
      await app.close();
    }
  });
});
