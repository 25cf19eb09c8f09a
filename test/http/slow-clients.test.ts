import { connect, type Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listenOnLoopback, startApp, testConfig } from '../helpers/app.js';
import { expectRawAnswerRules, type RawResponse } from '../helpers/raw-http.js';

const HEADERS_TIMEOUT_MS = 600;
const REQUEST_TIMEOUT_MS = 1200;
const KEEP_ALIVE_TIMEOUT_MS = 600;
// Shorter than the event stream's test waits, to show a stream is exempt from it.
const SOCKET_TIMEOUT_MS = 1000;
const MAX_CONNECTIONS = 12;
// Node checks the header and request timeouts every quarter of the header timeout here,
// and keeps an idle keep-alive socket 1 s past its timeout (the Keep-Alive header's grace).
const CHECK_MS = HEADERS_TIMEOUT_MS / 4;
const KEEP_ALIVE_GRACE_MS = 1000;
// A loaded CI machine answers late; the bound still fails a timeout that never fires.
const SLACK_MS = 2000;

interface Watched {
  socket: Socket;
  received: () => string;
  /** Milliseconds from connecting until the server closed the connection. */
  closedAfter: Promise<number>;
}

/** A raw connection whose every byte and close are recorded; `send` writes as given. */
function open(port: number): Watched {
  const started = performance.now();
  const socket = connect(port, '127.0.0.1');
  let data = '';
  socket.on('data', (chunk: Buffer) => (data += chunk.toString('latin1')));
  socket.on('error', () => undefined);
  const closedAfter = new Promise<number>((resolve) =>
    socket.on('close', () => resolve(performance.now() - started)),
  );
  return { socket, received: () => data, closedAfter };
}

/** Writes `bytes` one at a time, `everyMs` apart, until done or the socket is closed. */
async function trickle(socket: Socket, bytes: string, everyMs: number): Promise<void> {
  for (const byte of bytes) {
    if (socket.destroyed) return;
    socket.write(byte);
    await sleep(everyMs);
  }
}

function parse(raw: string): RawResponse {
  const end = raw.indexOf('\r\n\r\n');
  return {
    status: Number(/^HTTP\/1\.1 (\d{3})/.exec(raw)?.[1] ?? 0),
    headers: raw.slice(0, end),
    body: raw.slice(end + 4),
  };
}

