import type { FastifyInstance } from 'fastify';
import { describe, expect, it } from 'vitest';
import { backends, startApp, testConfig, useApp } from '../helpers/app.js';
import { expectError } from '../helpers/http.js';

const json = { 'content-type': 'application/json' };

describe.each(backends)('HTTP errors on $name', (backend) => {
  const ctx = useApp(backend);

  const postItems = (payload: string, headers: Record<string, string> = json) =>
    ctx.app.inject({ method: 'POST', url: '/items', headers, payload });

  /** Runs `work` against an extra ctx.app built with these settings, and always closes it. */
  async function withApp(overrides: Record<string, string>, work: (a: FastifyInstance) => unknown) {
    const extra = await startApp(testConfig({ ...ctx.env, ...overrides }));
    try {
      await work(extra);
    } finally {
      await extra.close();
    }
  }

  describe('request bodies', () => {
    it.each(['{"name":"a"', '{name:"a"}', 'not json', '{"name":"a"}}'])(
      'answers 400 to the malformed JSON %j',
      async (payload) => {
        expectError(await postItems(payload), 400);
      },
    );

    it.each(['application/x-www-form-urlencoded', 'application/xml'])(
      'answers 415 to the content type %s',
      async (type) => {
        expectError(await postItems('name=x', { 'content-type': type }), 415);
      },
    );

    it('answers 415 to a text/plain body', async () => {
      expectError(await postItems('name=x', { 'content-type': 'text/plain' }), 415);
    });

    it('answers 413 to a body over the default limit of 16384 bytes', async () => {
      const payload = JSON.stringify({ name: 'x'.repeat(16_384) });
      expectError(await postItems(payload), 413);
    });

    it('answers 413 to a body over a configured limit', async () => {
      await withApp({ BODY_LIMIT_BYTES: '1024' }, async (small) => {
        const over = JSON.stringify({ name: 'x'.repeat(1100) });
        const under = JSON.stringify({ name: 'x'.repeat(100) });
        const headers = json;
        const tooLarge = await small.inject({
          method: 'POST',
          url: '/items',
          headers,
          payload: over,
        });
        expectError(tooLarge, 413);
        const fine = await small.inject({ method: 'POST', url: '/items', headers, payload: under });
        expect(fine.statusCode).toBe(201);
      });
    });

    it('accepts an empty JSON body on POST /decrement', async () => {
      const res = await ctx.app.inject({ method: 'POST', url: '/decrement', headers: json });
      expect({ status: res.statusCode, body: res.json<unknown>() }).toEqual({
        status: 200,
        body: { counter: 999 },
      });
      expect(res.headers['x-request-id']).toBeTruthy();
    });

    it('answers 400 to an empty JSON body on PUT /hello/alice', async () => {
      const res = await ctx.app.inject({ method: 'PUT', url: '/hello/alice', headers: json });
      expectError(res, 400);
    });

    it.each([
      '{"__proto__":{"x":1},"name":"a"}',
      '{"name":"a","constructor":{"prototype":{"x":1}}}',
    ])('answers 400, not 500, to prototype poisoning %s', async (payload) => {
      expectError(await postItems(payload), 400);
      const list = await ctx.app.inject({ method: 'GET', url: '/items' });
      expect(list.json<unknown>()).toEqual([]);
    });

    it('answers 400, not 500, to a name holding a NUL character', async () => {
      expectError(await postItems('{"name":"a\\u0000b"}'), 400);
    });
  });

  describe('routes', () => {
    it('answers 404 naming an unknown route', async () => {
      const res = await ctx.app.inject({ method: 'GET', url: '/no/such/route?x=1' });
      expect(expectError(res, 404)).toContain('GET /no/such/route');
    });

    it.each([
      ['DELETE', '/counter'],
      ['PATCH', '/items'],
    ] as const)('answers 404 to %s on the known path %s', async (method, url) => {
      const res = await ctx.app.inject({ method, url });
      expect(expectError(res, 404)).toContain(`${method} ${url}`);
    });

    it.each(['/items/%zz', '/hello/%', '/%C0%AF'])(
      'answers 400 in the error shape to the malformed URL %s',
      async (url) => {
        const res = await ctx.app.inject({ method: 'GET', url });
        expect(expectError(res, 400)).toContain('not a valid url component');
      },
    );

    it.each(['/items/100000000000000000000', '/items?after=100000000000000000000'])(
      'answers 4xx, not 500, to the out-of-range id in %s',
      async (url) => {
        const res = await ctx.app.inject({ method: 'GET', url });
        expect([400, 404]).toContain(res.statusCode);
        expectError(res, res.statusCode);
      },
    );
  });

  describe('what an error quotes back', () => {
    const long = 'x'.repeat(5000);
    it.each([
      ['an unknown path', { method: 'GET' as const, url: `/${long}` }],
      ['a malformed path', { method: 'GET' as const, url: `/items/%zz${long}` }],
      ['an unknown property', { method: 'POST' as const, url: '/items', payload: `{"${long}":1}` }],
      ['broken JSON', { method: 'POST' as const, url: '/items', payload: `{"name":${long}` }],
    ])('quotes no more than the start of %s', async (_what, request) => {
      const res = await ctx.app.inject({ ...request, headers: json });
      expect(res.statusCode).toBeGreaterThanOrEqual(400);
      expect(res.statusCode).toBeLessThan(500);
      const message = expectError(res, res.statusCode);
      expect(message.length, message).toBeLessThanOrEqual(200);
      expect(res.headers['x-content-type-options']).toBe('nosniff');
    });
  });

  describe('rate limiting', () => {
    it('answers 429 to the third request in the window, never on /healthz', async () => {
      await withApp({ RATE_LIMIT_MAX: '2', RATE_LIMIT_WINDOW_MS: '60000' }, async (limited) => {
        const get = (url: string) => limited.inject({ method: 'GET', url });
        expect((await get('/items')).statusCode).toBe(200);
        expect((await get('/items')).statusCode).toBe(200);
        const third = await get('/items');
        expectError(third, 429);
        expect(third.headers['retry-after']).toMatch(/^\d+$/);
        for (let i = 0; i < 5; i++) {
          const health = await get('/healthz');
          expect({ status: health.statusCode, body: health.json<unknown>() }).toEqual({
            status: 200,
            body: { status: 'ok' },
          });
          expect(health.headers['x-request-id']).toBeTruthy();
        }
      });
    });

    it('is off in the default test settings', async () => {
      for (let i = 0; i < 5; i++) {
        const res = await ctx.app.inject({ method: 'GET', url: '/items' });
        expect(res.statusCode).toBe(200);
      }
    });
  });
});
