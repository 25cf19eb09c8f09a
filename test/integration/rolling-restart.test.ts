import { request as httpRequest } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nginxAvailable, startNginx, type RunningNginx } from '../helpers/nginx.js';
import { freePort } from '../helpers/ports.js';
import { startService, type ServiceProcess } from '../helpers/process.js';
import {
  createTestDatabase,
  createTestRedisPrefix,
  realServersAvailable,
} from '../helpers/servers.js';

const STOCK = 1000;
const WORKERS = 12;
// Bounded in time and in count, whichever comes first.
const LOAD_LIMIT_MS = 40_000;
const LOAD_LIMIT_REQUESTS = 40_000;
// nginx limits each client address (nginx.conf, limit_req): every worker is a client of its
// own on 127.0.0.0/8, sending at most one request per PACE_MS, below that limit.
const PACE_MS = 70;

interface Tally {
  requests: number;
  byStatus: Map<number, number>;
  /** Network errors, 5xx, and any status the request should not get (a 400, a 404...). */
  failures: string[];
  /** When the last request was answered: the load must outlast the rollout. */
  lastAnsweredAt: number;
  items: number[];
  birthdays: string[];
  sales: number;
}

/**
 * One request on its own connection. A reload closes nginx's idle client connections, and a
 * client that reuses one just then sees a reset before any byte of an answer: browsers
 * retry that by themselves, fetch does not, so this client never reuses a connection.
 */
function send(
  url: string,
  from: string,
  init: { method?: string; headers?: Record<string, string>; body?: string },
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      url,
      {
        method: init.method ?? 'GET',
        headers: init.headers,
        localAddress: from,
        agent: false,
        timeout: 10_000,
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', reject);
    req.end(init.body);
  });
}

/** 0 → a, 25 → z, 26 → ba: usernames are letters only. */
const letters = (n: number): string =>
  (n >= 26 ? letters(Math.floor(n / 26)) : '') + String.fromCharCode(97 + (n % 26));

/** One client: reads, writes and sales in a mix, until told to stop. */
async function client(base: string, worker: number, tally: Tally, running: () => boolean) {
  const from = `127.0.0.${10 + worker}`;
  const started = Date.now();
  for (let n = 0; running(); n += 1) {
    await sleep(Math.max(0, started + n * PACE_MS - Date.now()));
    const kind = n % 5;
    const user = `roll${letters(worker)}x${letters(n)}`;
    const request: [string, { method?: string; headers?: Record<string, string>; body?: string }] =
      kind === 0
        ? [
            '/items',
            {
              method: 'POST',
              headers: { 'content-type': 'application/json' },
              body: JSON.stringify({ name: `item ${worker}-${n}` }),
            },
          ]
        : kind === 1
          ? [
              `/hello/${user}`,
              {
                method: 'PUT',
                headers: { 'content-type': 'application/json' },
                body: JSON.stringify({ dateOfBirth: '1990-05-17' }),
              },
            ]
          : kind === 2
            ? ['/decrement', { method: 'POST' }]
            : kind === 3
              ? ['/items?limit=20', {}]
              : ['/counter', {}];
    // A sale past the stock is a 409; every other request here has one right answer.
    const expected = [[201], [204], [200, 409], [200], [200]][kind] ?? [];
    tally.requests += 1;
    try {
      const response = await send(base + request[0], from, request[1]);
      tally.lastAnsweredAt = Date.now();
      tally.byStatus.set(response.status, (tally.byStatus.get(response.status) ?? 0) + 1);
      const { body } = response;
      if (!expected.includes(response.status))
        tally.failures.push(`${request[0]} ${response.status} ${body}`);
      if (kind === 0 && response.status === 201)
        tally.items.push((JSON.parse(body) as { id: number }).id);
      if (kind === 1 && response.status === 204) tally.birthdays.push(user);
      if (kind === 2 && response.status === 200) tally.sales += 1;
    } catch (error) {
      tally.failures.push(`${request[0]} ${(error as Error).message}`);
    }
  }
}

