import type { LightMyRequestResponse } from 'fastify';
import { describe, expect, it } from 'vitest';
import { backends, useApp } from '../helpers/app.js';
import { expectError } from '../helpers/http.js';

const STOCK = 30;
const SMALL_STOCK = 5;
const ADMIN_TOKEN = 'test-admin-token-0123456789';
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

/** A JSON answer with its status and body, carrying the request id. */
function expectJson(res: LightMyRequestResponse, statusCode: number, body: unknown): void {
  expect({ status: res.statusCode, body: res.json<unknown>() }).toEqual({
    status: statusCode,
    body,
  });
  expect(res.headers['content-type']).toMatch(/^application\/json/);
  expect(res.headers['x-request-id']).toEqual(expect.any(String));
}

const counterValue = (res: LightMyRequestResponse) => res.json<{ counter: number }>().counter;

/** The value of an unlabelled metric in the Prometheus text, or undefined. */
function metric(text: string, name: string): number | undefined {
  const match = new RegExp(`^${name} (\\S+)$`, 'm').exec(text);
  return match?.[1] === undefined ? undefined : Number(match[1]);
}

describe.each(backends)('counter on $name', (backend) => {
  const ctx = useApp(backend, { COUNTER_INITIAL_STOCK: String(STOCK), ADMIN_TOKEN });

  const get = () => ctx.app.inject({ method: 'GET', url: '/counter' });
  const decrement = () => ctx.app.inject({ method: 'POST', url: '/decrement' });

  it('GET /counter answers the initial stock', async () => {
    expectJson(await get(), 200, { counter: STOCK });
  });

  it('POST /decrement sells one camera, and GET agrees', async () => {
    expectJson(await decrement(), 200, { counter: STOCK - 1 });
    expectJson(await get(), 200, { counter: STOCK - 1 });
    expectJson(await decrement(), 200, { counter: STOCK - 2 });
    expectJson(await get(), 200, { counter: STOCK - 2 });
  });

  it('POST /decrement accepts a JSON content type with an empty body', async () => {
    const res = await ctx.app.inject({
      method: 'POST',
      url: '/decrement',
      headers: { 'content-type': 'application/json' },
    });
    expectJson(res, 200, { counter: STOCK - 1 });
  });

  it('N concurrent decrements lower it by exactly N, each seeing a distinct value', async () => {
    const n = 20;
    const batches = async () => {
      const text = (await ctx.app.inject({ method: 'GET', url: '/metrics' })).body;
      return {
        sales: metric(text, 'counter_sale_batch_size_sum') ?? 0,
        statements: metric(text, 'counter_sale_batch_size_count') ?? 0,
      };
    };
    const before = await batches();
    const responses = await Promise.all(Array.from({ length: n }, decrement));
    expect(responses.map((res) => res.statusCode)).toEqual(Array<number>(n).fill(200));
    const values = responses.map(counterValue).sort((a, b) => a - b);
    expect(values).toEqual(Array.from({ length: n }, (_, i) => STOCK - n + i));
    expectJson(await get(), 200, { counter: STOCK - n });
    // Those that arrived while a statement was in flight went together in the next one.
    const after = await batches();
    expect(after.sales - before.sales).toBe(n);
    expect(after.statements - before.statements).toBeLessThanOrEqual(n / 2);
  });

  describe('PUT /reset with ADMIN_TOKEN configured', () => {
    it('puts the stock back with the right bearer token', async () => {
      await decrement();
      await decrement();
      const res = await ctx.app.inject({
        method: 'PUT',
        url: '/reset',
        headers: bearer(ADMIN_TOKEN),
      });
      expectJson(res, 200, { counter: STOCK });
      expectJson(await get(), 200, { counter: STOCK });
    });

    it('refuses without an Authorization header: 401 with www-authenticate', async () => {
      await decrement();
      const res = await ctx.app.inject({ method: 'PUT', url: '/reset' });
      expectError(res, 401, /admin token/i);
      expect(res.headers['www-authenticate']).toMatch(/^Bearer /);
      expectJson(await get(), 200, { counter: STOCK - 1 });
    });

    it.each([
      ['a wrong token', bearer('wrong-token-0123456789abc')],
      ['a token prefix', bearer(ADMIN_TOKEN.slice(0, -1))],
      ['another scheme', { authorization: `Basic ${ADMIN_TOKEN}` }],
      ['the bare token', { authorization: ADMIN_TOKEN }],
    ])('refuses %s with 401', async (_case, headers) => {
      await decrement();
      const res = await ctx.app.inject({ method: 'PUT', url: '/reset', headers });
      expectError(res, 401, /admin token/i);
      expect(res.headers['www-authenticate']).toMatch(/^Bearer /);
      expectJson(await get(), 200, { counter: STOCK - 1 });
    });
  });

  it('GET /metrics counts the cameras sold and shows the stock', async () => {
    const before = metric(
      (await ctx.app.inject({ method: 'GET', url: '/metrics' })).body,
      'cameras_sold_total',
    );
    expect(before).toEqual(expect.any(Number));
    for (let i = 0; i < 3; i++) expect((await decrement()).statusCode).toBe(200);
    // The stock gauge follows the database's change notifications, which arrive asynchronously.
    const deadline = Date.now() + 5000;
    let res = await ctx.app.inject({ method: 'GET', url: '/metrics' });
    while (metric(res.body, 'cameras_in_stock') !== STOCK - 3 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      res = await ctx.app.inject({ method: 'GET', url: '/metrics' });
    }
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain/);
    expect(metric(res.body, 'cameras_sold_total')).toBe((before ?? NaN) + 3);
    expect(metric(res.body, 'cameras_in_stock')).toBe(STOCK - 3);
  });

  describe(`with a stock of ${SMALL_STOCK} and no ADMIN_TOKEN`, () => {
    const small = useApp(backend, { COUNTER_INITIAL_STOCK: String(SMALL_STOCK) });
    const sell = () => small.app.inject({ method: 'POST', url: '/decrement' });

    it('refuses to sell at 0 with 409 and stays at 0', async () => {
      for (let left = SMALL_STOCK - 1; left >= 0; left--)
        expectJson(await sell(), 200, { counter: left });
      for (let i = 0; i < 3; i++) expectError(await sell(), 409, /sold out/i);
      expectJson(await small.app.inject({ method: 'GET', url: '/counter' }), 200, { counter: 0 });
    });

    it('never oversells under concurrent decrements', async () => {
      const responses = await Promise.all(Array.from({ length: 12 }, sell));
      const ok = responses.filter((res) => res.statusCode === 200);
      const refused = responses.filter((res) => res.statusCode === 409);
      expect({ ok: ok.length, refused: refused.length }).toEqual({ ok: SMALL_STOCK, refused: 7 });
      expect(ok.map(counterValue).sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4]);
      for (const res of refused) expectError(res, 409, /sold out/i);
      expectJson(await small.app.inject({ method: 'GET', url: '/counter' }), 200, { counter: 0 });
    });

    it('PUT /reset is open and puts the stock back', async () => {
      await sell();
      await sell();
      expectJson(await small.app.inject({ method: 'PUT', url: '/reset' }), 200, {
        counter: SMALL_STOCK,
      });
      expectJson(await small.app.inject({ method: 'GET', url: '/counter' }), 200, {
        counter: SMALL_STOCK,
      });
    });
  });
});
