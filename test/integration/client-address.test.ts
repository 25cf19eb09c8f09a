import { request as httpRequest } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../helpers/ports.js';
import { startService, type ServiceProcess } from '../helpers/process.js';
import {
  createTestDatabase,
  createTestRedisPrefix,
  realServersAvailable,
} from '../helpers/servers.js';
import { waitFor } from '../helpers/wait.js';

const ADMIN_TOKEN = 'address-admin-token-0123456789';
const LIMIT = 3;
// The proxy stands at one loopback address, direct clients at others (Linux answers on all
// of 127.0.0.0/8).
const PROXY = '127.0.0.2';

/** A request from `from`, with the headers given; resolves with the status. */
function send(
  port: number,
  from: string,
  {
    method = 'GET',
    path = '/counter',
    headers = {},
  }: { method?: string; path?: string; headers?: Record<string, string> } = {},
): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({
      host: '127.0.0.1',
      port,
      path,
      method,
      headers,
      localAddress: from,
      agent: false,
    });
    req.on('response', (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject).end();
  });
}

/**
 * Two replicas on one PostgreSQL and Redis, trusting X-Forwarded-For from the proxy's
 * address only, with a small rate limit shared through Redis.
 */
describe.runIf(realServersAvailable)('client addresses and the shared rate limit', () => {
  const replicas: ServiceProcess[] = [];
  const ports: number[] = [];
  const cleanups: (() => Promise<unknown>)[] = [];

  beforeAll(async () => {
    const database = await createTestDatabase();
    const redis = createTestRedisPrefix();
    cleanups.push(database.drop, redis.clear);
    for (let i = 0; i < 2; i += 1) {
      const port = await freePort();
      ports.push(port);
      replicas.push(
        await startService(
          {
            DATABASE_URL: database.url,
            REDIS_URL: redis.url,
            REDIS_KEY_PREFIX: redis.prefix,
            ADMIN_TOKEN,
            TRUST_PROXY: PROXY,
            RATE_LIMIT_MAX: String(LIMIT),
            RATE_LIMIT_WINDOW_MS: '60000',
            SHUTDOWN_DRAIN_MS: '0',
            LOG_LEVEL: 'info',
          },
          port,
        ),
      );
    }
  });
  afterAll(async () => {
    for (const replica of replicas) replica.child.kill('SIGTERM');
    await Promise.all(replicas.map((replica) => replica.exited));
    for (const cleanup of cleanups) await cleanup();
  });

  const [a, b] = [0, 1];

  it('keys a direct client by its own address, whatever its X-Forwarded-For says, on every replica', async () => {
    const from = '127.0.0.11';
    const statuses: number[] = [];
    for (let i = 0; i < LIMIT + 2; i += 1) {
      // A new address claimed each time, and the replicas taken in turn.
      const port = ports[i % 2] ?? 0;
      statuses.push(await send(port, from, { headers: { 'x-forwarded-for': `203.0.113.${i}` } }));
    }
    expect(statuses).toEqual([200, 200, 200, 429, 429]);
  });

  it('keys each client behind the trusted proxy by the address the proxy gives', async () => {
    for (const client of ['198.51.100.1', '198.51.100.2']) {
      const statuses: number[] = [];
      for (let i = 0; i < LIMIT + 1; i += 1)
        statuses.push(
          await send(ports[i % 2] ?? 0, PROXY, { headers: { 'x-forwarded-for': client } }),
        );
      expect(statuses, client).toEqual([200, 200, 200, 429]);
    }
  });

  it('logs the real address in the audit line: the direct client its own, the proxied one the proxy gives', async () => {
    const replica = replicas[a];
    if (replica === undefined) throw new Error('no replica');
    const auditIps = async (from: string, forwardedFor: string) => {
      const before = replica.logs.length;
      expect(
        await send(ports[a] ?? 0, from, {
          method: 'PUT',
          path: '/reset',
          headers: {
            'x-forwarded-for': forwardedFor,
            authorization: 'Bearer wrong-token-0123456789',
          },
        }),
      ).toBe(401);
      await waitFor('the audit line', async () =>
        replica.logs.slice(before).some((line) => line.audit !== undefined),
      );
      return (
        replica.logs.slice(before).find((line) => line.audit !== undefined)?.audit as { ip: string }
      ).ip;
    };
    expect(await auditIps('127.0.0.21', '203.0.113.99')).toBe('127.0.0.21');
    expect(await auditIps(PROXY, '203.0.113.99, 198.51.100.7')).toBe('198.51.100.7');
  });

  it('never limits the probes or /metrics', async () => {
    const from = '127.0.0.31';
    for (let i = 0; i < LIMIT; i += 1) await send(ports[b] ?? 0, from);
    expect(await send(ports[b] ?? 0, from)).toBe(429);
    for (const path of ['/healthz', '/readyz', '/metrics', '/status'])
      expect(await send(ports[b] ?? 0, from, { path }), path).toBe(200);
  });
});

describe('the rate limit with Redis unreachable', () => {
  it('lets requests through rather than fail them (fail-open), and the service serves', async () => {
    const port = await freePort();
    const service = await startService(
      {
        DATA_DIR: 'memory://',
        REDIS_URL: `redis://127.0.0.1:${await freePort()}`,
        REDIS_TIMEOUT_MS: '200',
        RATE_LIMIT_MAX: String(LIMIT),
        SHUTDOWN_DRAIN_MS: '0',
        LOG_LEVEL: 'warn',
      },
      port,
    );
    try {
      const statuses: number[] = [];
      for (let i = 0; i < LIMIT * 2; i += 1) statuses.push(await send(port, '127.0.0.41'));
      expect(statuses).toEqual(Array.from({ length: LIMIT * 2 }, () => 200));
      expect(service.logs.map((line) => line.msg)).toContain(
        'rate limit: redis unavailable, not limiting',
      );
    } finally {
      service.child.kill('SIGTERM');
      await service.exited;
    }
  });
});