describe.runIf(nginxAvailable && realServersAvailable)(
  'a rolling restart of three replicas behind nginx, under load',
  () => {
    const cleanups: (() => Promise<void>)[] = [];
    const replicas: { port: number; service: ServiceProcess }[] = [];
    let env: Record<string, string>;
    let proxy: RunningNginx;

    const start = (port: number) => startService(env, port, { built: true });
    const stop = async (service: ServiceProcess) => {
      service.child.kill('SIGTERM');
      return service.exited;
    };

    beforeAll(async () => {
      const database = await createTestDatabase();
      const redis = createTestRedisPrefix();
      cleanups.push(database.drop, redis.clear);
      env = {
        NODE_ENV: 'production',
        ADMIN_TOKEN: 'rolling-restart-admin-token',
        TRUST_PROXY: '127.0.0.1',
        DATABASE_URL: database.url,
        REDIS_URL: redis.url,
        REDIS_KEY_PREFIX: redis.prefix,
        COUNTER_INITIAL_STOCK: String(STOCK),
        RATE_LIMIT_MAX: '0',
        // The default drain: it outlasts nginx's 4 s upstream keep-alive (nginx.conf).
        SHUTDOWN_DRAIN_MS: '5000',
        LOG_LEVEL: 'warn',
      };
      for (let i = 0; i < 3; i += 1) {
        const port = await freePort();
        replicas.push({ port, service: await start(port) });
      }
      cleanups.push(async () => {
        for (const { service } of replicas)
          if (service.child.exitCode === null) await stop(service);
      });
      proxy = await startNginx(
        await freePort(),
        replicas.map(({ port }) => port),
      );
      cleanups.push(proxy.stop);
    }, 120_000);

    afterAll(async () => {
      for (const cleanup of cleanups.reverse()) await cleanup();
    }, 60_000);

    it('loses no request and no write, and sells exactly what it says it sold', async () => {
      const tally: Tally = {
        requests: 0,
        byStatus: new Map(),
        failures: [],
        lastAnsweredAt: 0,
        items: [],
        birthdays: [],
        sales: 0,
      };
      const started = Date.now();
      // Load runs through the whole rollout and two seconds past it, within the bounds.
      let finishedAt = Infinity;
      const running = () =>
        Date.now() < finishedAt + 2000 &&
        Date.now() - started < LOAD_LIMIT_MS &&
        tally.requests < LOAD_LIMIT_REQUESTS;
      const load = Promise.all(
        Array.from({ length: WORKERS }, (_, worker) =>
          client(proxy.baseUrl, worker, tally, running),
        ),
      );

      // Let the load settle, then replace each replica in turn, as a rollout does.
      await new Promise((resolve) => setTimeout(resolve, 2000));
      const exitCodes: (number | null)[] = [];
      const ports = replicas.map(({ port }) => port);
      for (const replica of replicas) {
        // As a load balancer deregisters a target (ALB) or removes an endpoint (Kubernetes):
        // nginx has no health checks, so the rollout tells it. Requests still on their way
        // are served through the app's drain.
        proxy.reload(ports.filter((port) => port !== replica.port));
        exitCodes.push(await stop(replica.service));
        replica.service = await start(replica.port);
        proxy.reload(ports);
      }
      finishedAt = Date.now();
      await load;

      const statuses = Object.fromEntries(tally.byStatus);
      expect(exitCodes).toEqual([0, 0, 0]);
      expect(tally.failures).toEqual([]);
      expect(Object.keys(statuses).filter((status) => Number(status) >= 500)).toEqual([]);
      expect(tally.requests).toBeGreaterThan(1000);
      // Neither bound cut the load short: requests were still being answered after the last
      // replica came back.
      expect(tally.lastAnsweredAt).toBeGreaterThan(finishedAt);

      // Read back from a replica itself: a check of the data, past nginx's per-client limit.
      const base = replicas[0]?.service.baseUrl ?? '';
      for (const id of tally.items)
        expect((await fetch(`${base}/items/${id}`)).status, `item ${id}`).toBe(200);
      for (const user of tally.birthdays)
        expect((await fetch(`${base}/hello/${user}`)).status, `birthday of ${user}`).toBe(200);
      const { counter } = (await (await fetch(`${base}/counter`)).json()) as { counter: number };
      expect(counter).toBe(STOCK - tally.sales);
    }, 120_000);
  },
);