describe('slow and idle clients on one replica', () => {
  let app: FastifyInstance;
  let port: number;
  beforeAll(async () => {
    app = await startApp(
      testConfig({
        HTTP_HEADERS_TIMEOUT_MS: String(HEADERS_TIMEOUT_MS),
        HTTP_REQUEST_TIMEOUT_MS: String(REQUEST_TIMEOUT_MS),
        HTTP_KEEP_ALIVE_TIMEOUT_MS: String(KEEP_ALIVE_TIMEOUT_MS),
        HTTP_SOCKET_TIMEOUT_MS: String(SOCKET_TIMEOUT_MS),
        DATABASE_TIMEOUT_MS: String(SOCKET_TIMEOUT_MS / 2),
        HTTP_MAX_CONNECTIONS: String(MAX_CONNECTIONS),
        EVENT_STREAMS_MAX: '4',
      }),
    );
    port = await listenOnLoopback(app);
  });
  afterAll(() => app.close());

  /** Normal requests, one after another, until `until` settles; all must be answered 200. */
  async function keepServing(until: Promise<unknown>): Promise<number> {
    const state = { settled: false };
    void until.finally(() => (state.settled = true));
    let served = 0;
    while (!state.settled) {
      const res = await fetch(`http://127.0.0.1:${port}/status`);
      expect(res.status).toBe(200);
      await res.arrayBuffer();
      served += 1;
      await sleep(50);
    }
    return served;
  }

  it('closes silent, trickling and idle connections in time, answering 408, while serving others', async () => {
    const silent = open(port);
    const headers = open(port);
    void trickle(headers.socket, 'GET /status HTTP/1.1\r\nHost: x\r\n\r\n', 200);
    const body = open(port);
    body.socket.write(
      'POST /items HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 200\r\n\r\n',
    );
    void trickle(body.socket, `{"name":"${'x'.repeat(300)}`, 200);
    const idle = open(port);
    idle.socket.write('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n');

    const all = Promise.all([
      silent.closedAfter,
      headers.closedAfter,
      body.closedAfter,
      idle.closedAfter,
    ]);
    const served = await keepServing(all);
    const [silentMs, headersMs, bodyMs, idleMs] = await all;

    expect(served).toBeGreaterThan(0);
    expect(silentMs).toBeLessThan(HEADERS_TIMEOUT_MS + CHECK_MS + SLACK_MS);
    expect(headersMs).toBeLessThan(HEADERS_TIMEOUT_MS + CHECK_MS + SLACK_MS);
    expect(bodyMs).toBeLessThan(REQUEST_TIMEOUT_MS + CHECK_MS + SLACK_MS);
    expect(idleMs).toBeLessThan(KEEP_ALIVE_TIMEOUT_MS + KEEP_ALIVE_GRACE_MS + SLACK_MS);
    // Cut for being slow, not for anything else: none closed before its timeout.
    expect(Math.min(silentMs, headersMs)).toBeGreaterThanOrEqual(HEADERS_TIMEOUT_MS - 50);
    expect(bodyMs).toBeGreaterThanOrEqual(REQUEST_TIMEOUT_MS - 50);
    for (const cut of [silent, headers, body]) {
      const answer = parse(cut.received());
      expect(answer.status).toBe(408);
      expectRawAnswerRules(answer, 'GET');
    }
    expect(parse(idle.received()).status).toBe(200);
    const metrics = await app.inject({ url: '/metrics' });
    expect(metrics.body).toMatch(/^http_client_errors_total\{reason="timeout"\} [3-9]/m);
  });

  it('leaves an event stream open past every timeout: only receiving a request is timed', async () => {
    const stream = open(port);
    stream.socket.write('GET /counter/events HTTP/1.1\r\nHost: x\r\n\r\n');
    const outcome = await Promise.race([
      stream.closedAfter.then(() => 'closed'),
      sleep(REQUEST_TIMEOUT_MS + KEEP_ALIVE_TIMEOUT_MS + KEEP_ALIVE_GRACE_MS + CHECK_MS * 2).then(
        () => 'open',
      ),
    ]);
    expect(outcome).toBe('open');
    expect(stream.received()).toMatch(/^HTTP\/1\.1 200 OK/);
    expect(stream.received()).toContain('event: counter');
    stream.socket.destroy();
  });

  it.each([
    [
      'header_overflow',
      431,
      `GET /status HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`,
    ],
    ['malformed', 400, 'GET /status HTTP/9.9 nonsense\r\n\r\n'],
  ])(
    'answers bytes Node rejects (%s) with %i in the error shape, with the headers',
    async (reason, status, bytes) => {
      const client = open(port);
      client.socket.write(bytes);
      await client.closedAfter;
      const answer = parse(client.received());
      expect(answer.status).toBe(status);
      expectRawAnswerRules(answer, 'GET');
      const metrics = await app.inject({ url: '/metrics' });
      expect(metrics.body).toMatch(
        new RegExp(`^http_client_errors_total\\{reason="${reason}"\\} [1-9]`, 'm'),
      );
    },
  );

  it(`holds at most ${MAX_CONNECTIONS} connections, closing the rest at once, and serves again when they go`, async () => {
    const held = Array.from({ length: MAX_CONNECTIONS }, () => open(port));
    await Promise.all(held.map((c) => new Promise((resolve) => c.socket.once('connect', resolve))));
    await sleep(100);
    const extra = open(port);
    extra.socket.write('GET /status HTTP/1.1\r\nHost: x\r\n\r\n');
    expect(await extra.closedAfter).toBeLessThan(SLACK_MS);
    expect(extra.received()).toBe('');
    const metrics = await app.inject({ url: '/metrics' });
    expect(metrics.body).toMatch(new RegExp(`^http_connections_open ${MAX_CONNECTIONS}$`, 'm'));

    for (const c of held) c.socket.destroy();
    await Promise.all(held.map((c) => c.closedAfter));
    const res = await fetch(`http://127.0.0.1:${port}/status`);
    expect(res.status).toBe(200);
  });
});
