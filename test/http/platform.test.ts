import { describe, expect, it } from 'vitest';
import { backends, startApp, testConfig, useApp } from '../helpers/app.js';

describe.each(backends)('platform endpoints on $name', (backend) => {
  const ctx = useApp(backend, { GIT_REVISION: 'abc1234' });

  it('GET /status reports version, revision, replica, uptime and readiness', async () => {
    const res = await ctx.app.inject({ method: 'GET', url: '/status' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({
      status: 'ok',
      version: expect.stringMatching(/^\d+\.\d+\.\d+/) as string,
      revision: 'abc1234',
      hostname: expect.any(String) as string,
      uptimeSeconds: expect.any(Number) as number,
      ready: true,
      database: expect.stringMatching(/^(pglite|postgres)$/) as string,
      cache: expect.stringMatching(/^(memory|redis)$/) as string,
    });
  });

  it('GET /healthz and /readyz answer 200 while serving', async () => {
    const [health, ready] = await Promise.all([
      ctx.app.inject({ method: 'GET', url: '/healthz' }),
      ctx.app.inject({ method: 'GET', url: '/readyz' }),
    ]);
    expect({ status: health.statusCode, body: health.json<unknown>() }).toEqual({
      status: 200,
      body: { status: 'ok' },
    });
    expect({ status: ready.statusCode, body: ready.json<unknown>() }).toEqual({
      status: 200,
      body: { status: 'ready' },
    });
  });

  it('GET /metrics exposes route, cache, pool, event-loop and process metrics', async () => {
    await ctx.app.inject({ method: 'GET', url: '/items' });
    await ctx.app.inject({ method: 'GET', url: '/items' });
    const res = await ctx.app.inject({ method: 'GET', url: '/metrics' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain/);
    for (const line of [
      /^http_requests_total\{method="GET",route="\/items",status_code="200"\} \d+/m,
      /^http_request_duration_seconds_bucket\{le="0\.005",method="GET",route="\/items",status_code="200"\} \d+/m,
      /^cache_lookups_total\{result="hit"\} [1-9]/m,
      /^cache_lookups_total\{result="miss"\} [1-9]/m,
      /^db_pool_connections\{state="total"\} \d+/m,
      /^nodejs_eventloop_lag_seconds \d/m,
      /^process_resident_memory_bytes \d+/m,
      /^cameras_in_stock \d+/m,
      /^service_ready 1$/m,
      /^shipshape_build_info\{version="\d+\.\d+\.\d+",revision="[^"]+"\} 1$/m,
      /^counter_event_delay_seconds_count \d+$/m,
    ]) {
      expect(res.body).toMatch(line);
    }
  });

  it('labels unmatched routes as one series, never by raw URL', async () => {
    // Letters, not digits: a digit string can turn up inside any metric's value.
    await ctx.app.inject({ method: 'GET', url: '/no/such/route/qwxz-probe' });
    const res = await ctx.app.inject({ method: 'GET', url: '/metrics' });
    expect(res.body).toMatch(/route="unmatched",status_code="404"/);
    expect(res.body).not.toContain('qwxz-probe');
  });

  it('GET /docs/json is an OpenAPI 3 document of every route, built from the schemas', async () => {
    const res = await ctx.app.inject({ method: 'GET', url: '/docs/json' });
    expect(res.statusCode).toBe(200);
    const doc = res.json<{ openapi: string; paths: Record<string, Record<string, unknown>> }>();
    expect(doc.openapi).toMatch(/^3\./);
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining([
        '/items',
        '/items/{id}',
        '/counter',
        '/decrement',
        '/reset',
        '/counter/events',
        '/hello/{username}',
        '/status',
        '/healthz',
        '/readyz',
        '/metrics',
      ]),
    );
    expect(Object.keys(doc.paths['/items'] ?? {})).toEqual(expect.arrayContaining(['get', 'post']));
  });

  it('GET /docs serves the browsable UI', async () => {
    const res = await ctx.app.inject({ method: 'GET', url: '/docs/' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/html/);
    expect(res.body).toContain('swagger');
  });

  it('sends security headers and a request id on every response', async () => {
    const res = await ctx.app.inject({ method: 'GET', url: '/status' });
    expect(res.headers).toMatchObject({
      'x-content-type-options': 'nosniff',
      'x-frame-options': 'SAMEORIGIN',
      'strict-transport-security': expect.stringContaining('max-age=') as string,
      'content-security-policy': expect.stringContaining("default-src 'self'") as string,
      'x-request-id': expect.stringMatching(/^[\w-]{8,}$/) as string,
    });
  });

  it('lets pages load scripts, styles and fonts from this origin only, over HTTP too', async () => {
    const res = await ctx.app.inject({ method: 'GET', url: '/status' });
    const policy = Object.fromEntries(
      String(res.headers['content-security-policy'])
        .split(';')
        .map((directive) => directive.trim().split(/\s+/))
        .map(([name = '', ...values]) => [name, values.join(' ')]),
    );
    expect(policy).toMatchObject({
      'default-src': "'self'",
      'script-src': "'self'",
      'style-src': "'self' 'unsafe-inline'",
      'font-src': "'self' data:",
      'object-src': "'none'",
    });
    expect(policy).not.toHaveProperty('upgrade-insecure-requests');
  });
});

describe('draining', () => {
  it('turns readiness to 503 while liveness stays 200', async () => {
    const app = await startApp(testConfig());
    try {
      app.lifecycle.beginDrain();
      const [health, ready, status, metrics] = await Promise.all(
        ['/healthz', '/readyz', '/status', '/metrics'].map((url) =>
          app.inject({ method: 'GET', url }),
        ),
      );
      expect(health?.statusCode).toBe(200);
      expect({ status: ready?.statusCode, body: ready?.json<unknown>() }).toEqual({
        status: 503,
        body: { statusCode: 503, error: 'Service Unavailable', message: 'Draining: shutting down' },
      });
      expect(status?.json()).toMatchObject({ ready: false });
      expect(metrics?.body).toMatch(/^service_ready 0$/m);
      // Keep-alive clients are told to reconnect, to a replica that is not leaving.
      expect(health?.headers.connection).toBe('close');
    } finally {
      await app.close();
    }
  });
});
