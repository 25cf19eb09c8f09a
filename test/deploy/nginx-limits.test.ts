import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { NGINX_CONFIG, nginxAvailable, startNginx, type RunningNginx } from '../helpers/nginx.js';
import { freePort } from '../helpers/ports.js';
import { startService, type ServiceProcess } from '../helpers/process.js';
import { openStream, type CounterStream } from '../helpers/sse.js';
import { waitFor } from '../helpers/wait.js';

const ADMIN_TOKEN = 'nginx-limits-test-admin-token';
const config = readFileSync(NGINX_CONFIG, 'utf8');
const number = (pattern: RegExp) => Number(pattern.exec(config)?.[1] ?? Number.NaN);
/** The committed limits, so the test follows a change of numbers and fails a removal. */
const RATE = number(
  /limit_req_zone \$binary_remote_addr zone=requests_per_client:\S+ rate=(\d+)r\/s;/,
);
const BURST = number(/limit_req zone=requests_per_client burst=(\d+) nodelay;/);
const STREAMS = number(/limit_conn streams_per_client (\d+);/);

interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

/**
 * One request on its own connection from `from`, any address of 127.0.0.0/8: each is a
 * different client to nginx, so one test's exhausted limit never spills into another's.
 */
function send(
  url: string,
  from: string,
  init: { method?: string; headers?: Record<string, string> } = {},
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      url,
      { ...init, localAddress: from, agent: false, timeout: 10_000 },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', reject);
    req.end();
  });
}

const refusal = (message: string, retryAfter: string) => ({
  status: 429,
  contentType: 'application/json',
  retryAfter,
  body: { statusCode: 429, error: 'Too Many Requests', message },
});
const shapeOf = (answer: Answer) => ({
  status: answer.status,
  contentType: answer.headers['content-type'],
  retryAfter: answer.headers['retry-after'],
  body: JSON.parse(answer.body) as unknown,
});

describe.runIf(nginxAvailable)("nginx's limits per client address, in front of a replica", () => {
  let replica: ServiceProcess;
  let proxy: RunningNginx;
  const cleanups: (() => Promise<void>)[] = [];
  const url = (path: string) => `${proxy.baseUrl}${path}`;

  beforeAll(async () => {
    // The app's own limits are off or above nginx's, so every refusal here is nginx's.
    replica = await startService(
      {
        DATA_DIR: 'memory://',
        TRUST_PROXY: '127.0.0.1',
        ADMIN_TOKEN,
        RATE_LIMIT_MAX: '0',
        HTTP_MAX_IN_FLIGHT_PER_CLIENT: '1000',
        EVENT_STREAMS_PER_CLIENT: String(STREAMS * 10),
        SHUTDOWN_DRAIN_MS: '0',
        LOG_LEVEL: 'info',
      },
      await freePort(),
    );
    cleanups.push(async () => {
      replica.child.kill('SIGTERM');
      await replica.exited;
    });
    proxy = await startNginx(await freePort(), [Number(new URL(replica.baseUrl).port)]);
    cleanups.push(proxy.stop);
  });

  afterAll(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
  });

  it("sits a little above the app's own limits, and caps streams as the app does", () => {
    const { RATE_LIMIT_MAX, RATE_LIMIT_WINDOW_MS, EVENT_STREAMS_PER_CLIENT } = loadConfig({});
    const appRate = RATE_LIMIT_MAX / (RATE_LIMIT_WINDOW_MS / 1000);
    expect(RATE).toBeGreaterThan(appRate);
    expect(RATE).toBeLessThanOrEqual(3 * appRate);
    expect(BURST).toBeGreaterThanOrEqual(RATE);
    expect(STREAMS).toBe(EVENT_STREAMS_PER_CLIENT);
  });

  it('serves a burst, refuses the excess with 429 and Retry-After, and serves again after', async () => {
    const client = '127.0.0.3';
    expect((await send(url('/counter'), client)).status).toBe(200);
    // Far past the burst, all at once; bounded in count, and each request in time.
    const started = Date.now();
    const answers = await Promise.all(
      Array.from({ length: BURST * 3 }, () => send(url('/counter'), client)),
    );
    const seconds = (Date.now() - started) / 1000;
    const served = answers.filter(({ status }) => status === 200).length;
    const refused = answers.filter(({ status }) => status !== 200);
    // The first request and the burst leave the bucket empty; it refills at RATE.
    expect(served).toBeGreaterThanOrEqual(BURST - 1);
    expect(served).toBeLessThanOrEqual(BURST + Math.ceil(RATE * seconds) + 1);
    expect(refused.length).toBeGreaterThan(0);
    for (const answer of refused)
      expect(shapeOf(answer)).toEqual(refusal('Too many requests from this address', '1'));

    // nginx's own health, another client and, a little later, this one: all served.
    expect((await send(url('/nginx/healthz'), client)).status).toBe(200);
    expect((await send(url('/counter'), '127.0.0.4')).status).toBe(200);
    await waitFor(
      'the bucket to refill',
      async () => (await send(url('/counter'), client)).status === 200,
      5000,
    );
  });

  it(`holds ${STREAMS} open event streams per client and refuses one more with 429`, async () => {
    const streams: CounterStream[] = [];
    try {
      for (let i = 0; i < STREAMS; i += 1) {
        const stream = await openStream(url('/counter/events'));
        streams.push(stream);
        expect(stream.response.status).toBe(200);
        await stream.waitFor(1000);
      }
      const from = proxy.accessLog().length;
      const extra = await fetch(url('/counter/events'));
      expect({
        status: extra.status,
        contentType: extra.headers.get('content-type'),
        retryAfter: extra.headers.get('retry-after'),
        body: await extra.json(),
      }).toEqual(refusal('Too many open event streams from this address', '10'));
      // nginx answered it: it never reached the replica.
      const [line] = await proxy.logLinesAfter(from, 1);
      expect(line).toMatchObject({ path: '/counter/events', statusCode: 429, upstream: '' });

      // Those open stay open: a sale reaches every one of them.
      const sale = await fetch(url('/decrement'), { method: 'POST' });
      expect(sale.status).toBe(200);
      for (const stream of streams) await stream.waitFor(999);
      // Ordinary requests are not counted against the streams.
      expect((await fetch(url('/counter'))).status).toBe(200);

      // A closed stream frees its slot.
      await streams.pop()?.close();
      await waitFor(
        'a stream slot to free',
        async () => {
          const stream = await openStream(url('/counter/events'));
          if (stream.response.status === 200) {
            streams.push(stream);
            return true;
          }
          await stream.close();
          return false;
        },
        5000,
      );
    } finally {
      for (const stream of streams) await stream.close();
    }
  });

  it("replaces a client's own X-Forwarded-For with the address nginx saw", async () => {
    const from = replica.logs.length;
    const answer = await send(url('/reset'), '127.0.0.2', {
      method: 'PUT',
      headers: { 'x-forwarded-for': '203.0.113.7' },
    });
    expect(answer.status).toBe(401);
    await waitFor('the audit line', async () =>
      replica.logs.slice(from).some((line) => line.audit !== undefined),
    );
    const audit = replica.logs.slice(from).find((line) => line.audit !== undefined);
    expect(audit?.audit).toMatchObject({
      action: 'counter.reset',
      result: 'denied',
      ip: '127.0.0.2',
    });
  });
});
