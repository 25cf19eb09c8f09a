import autocannon from 'autocannon';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../helpers/ports.js';
import { startService, type ServiceProcess } from '../helpers/process.js';
import {
  createTestDatabase,
  createTestRedisPrefix,
  realServersAvailable,
} from '../helpers/servers.js';
import { waitFor } from '../helpers/wait.js';

// Low, so a few hundred connections pass it on any machine; an idle loop is near 0 ms.
const MAX_EVENT_LOOP_DELAY_MS = 10;
// More and more connections until the service sheds, bounded in steps and in time.
const CONNECTION_STEPS = [250, 500, 1000, 2000];
const STEP_SECONDS = 4;

describe.runIf(realServersAvailable)('overload over real HTTP', () => {
  let service: ServiceProcess;
  const cleanups: (() => Promise<unknown>)[] = [];

  beforeAll(async () => {
    const database = await createTestDatabase();
    const redis = createTestRedisPrefix();
    cleanups.push(database.drop, redis.clear);
    service = await startService(
      {
        NODE_ENV: 'production',
        ADMIN_TOKEN: 'overload-admin-token-0123456789',
        DATABASE_URL: database.url,
        REDIS_URL: redis.url,
        REDIS_KEY_PREFIX: redis.prefix,
        RATE_LIMIT_MAX: '0',
        // One load generator is one client address; the replica-wide caps stay as shipped.
        HTTP_MAX_IN_FLIGHT_PER_CLIENT: '100000',
        MAX_EVENT_LOOP_DELAY_MS: String(MAX_EVENT_LOOP_DELAY_MS),
        LOG_LEVEL: 'warn',
      },
      await freePort(),
      { built: true },
    );
    cleanups.unshift(async () => {
      service.child.kill('SIGTERM');
      await service.exited;
    });
    // A full page of items, so each answer is real work.
    for (let n = 0; n < 100; n += 1)
      await fetch(`${service.baseUrl}/items`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ name: `item ${n}` }),
      });
  }, 60_000);

  afterAll(async () => {
    for (const cleanup of cleanups) await cleanup();
  }, 30_000);

  it('sheds with 503 + Retry-After beyond capacity, keeps its probes up, and recovers', async () => {
    const page = '/items?limit=100';
    const url = service.baseUrl + page;
    const statuses = new Map<number, number>();
    // Requests sent beside the load, whose headers and bodies the test reads.
    const sampled: { path: string; status: number; retryAfter: string | null; body: string }[] = [];
    let timeouts = 0;
    let connectionErrors = 0;

    for (const connections of CONNECTION_STEPS) {
      const run = new Promise<autocannon.Result>((resolve, reject) => {
        const options = { url, connections, duration: STEP_SECONDS, timeout: 10 };
        autocannon(options, (error: Error | null, result) =>
          error ? reject(error) : resolve(result),
        )
          .on('response', (_client, statusCode) =>
            statuses.set(statusCode, (statuses.get(statusCode) ?? 0) + 1),
          )
          .on('reqError', () => (connectionErrors += 1));
      });
      // Each second of the step: the probes a load balancer and an orchestrator ask, and
      // one more request for a page.
      const sampling = (async () => {
        for (let second = 1; second < STEP_SECONDS; second += 1) {
          await new Promise((resolve) => setTimeout(resolve, 1000));
          for (const path of ['/healthz', '/readyz', page]) {
            const response = await fetch(service.baseUrl + path);
            sampled.push({
              path,
              status: response.status,
              retryAfter: response.headers.get('retry-after'),
              body: await response.text(),
            });
          }
        }
      })();
      const result = await run;
      await sampling;
      timeouts += result.timeouts;
      if ((statuses.get(503) ?? 0) > 0) break;
    }

    // Beyond capacity it said so, and answered everything else.
    expect(statuses.get(503) ?? 0).toBeGreaterThan(0);
    expect([...statuses.keys()].filter((status) => status !== 200 && status !== 503)).toEqual([]);
    // No request was left waiting for ever, none was refused, and the process is still up.
    expect({ timeouts, connectionErrors }).toEqual({ timeouts: 0, connectionErrors: 0 });
    expect(service.child.exitCode).toBeNull();
    // The probes stayed green: a busy replica is not restarted or taken out for being busy.
    const probes = sampled.filter(({ path }) => path !== page);
    expect(probes.filter(({ status }) => status !== 200)).toEqual([]);
    // A shed request carries the error shape and says when to come back.
    for (const page of sampled.filter(({ status }) => status === 503))
      expect({ retryAfter: page.retryAfter, body: JSON.parse(page.body) as unknown }).toEqual({
        retryAfter: '5',
        body: {
          statusCode: 503,
          error: 'Service Unavailable',
          message: 'The service is overloaded; retry shortly',
        },
      });

    const metrics = await (await fetch(`${service.baseUrl}/metrics`)).text();
    const shedByReason = [...metrics.matchAll(/^http_requests_shed_total\{reason="\w+"\} (\d+)/gm)];
    expect(shedByReason.reduce((sum, [, count]) => sum + Number(count), 0)).toBeGreaterThan(0);
    expect(service.logs.some((line) => line.msg === 'overloaded: requests shed')).toBe(true);
    // Once the load is gone, the next quiet sample lets requests through again.
    await waitFor('requests to be served again', async () => (await fetch(url)).status === 200);
  }, 60_000);
});
