import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApp, testConfig } from '../helpers/app.js';
import { expectError } from '../helpers/http.js';
import { waitFor } from '../helpers/wait.js';

/** Keeps the event loop busy for about `totalMs`, in `sliceMs` turns, as real overload does. */
async function overload(totalMs: number, sliceMs: number): Promise<void> {
  const end = Date.now() + totalMs;
  while (Date.now() < end) {
    const sliceEnd = Date.now() + sliceMs;
    while (Date.now() < sliceEnd) {
      // busy: no timer or I/O callback runs meanwhile
    }
    await new Promise((resolve) => setImmediate(resolve));
  }
}

describe('load shedding', () => {
  let app: FastifyInstance;
  beforeAll(async () => {
    app = await startApp(testConfig({ MAX_EVENT_LOOP_DELAY_MS: '100' }));
  });
  afterAll(() => app.close());

  it('answers app routes 503 with Retry-After while overloaded, keeps probes up, then recovers', async () => {
    // Past the two samples after readiness that never shed (start-up work is not overload).
    await new Promise((resolve) => setTimeout(resolve, 2100));
    expect((await app.inject({ method: 'GET', url: '/items' })).statusCode).toBe(200);
    // Two full one-second samples of a loop that answers once every 300 ms.
    await overload(2200, 300);
    const shed = await app.inject({ method: 'GET', url: '/items' });
    expectError(shed, 503, /overloaded/);
    expect(shed.headers['retry-after']).toBe('5');
    for (const url of ['/healthz', '/readyz', '/status'])
      expect((await app.inject({ method: 'GET', url })).statusCode).toBe(200);
    expect((await app.inject({ method: 'GET', url: '/metrics' })).body).toMatch(
      /^http_requests_shed_total\{reason="event_loop"\} [1-9]/m,
    );
    // The next quiet sample lets requests through again.
    await waitFor(
      'requests to be served again',
      async () => (await app.inject({ method: 'GET', url: '/items' })).statusCode === 200,
      10_000,
    );
  });
});
