import { request as httpRequest, type IncomingMessage } from 'node:http';
import { connect } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listenOnLoopback, serversBackend, startApp, testConfig } from '../helpers/app.js';
import { realServersAvailable } from '../helpers/servers.js';
import { waitFor } from '../helpers/wait.js';

const PER_CLIENT = 2;
const PER_REPLICA = 3;
const LIFETIME_MS = 1500;
const BUFFER_BYTES = 65_536;
// Events are `event: counter\ndata: {"counter":N}\n\n`, 41 bytes at most for N under a
// million, sent in bursts of 1,000 (under 48 KB with chunk framing, below the bound). The next
// burst goes out only once the reader that keeps reading has the last event of this one, so
// no more than one burst ever waits for it, however late a loaded machine lets it read, while
// a reader that stopped reading falls one burst further behind each time. How much the kernel
// takes for that one first depends on the machine's TCP settings (about 4 MB, 100,000 events,
// here), so bursts go on until it is dropped. The caps (about 24 MB, or 20 s) still fail a
// bound that never acts, well within the test's timeout.
const BURST = 1000;
const MAX_EVENTS = 600_000;
const SEND_FOR_MS = 20_000;
const CHECK_EVERY_BURSTS = 10;
// A loaded CI machine answers late; the bound still fails a limit that never acts.
const SLACK_MS = 3000;

/** A `GET /counter/events` from one loopback address: each address is another client. */
function openStream(port: number, from: string): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({
      host: '127.0.0.1',
      port,
      path: '/counter/events',
      localAddress: from,
      agent: false,
    });
    req.on('response', resolve).on('error', reject).end();
  });
}

async function bodyOf(response: IncomingMessage): Promise<unknown> {
  let text = '';
  for await (const chunk of response) text += (chunk as Buffer).toString();
  return JSON.parse(text);
}

/**
 * A reader that keeps reading: the values of a stream's `counter` events, in order.
 * `received(n)` waits (bounded) until n have arrived, and fails at once if the stream closes.
 */
function keepReading(response: IncomingMessage) {
  const values: number[] = [];
  let pending = '';
  let wake = () => undefined as unknown;
  response.setEncoding('utf8');
  response.on('data', (chunk: string) => {
    pending += chunk;
    const blocks = pending.split('\n\n');
    pending = blocks.pop() ?? '';
    for (const block of blocks) {
      // The `retry:` lines and heartbeat comments carry no value.
      const value = /^event: counter\ndata: \{"counter":(\d+)\}$/.exec(block)?.[1];
      if (value !== undefined) values.push(Number(value));
    }
    wake();
  });
  response.once('close', () => wake());
  return {
    values,
    async received(count: number, timeoutMs = 10_000): Promise<void> {
      const deadline = Date.now() + timeoutMs;
      while (values.length < count) {
        if (response.destroyed) {
          throw new Error(`the reader's stream closed after ${values.length} of ${count} events`);
        }
        if (Date.now() > deadline) {
          throw new Error(`the reader has ${values.length} of ${count} events`);
        }
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, 100);
          wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
      }
    },
  };
}

const closed = (response: IncomingMessage) =>
  new Promise<void>((resolve) => response.once('close', resolve).resume());

describe('limits on /counter/events, over real connections', () => {
  let app: FastifyInstance;
  let port: number;
  const metric = async (line: RegExp) =>
    line.exec((await app.inject({ url: '/metrics' })).body)?.[1];

  beforeAll(async () => {
    app = await startApp(
      testConfig({
        EVENT_STREAMS_PER_CLIENT: String(PER_CLIENT),
        EVENT_STREAMS_MAX: String(PER_REPLICA),
        EVENT_STREAM_LIFETIME_MS: String(LIFETIME_MS),
      }),
    );
    port = await listenOnLoopback(app);
  });
  afterAll(() => app.close());

  it('refuses a client past its share with 429, the replica past its cap with 503, both with Retry-After', async () => {
    const mine = [await openStream(port, '127.0.0.1'), await openStream(port, '127.0.0.1')];
    expect(mine.map((r) => r.statusCode)).toEqual([200, 200]);
    const tooMany = await openStream(port, '127.0.0.1');
    expect(tooMany.statusCode).toBe(429);
    expect(tooMany.headers['retry-after']).toMatch(/^\d+$/);
    expect(await bodyOf(tooMany)).toEqual({
      statusCode: 429,
      error: 'Too Many Requests',
      message: `At most ${PER_CLIENT} open event streams per client`,
    });

    const other = await openStream(port, '127.0.0.2');
    expect(other.statusCode).toBe(200);
    expect(await metric(/^event_streams_open (\d+)$/m)).toBe(String(PER_REPLICA));
    const full = await openStream(port, '127.0.0.3');
    expect(full.statusCode).toBe(503);
    expect(full.headers['retry-after']).toMatch(/^\d+$/);
    expect(await bodyOf(full)).toMatchObject({ statusCode: 503, error: 'Service Unavailable' });

    // A stream that ends gives its place back.
    const first = mine[0];
    first?.destroy();
    if (first) await closed(first);
    await waitFor('the place to come back', async () => {
      const again = await openStream(port, '127.0.0.3');
      again.destroy();
      return again.statusCode === 200;
    });
    for (const response of [...mine, other]) response.destroy();
    expect(await metric(/^event_streams_refused_total\{reason="client_limit"\} (\d+)$/m)).toBe('1');
  });

  it(`ends every stream within its lifetime (${LIFETIME_MS} ms), cleanly, so the browser reconnects`, async () => {
    const started = performance.now();
    const stream = await openStream(port, '127.0.0.4');
    let text = '';
    stream.on('data', (chunk: Buffer) => (text += chunk.toString()));
    const ended = new Promise<void>((resolve) => stream.once('end', resolve));
    await Promise.race([
      ended,
      new Promise((resolve) => setTimeout(resolve, LIFETIME_MS + SLACK_MS)),
    ]);
    const lasted = performance.now() - started;
    expect(stream.complete).toBe(true); // the chunked body ended properly, not cut
    expect(lasted).toBeGreaterThanOrEqual(LIFETIME_MS * 0.9 - 50);
    expect(lasted).toBeLessThan(LIFETIME_MS + SLACK_MS);
    expect(text).toMatch(/^retry: \d+\n\n/);
    // Its last words ask the browser to come back at once: a new stream, not an outage.
    expect(text).toMatch(/\nretry: \d{1,3}\n\n$/);
    expect(
      Number(await metric(/^event_streams_ended_total\{reason="lifetime"\} (\d+)$/m)),
    ).toBeGreaterThanOrEqual(1);
  });
});

