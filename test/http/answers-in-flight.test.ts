import { connect, type Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import type { FastifyInstance } from 'fastify';
import { afterAll, describe, expect, it } from 'vitest';
import { listenOnLoopback, startApp, testConfig } from '../helpers/app.js';
import { expectRawAnswerRules, type RawResponse } from '../helpers/raw-http.js';

const MAX_IN_FLIGHT = 8;
const PER_CLIENT = 5;
const SOCKET_TIMEOUT_MS = 1000;
// A loaded CI machine answers late; the bound still fails a timeout that never fires.
const SLACK_MS = 2000;
// The biggest page there is: 1,000 items whose 200-character names are control characters,
// which JSON writes as six bytes each (about 1.2 MB).
const PAGE_ITEMS = 1000;

/** `count` requests for big pages written at once on one connection (HTTP/1.1 pipelining). */
const pipelined = (count: number) =>
  Array.from(
    { length: count },
    (_, index) => `GET /items?limit=${PAGE_ITEMS}&after=${index} HTTP/1.1\r\nHost: x\r\n\r\n`,
  ).join('');

/** The answers in `bytes`, one after another, each cut at its Content-Length. */
function splitAnswers(bytes: Buffer): RawResponse[] {
  const answers: RawResponse[] = [];
  let offset = 0;
  while (offset < bytes.length) {
    const end = bytes.indexOf('\r\n\r\n', offset);
    if (end < 0) break;
    const headers = bytes.subarray(offset, end).toString('latin1');
    const length = Number(/^content-length: (\d+)$/im.exec(headers)?.[1] ?? Number.NaN);
    if (!(end + 4 + length <= bytes.length)) break;
    answers.push({
      status: Number(/^HTTP\/1\.1 (\d{3})/.exec(headers)?.[1] ?? 0),
      headers,
      body: bytes.subarray(end + 4, end + 4 + length).toString('utf8'),
    });
    offset = end + 4 + length;
  }
  return answers;
}

/**
 * A connection that pipelines `count` big-page requests and reads none of the answers until
 * `read()` is called; `answers()` waits (up to 10 s) for all of them.
 */
async function pipelineUnread(port: number, count: number) {
  const client = connect(port, '127.0.0.1');
  const chunks: Buffer[] = [];
  client.on('data', (chunk: Buffer) => chunks.push(chunk));
  client.pause();
  await new Promise((resolve) => client.once('connect', resolve));
  client.write(pipelined(count));
  return {
    async answers(): Promise<RawResponse[]> {
      client.resume();
      let answers: RawResponse[] = [];
      for (const until = performance.now() + 10_000; performance.now() < until; await sleep(20)) {
        answers = splitAnswers(Buffer.concat(chunks));
        if (answers.length === count) break;
      }
      client.destroy();
      return answers;
    },
  };
}

/**
 * The most requests in flight seen over 500 ms and at least 20 samples: building pages can
 * hold the loop longer than the time alone.
 */
async function mostInFlight(inFlight: () => Promise<number>): Promise<number> {
  let most = 0;
  for (
    let sample = 0, until = performance.now() + 500;
    sample < 20 || performance.now() < until;
    sample += 1
  ) {
    most = Math.max(most, await inFlight());
    await sleep(10);
  }
  return most;
}

/** The server's side of the connection a client socket made, once it is accepted. */
function serverSideOf(app: FastifyInstance, client: Socket): Promise<Socket> {
  return new Promise((resolve) => {
    const onConnection = (socket: Socket) => {
      if (socket.remotePort !== client.localPort) return;
      app.server.off('connection', onConnection);
      resolve(socket);
    };
    app.server.on('connection', onConnection);
  });
}

describe('answers a replica holds at once', () => {
  const apps: FastifyInstance[] = [];
  /** An app with the biggest pages to serve, listening on loopback. */
  async function serveBigPages(overrides: Record<string, string>) {
    const app = await startApp(
      testConfig({ HTTP_MAX_IN_FLIGHT: String(MAX_IN_FLIGHT), ...overrides }),
    );
    apps.push(app);
    await app.database.exec(
      `INSERT INTO items (name) SELECT repeat(chr(1), 200) FROM generate_series(1, ${PAGE_ITEMS * 2})`,
    );
    const inFlight = async () =>
      Number(
        /^http_requests_in_flight (\d+)/m.exec((await app.inject({ url: '/metrics' })).body)?.[1],
      );
    return { app, port: await listenOnLoopback(app), inFlight };
  }
  afterAll(() => Promise.all(apps.map((app) => app.close())));

  it(`works on at most ${MAX_IN_FLIGHT} requests at once: one connection pipelining 200 big pages gets 503 for the rest, and /status is answered meanwhile`, async () => {
    const { app, port, inFlight } = await serveBigPages({});
    // Not reading yet: every answer the server builds waits in its memory.
    const client = await pipelineUnread(port, 200);
    const most = await mostInFlight(inFlight);
    expect(most).toBeGreaterThan(0);
    expect(most).toBeLessThanOrEqual(MAX_IN_FLIGHT);
    expect((await fetch(`http://127.0.0.1:${port}/status`)).status).toBe(200);

    const answers = await client.answers();
    expect(answers).toHaveLength(200);
    const refused = answers.filter((answer) => answer.status === 503);
    expect(answers.filter((answer) => answer.status === 200).length).toBeGreaterThan(0);
    expect(refused.length).toBeGreaterThan(0);
    expect(refused.length + answers.filter((answer) => answer.status === 200).length).toBe(200);
    for (const answer of refused) {
      expectRawAnswerRules(answer, 'GET');
      expect(answer.headers).toMatch(/^retry-after: \d+$/im);
      expect(JSON.parse(answer.body)).toMatchObject({ statusCode: 503 });
    }
    const metrics = (await app.inject({ url: '/metrics' })).body;
    expect(metrics).toMatch(
      new RegExp(`^http_requests_shed_total\\{reason="in_flight"\\} ${refused.length}$`, 'm'),
    );
    // Every slot is given back once the answers have gone.
    expect(await inFlight()).toBe(0);
  });

  it('lets one client address hold only its share: past it that client gets 429, while another is served', async () => {
    // Five pages are more than the kernel's buffers take, so some stay in flight.
    const { app, port, inFlight } = await serveBigPages({
      HTTP_MAX_IN_FLIGHT_PER_CLIENT: String(PER_CLIENT),
    });
    const greedy = await pipelineUnread(port, 20);
    const most = await mostInFlight(inFlight);
    expect(most).toBeGreaterThan(0);
    expect(most).toBeLessThanOrEqual(PER_CLIENT);
    // Another address, while the greedy one holds its share and the replica has room.
    const other = await new Promise<RawResponse>((resolve, reject) => {
      const socket = connect({ port, host: '127.0.0.1', localAddress: '127.0.0.2' });
      const received: Buffer[] = [];
      socket.on('data', (chunk: Buffer) => {
        received.push(chunk);
        const [answer] = splitAnswers(Buffer.concat(received));
        if (answer !== undefined) {
          socket.destroy();
          resolve(answer);
        }
      });
      socket.on('error', reject);
      socket.write('GET /items?limit=1 HTTP/1.1\r\nHost: x\r\n\r\n');
    });
    expect(other.status).toBe(200);
    const answers = await greedy.answers();
    const refused = answers.filter((answer) => answer.status === 429);
    expect(refused.length).toBeGreaterThan(0);
    for (const answer of refused) {
      expectRawAnswerRules(answer, 'GET');
      expect(answer.headers).toMatch(/^retry-after: \d+$/im);
    }
    expect(answers.filter((answer) => answer.status === 200).length + refused.length).toBe(20);
    expect((await app.inject({ url: '/metrics' })).body).toMatch(
      new RegExp(
        `^http_requests_shed_total\\{reason="client_in_flight"\\} ${refused.length}$`,
        'm',
      ),
    );
  });

  it('closes the connection of a client that stops reading its answers, after the socket timeout', async () => {
    const { app, port, inFlight } = await serveBigPages({
      HTTP_SOCKET_TIMEOUT_MS: String(SOCKET_TIMEOUT_MS),
      DATABASE_TIMEOUT_MS: String(SOCKET_TIMEOUT_MS / 2),
    });
    const client = connect(port, '127.0.0.1');
    client.on('error', () => undefined);
    const serverSide = serverSideOf(app, client);
    await new Promise((resolve) => client.once('connect', resolve));
    // Never read: more than the kernel's buffers on both sides hold, so answers stop moving.
    client.pause();
    client.write(pipelined(MAX_IN_FLIGHT));
    const socket = await serverSide;
    const started = performance.now();
    const closedAfter = await new Promise<number>((resolve) =>
      socket.once('close', () => resolve(performance.now() - started)),
    );
    client.destroy();
    expect(closedAfter).toBeGreaterThanOrEqual(SOCKET_TIMEOUT_MS - 50);
    expect(closedAfter).toBeLessThan(SOCKET_TIMEOUT_MS + SLACK_MS);
    // The answers it held are let go with it.
    await sleep(50);
    expect(await inFlight()).toBe(0);
  });
});
