import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { resetData, serversBackend, startApp, testConfig } from '../helpers/app.js';
import { realServersAvailable } from '../helpers/servers.js';
import { openStream } from '../helpers/sse.js';

const STOCK = 300;

describe.runIf(realServersAvailable)('two replicas on one PostgreSQL and Redis', () => {
  let a: FastifyInstance;
  let b: FastifyInstance;
  let cleanup: () => Promise<void>;

  beforeAll(async () => {
    const provisioned = await serversBackend.provision();
    cleanup = provisioned.cleanup;
    const config = testConfig({ ...provisioned.env, COUNTER_INITIAL_STOCK: String(STOCK) });
    [a, b] = await Promise.all([startApp(config), startApp(config)]);
  });

  afterAll(async () => {
    await Promise.all([a.close(), b.close()]);
    await cleanup();
  });

  beforeEach(() => resetData(a));

  it('a POST on one is in the next GET on the other, whose cached page was invalidated', async () => {
    await b.inject({ method: 'GET', url: '/items' });
    expect((await b.inject({ method: 'GET', url: '/items' })).headers['x-cache']).toBe('hit');

    const created = await a.inject({ method: 'POST', url: '/items', payload: { name: 'from a' } });
    expect(created.statusCode).toBe(201);

    const read = await b.inject({ method: 'GET', url: '/items' });
    expect(read.statusCode).toBe(200);
    expect(read.headers['x-cache']).toBe('miss');
    expect(read.json()).toEqual([created.json()]);
  });

  it('200 concurrent decrements spread over both lower the counter by exactly 200', async () => {
    const replies = await Promise.all(
      Array.from({ length: 200 }, (_, i) =>
        (i % 2 === 0 ? a : b).inject({ method: 'POST', url: '/decrement' }),
      ),
    );
    expect(replies.map((reply) => reply.statusCode)).toEqual(Array<number>(200).fill(200));
    const values = replies.map((reply) => reply.json<{ counter: number }>().counter);
    expect(new Set(values).size).toBe(200);
    expect(Math.min(...values)).toBe(STOCK - 200);
    const [onA, onB] = await Promise.all([
      a.inject({ method: 'GET', url: '/counter' }),
      b.inject({ method: 'GET', url: '/counter' }),
    ]);
    expect([onA.json(), onB.json()]).toEqual([{ counter: STOCK - 200 }, { counter: STOCK - 200 }]);
  });

  it('at zero no decrement succeeds on either replica, and the counter stays at zero', async () => {
    await a.database.exec('UPDATE counters SET value = 10');
    const replies = await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        (i % 2 === 0 ? a : b).inject({ method: 'POST', url: '/decrement' }),
      ),
    );
    const statuses = replies.map((reply) => reply.statusCode);
    expect(statuses.filter((status) => status === 200)).toHaveLength(10);
    expect(statuses.filter((status) => status === 409)).toHaveLength(30);
    expect((await b.inject({ method: 'GET', url: '/counter' })).json()).toEqual({ counter: 0 });
  });

  it('an SSE client on one replica sees a sale made on the other', async () => {
    const address = await b.listen({ host: '127.0.0.1', port: 0 });
    const stream = await openStream(`${address}/counter/events`);
    try {
      await stream.waitFor(STOCK);
      const sale = await a.inject({ method: 'POST', url: '/decrement' });
      expect(sale.json()).toEqual({ counter: STOCK - 1 });
      await stream.waitFor(STOCK - 1);
    } finally {
      await stream.close();
    }
  });
});