// On real PostgreSQL: its notifications come from the LISTEN connection as they would from
// other replicas, fast enough to fill a stalled socket's kernel buffers (megabytes) first.
describe.runIf(realServersAvailable)('a reader that stops reading, on PostgreSQL', () => {
  let app: FastifyInstance;
  let port: number;
  let cleanup: () => Promise<void>;
  const metric = async (line: RegExp) =>
    line.exec((await app.inject({ url: '/metrics' })).body)?.[1];

  beforeAll(async () => {
    const provisioned = await serversBackend.provision();
    cleanup = provisioned.cleanup;
    app = await startApp(
      testConfig({ ...provisioned.env, EVENT_STREAM_BUFFER_BYTES: String(BUFFER_BYTES) }),
    );
    port = await listenOnLoopback(app);
  });
  afterAll(async () => {
    await app.close();
    await cleanup();
  });

  it('drops a reader that stops reading once its queue passes the bound, and no other', async () => {
    const healthy = await openStream(port, '127.0.0.5');
    expect(healthy.statusCode).toBe(200);
    const reader = keepReading(healthy);
    await reader.received(1); // the value on opening
    // A raw client that sends its request and never reads a byte.
    const stalled = connect(port, '127.0.0.1');
    stalled.on('error', () => undefined);
    const stalledClosed = new Promise<void>((resolve) => stalled.once('close', resolve));
    stalled.write('GET /counter/events HTTP/1.1\r\nHost: x\r\n\r\n');
    stalled.pause();
    await waitFor(
      'both streams to open',
      async () => (await metric(/^event_streams_open (\d+)$/m)) === '2',
    );

    // Events arriving as sales do, in bursts, each taken by the healthy reader before the next.
    const slowReaders = async () =>
      Number((await metric(/^event_streams_ended_total\{reason="slow_reader"\} (\d+)$/m)) ?? 0);
    let sent = 0;
    const burst = async () => {
      await app.database.query(
        `SELECT pg_notify('counter_changed', json_build_object('name', 'cameras', 'value', i)::text)
         FROM generate_series($1::int, $2::int) i`,
        [sent + 1, sent + BURST],
      );
      sent += BURST;
      await reader.received(1 + sent);
    };
    let bursts = 0;
    const stopAt = Date.now() + SEND_FOR_MS;
    while (sent < MAX_EVENTS && Date.now() < stopAt) {
      await burst();
      bursts += 1;
      if (bursts % CHECK_EVERY_BURSTS === 0 && (await slowReaders()) >= 1) break;
    }
    const sentBeforeDrop = sent;
    expect(await slowReaders(), `not dropped after ${sent} events`).toBeGreaterThanOrEqual(1);
    expect(await metric(/^event_streams_open (\d+)$/m)).toBe('1');

    // The healthy reader's stream goes on: two more bursts, every event of them arrives.
    await burst();
    await burst();
    // It got every event, in order: the value on opening, then each change.
    expect(reader.values.length).toBe(1 + sent);
    const outOfOrder = reader.values.findIndex((value, i) => i > 0 && value !== i);
    expect(outOfOrder, `event ${outOfOrder} is ${reader.values[outOfOrder]}`).toBe(-1);
    expect(healthy.destroyed).toBe(false);
    expect(await metric(/^event_streams_ended_total\{reason="slow_reader"\} (\d+)$/m)).toBe('1');
    expect(await metric(/^event_streams_open (\d+)$/m)).toBe('1');

    // Reading now, the stalled client finds its connection closed by the server, the stream
    // cut short (no last chunk): what was queued for it past the bound never arrives (each
    // event is under 64 bytes on the wire).
    let received = '';
    stalled.setEncoding('latin1');
    stalled.on('data', (chunk: string) => (received += chunk));
    stalled.resume();
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      stalledClosed,
      new Promise((_, reject) => {
        timer = setTimeout(
          () => reject(new Error('the server did not close the stalled stream')),
          10_000,
        );
      }),
    ]).finally(() => clearTimeout(timer));
    expect(received).toMatch(/^HTTP\/1\.1 200 /);
    expect(received).not.toMatch(/\r\n0\r\n\r\n$/);
    const eventsIn = (text: string) => text.split('event: counter\n').length - 1;
    expect(eventsIn(received)).toBeLessThan(sentBeforeDrop - BUFFER_BYTES / 64);
    healthy.destroy();
  });
});
