import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  NGINX_CONFIG,
  checkNginxConfig,
  nginxAvailable,
  renderNginxConfig,
  startNginx,
  type RunningNginx,
} from '../helpers/nginx.js';
import { freePort } from '../helpers/ports.js';
import { startService, type ServiceProcess } from '../helpers/process.js';
import {
  createTestDatabase,
  createTestRedisPrefix,
  realServersAvailable,
} from '../helpers/servers.js';
import { openStream } from '../helpers/sse.js';

describe.runIf(nginxAvailable)('the committed nginx config', () => {
  it('passes nginx -t', () => {
    const { status, output } = checkNginxConfig(renderNginxConfig(8080, [3000, 3001]));
    expect({ status, output }).toEqual({
      status: 0,
      output: expect.stringContaining('test is successful') as string,
    });
  });

  it('streams /counter/events unbuffered, with a read timeout longer than a heartbeat', () => {
    const config = readFileSync(NGINX_CONFIG, 'utf8');
    const events = /location = \/counter\/events \{([^}]*)\}/.exec(config)?.[1] ?? '';
    expect(events).toMatch(/proxy_buffering off;/);
    expect(events).toMatch(/proxy_read_timeout 1h;/);
  });
});

describe.runIf(nginxAvailable && realServersAvailable)('nginx in front of two replicas', () => {
  const replicas: ServiceProcess[] = [];
  const replicaPorts: number[] = [];
  let proxy: RunningNginx;
  const cleanups: (() => Promise<void>)[] = [];

  const request = (path: string, init?: RequestInit) => fetch(`${proxy.baseUrl}${path}`, init);
  /** The replica port that answered a logged request (the last one nginx tried). */
  const upstreamPort = (line: Record<string, unknown>) => String(line.upstream).split(':').pop();

  beforeAll(async () => {
    const database = await createTestDatabase();
    const redis = createTestRedisPrefix();
    cleanups.push(database.drop, redis.clear);
    const env = {
      DATABASE_URL: database.url,
      REDIS_URL: redis.url,
      REDIS_KEY_PREFIX: redis.prefix,
      TRUST_PROXY: '127.0.0.1',
      SHUTDOWN_DRAIN_MS: '0',
      LOG_LEVEL: 'warn',
    };
    replicaPorts.push(await freePort(), await freePort());
    // One at a time, as a rolling start would: the second finds the schema migrated.
    for (const port of replicaPorts) {
      const replica = await startService(env, port);
      replicas.push(replica);
      cleanups.push(async () => {
        if (replica.child.exitCode === null) replica.child.kill('SIGTERM');
        await replica.exited;
      });
    }
    proxy = await startNginx(await freePort(), replicaPorts);
    cleanups.push(proxy.stop);
  });

  afterAll(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
  });

  it('spreads requests over both replicas and logs each as one JSON line', async () => {
    const from = proxy.accessLog().length;
    const statuses = await Promise.all(
      Array.from({ length: 20 }, async () => (await request('/status')).status),
    );
    expect(statuses).toEqual(Array<number>(20).fill(200));
    const lines = await proxy.logLinesAfter(from, 20);
    expect(new Set(lines.map(upstreamPort))).toEqual(new Set(replicaPorts.map(String)));
    expect(lines.at(-1)).toMatchObject({
      service: 'nginx',
      method: 'GET',
      path: '/status',
      statusCode: 200,
      requestId: expect.stringMatching(/^[0-9a-f]{32}$/) as string,
    });
  });

  it("passes the caller's x-request-id to the app, or its own when there is none", async () => {
    const from = proxy.accessLog().length;
    const given = await request('/counter', { headers: { 'x-request-id': 'trace-me-42' } });
    expect({ status: given.status, id: given.headers.get('x-request-id') }).toEqual({
      status: 200,
      id: 'trace-me-42',
    });
    const made = await request('/counter');
    const id = made.headers.get('x-request-id');
    expect(id).toMatch(/^[0-9a-f]{32}$/);
    const lines = await proxy.logLinesAfter(from, 2);
    expect(lines.map((line) => line.requestId)).toEqual(['trace-me-42', id]);
  });

  it('logs the route of a greeting, never the username', async () => {
    const from = proxy.accessLog().length;
    const response = await request('/hello/Zebedee');
    expect(response.status).toBe(404);
    const line = JSON.stringify(await proxy.logLinesAfter(from, 1));
    expect(line).toContain('"path":"/hello/{username}"');
    expect(line).not.toContain('Zebedee');
  });

  it('hides /metrics from the edge with the JSON error shape', async () => {
    const response = await request('/metrics');
    expect({ status: response.status, body: await response.json() }).toEqual({
      status: 404,
      body: { statusCode: 404, error: 'Not Found', message: 'Not found' },
    });
  });

  it('streams a sale to an open event stream at once', async () => {
    const stream = await openStream(`${proxy.baseUrl}/counter/events`);
    try {
      expect(stream.response.headers.get('content-type')).toMatch(/^text\/event-stream/);
      await stream.waitFor(1000);
      const sale = await request('/decrement', { method: 'POST' });
      expect({ status: sale.status, body: await sale.json() }).toEqual({
        status: 200,
        body: { counter: 999 },
      });
      await stream.waitFor(999);
    } finally {
      await stream.close();
    }
  });

  it('skips a stopped replica: every read and write still succeeds', async () => {
    const [stopped, running] = replicas;
    stopped?.child.kill('SIGTERM');
    expect(await stopped?.exited).toBe(0);

    const from = proxy.accessLog().length;
    const statuses = await Promise.all(
      Array.from({ length: 10 }, async (_, i) => {
        const response = await (i % 2 === 0
          ? request('/items')
          : request('/items', {
              method: 'POST',
              headers: { 'content-type': 'application/json' },
              body: JSON.stringify({ name: `after stop ${i}` }),
            }));
        return response.status;
      }),
    );
    expect(statuses).toEqual([200, 201, 200, 201, 200, 201, 200, 201, 200, 201]);
    const lines = await proxy.logLinesAfter(from, 10);
    expect(new Set(lines.map(upstreamPort))).toEqual(new Set([String(replicaPorts[1])]));
    expect(running?.child.exitCode).toBeNull();
  });
});
