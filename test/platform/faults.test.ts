import type { FastifyInstance } from 'fastify';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';
import { pgliteBackend, startApp, testConfig, useApp } from '../helpers/app.js';
import { expectError } from '../helpers/http.js';

const ADMIN_TOKEN = 'operator-token-0123456789';
const admin = { authorization: `Bearer ${ADMIN_TOKEN}` };
const NONE = { latencyMs: 0, errorRate: 0, sick: false };

describe('fault injection, off (the default)', () => {
  const ctx = useApp(pgliteBackend, { ADMIN_TOKEN });

  it('has no fault routes and leaves the app alone', async () => {
    const res = await ctx.app.inject({
      method: 'PUT',
      url: '/admin/faults',
      headers: admin,
      payload: NONE,
    });
    expectError(res, 404);
    expect((await ctx.app.inject({ method: 'GET', url: '/items' })).statusCode).toBe(200);
    expect((await ctx.app.inject({ method: 'GET', url: '/metrics' })).body).not.toContain(
      'fault_injection',
    );
  });

  it('cannot be turned on without an admin token', () => {
    expect(() => loadConfig({ FAULT_INJECTION: 'true' })).toThrow(ConfigError);
    expect(() => loadConfig({ FAULT_INJECTION: 'true' })).toThrow(
      /FAULT_INJECTION: needs ADMIN_TOKEN/,
    );
  });
});

describe('fault injection, on', () => {
  let app: FastifyInstance;
  const setFaults = (faults: object, headers: Record<string, string> = admin) =>
    app.inject({ method: 'PUT', url: '/admin/faults', headers, payload: faults });
  const getItems = () => app.inject({ method: 'GET', url: '/items' });

  beforeAll(async () => {
    app = await startApp(testConfig({ FAULT_INJECTION: 'true', ADMIN_TOKEN }));
  });
  afterEach(async () => {
    await setFaults(NONE);
  });
  afterAll(() => app.close());

  it('answers only the admin token', async () => {
    expectError(await setFaults({ ...NONE, sick: true }, {}), 401);
    expectError(
      await setFaults({ ...NONE, sick: true }, { authorization: 'Bearer wrong-token-wrong' }),
      401,
    );
    expectError(await app.inject({ method: 'GET', url: '/admin/faults' }), 401);
    expect((await getItems()).statusCode).toBe(200);
  });

  it.each([
    [{ ...NONE, latencyMs: -1 }],
    [{ ...NONE, errorRate: 1.5 }],
    [{ ...NONE, sick: 'yes' }],
    [{ latencyMs: 10 }],
    [{ ...NONE, extra: 1 }],
  ])('rejects %j with a 400', async (faults) => {
    expectError(await setFaults(faults), 400);
    expect(
      (await app.inject({ method: 'GET', url: '/admin/faults', headers: admin })).json(),
    ).toEqual(NONE);
  });

  it('makes a sick replica fail every app route while its probes and /status stay green', async () => {
    expect((await setFaults({ ...NONE, sick: true })).json()).toEqual({ ...NONE, sick: true });
    for (const url of ['/items', '/counter', '/hello/alice'])
      expectError(await app.inject({ method: 'GET', url }), 500, /sick \(fault injection\)/);
    expectError(await app.inject({ method: 'POST', url: '/decrement' }), 500);
    for (const url of ['/healthz', '/readyz', '/status'])
      expect((await app.inject({ method: 'GET', url })).statusCode).toBe(200);
    const metrics = (await app.inject({ method: 'GET', url: '/metrics' })).body;
    expect(metrics).toContain('fault_injection{fault="sick"} 1');
    await setFaults(NONE);
    expect((await getItems()).statusCode).toBe(200);
    expect((await app.inject({ method: 'GET', url: '/metrics' })).body).toContain(
      'fault_injection{fault="sick"} 0',
    );
  });

  it('fails about the share of requests it is told to', async () => {
    await setFaults({ ...NONE, errorRate: 1 });
    expectError(await getItems(), 500, /Injected failure/);
    await setFaults({ ...NONE, errorRate: 0.5 });
    let failed = 0;
    for (let i = 0; i < 200; i += 1) if ((await getItems()).statusCode === 500) failed += 1;
    // Binomial(200, 0.5): outside 60..140 happens about once in 10^8 runs.
    expect(failed).toBeGreaterThan(60);
    expect(failed).toBeLessThan(140);
  });

  it('adds latency to app routes and reports it', async () => {
    await setFaults({ ...NONE, latencyMs: 300 });
    const started = performance.now();
    expect((await getItems()).statusCode).toBe(200);
    // A lower bound only: a timer cannot fire early, however slow the machine.
    expect(performance.now() - started).toBeGreaterThanOrEqual(295);
    expect((await app.inject({ method: 'GET', url: '/metrics' })).body).toContain(
      'fault_injection{fault="latency_ms"} 300',
    );
  });
});
