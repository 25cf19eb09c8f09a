import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DATE_OF_BIRTH, USER_AGENT, runJourney } from '../canary/journey';

interface Seen {
  method: string;
  url: string;
  userAgent: string | undefined;
  contentType: string | undefined;
  body: string;
}

/** A stand-in for the public entrance: answers as the test says, and records what came. */
let answer: (request: Seen) => { status: number; body?: unknown };
let seen: Seen[] = [];
let server: Server;
let baseUrl: string;

const readBody = async (request: IncomingMessage) => {
  let body = '';
  for await (const chunk of request) body += String(chunk);
  return body;
};

beforeAll(async () => {
  server = createServer((request, response) => {
    void readBody(request).then((body) => {
      const record: Seen = {
        method: request.method ?? '',
        url: request.url ?? '',
        userAgent: request.headers['user-agent'],
        contentType: request.headers['content-type'],
        body,
      };
      seen.push(record);
      const { status, body: reply } = answer(record);
      response.writeHead(status, reply === undefined ? {} : { 'content-type': 'application/json' });
      response.end(reply === undefined ? undefined : JSON.stringify(reply));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise((resolve) => server.close(resolve)));
beforeEach(() => {
  seen = [];
});

const steps: string[] = [];
const walk = (username = 'canary') =>
  runJourney({
    baseUrl,
    username,
    fetch,
    step: async (name, run) => {
      steps.push(name);
      await run();
    },
    timeoutMs: 2000,
  });
const healthy = ({ method }: Seen) =>
  method === 'PUT'
    ? { status: 204 }
    : { status: 200, body: { message: 'Hello, canary! Your birthday is in 5 days' } };

describe('the canary journey (infra/aws/canary/journey.js)', () => {
  it('saves a birthday, then reads the greeting, as two named steps', async () => {
    answer = healthy;
    steps.length = 0;
    await walk();
    expect(steps).toEqual(['save a birthday', 'read the greeting']);
    expect(seen.map(({ method, url }) => `${method} ${url}`)).toEqual([
      'PUT /hello/canary',
      'GET /hello/canary',
    ]);
    expect(seen[0]).toMatchObject({ contentType: 'application/json' });
    expect(JSON.parse(seen[0]?.body ?? '')).toEqual({ dateOfBirth: DATE_OF_BIRTH });
    // WAF's common rule set blocks requests without one.
    for (const request of seen) expect(request.userAgent).toBe(USER_AGENT);
  });

  it.each([
    'Hello, canary! Happy birthday!',
    'Hello, canary! Your birthday is in 1 day',
    'Hello, canary! Your birthday is in 364 days',
  ])('accepts the greeting "%s"', async (message) => {
    answer = (request) =>
      request.method === 'PUT' ? { status: 204 } : { status: 200, body: { message } };
    await expect(walk()).resolves.toBeUndefined();
  });

  it('fails, naming the step and the status, when the save is refused', async () => {
    answer = ({ method }) =>
      method === 'PUT'
        ? { status: 503, body: { statusCode: 503, error: 'Service Unavailable' } }
        : healthy({ method } as Seen);
    await expect(walk()).rejects.toThrow(
      /^save a birthday: expected 204, got 503 .*Service Unavailable/,
    );
    expect(seen).toHaveLength(1);
  });

  it('fails when the greeting is missing, for another user, or not a greeting', async () => {
    for (const body of [
      { message: 'Hello, someone! Your birthday is in 5 days' },
      { message: 'Hello, canary!' },
      { greeting: 'Hello, canary! Happy birthday!' },
      [],
    ]) {
      answer = (request) => (request.method === 'PUT' ? { status: 204 } : { status: 200, body });
      await expect(walk()).rejects.toThrow(/^read the greeting: unexpected body/);
    }
    answer = (request) => (request.method === 'PUT' ? { status: 204 } : { status: 404, body: {} });
    await expect(walk()).rejects.toThrow(/^read the greeting: expected 200, got 404/);
  });

  it('gives up on a request that takes longer than its timeout', async () => {
    const silent = createServer(() => undefined);
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const started = Date.now();
    await expect(
      runJourney({
        baseUrl: `http://127.0.0.1:${(silent.address() as AddressInfo).port}`,
        username: 'canary',
        fetch,
        step: (_name, run) => run(),
        timeoutMs: 200,
      }),
    ).rejects.toThrow(/aborted|timeout/i);
    expect(Date.now() - started).toBeLessThan(5000);
    silent.closeAllConnections();
    await new Promise((resolve) => silent.close(resolve));
  });
});
