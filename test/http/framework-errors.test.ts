import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SECURITY_HEADERS } from '../../src/platform/security-headers.js';
import { listenOnLoopback, startApp, testConfig } from '../helpers/app.js';
import {
  expectEverySecurityHeader,
  expectRawAnswerRules,
  expectRawError,
  sendRaw,
} from '../helpers/raw-http.js';

const BODY_LIMIT_BYTES = 1024;
// Far over the router's 100 characters for a path parameter, so the router answers 414.
const LONG_ID = '9'.repeat(3000);

/** A request as raw bytes; `Connection: close` so the server ends the exchange. */
function request(method: string, target: string, headers: string[] = [], body = ''): Buffer {
  const lines = [
    `${method} ${target} HTTP/1.1`,
    'Host: 127.0.0.1',
    'Connection: close',
    ...headers,
  ];
  if (body !== '') lines.push(`Content-Length: ${Buffer.byteLength(body)}`);
  return Buffer.from(`${lines.join('\r\n')}\r\n\r\n${body}`, 'latin1');
}

const json = 'Content-Type: application/json';

/**
 * Answers that Fastify or its parsers give before or around the route (not a handler's own
 * error), each seen on a real socket: the same security headers as every other answer, a
 * request id, and the one error shape.
 */
const CASES = [
  { status: 400, what: 'a malformed URL', bytes: request('GET', '/items/%zz') },
  { status: 404, what: 'an unknown route', bytes: request('GET', '/no/such/route') },
  {
    status: 413,
    what: 'a body over BODY_LIMIT_BYTES',
    bytes: request('POST', '/items', [json], JSON.stringify({ name: 'x'.repeat(2000) })),
  },
  { status: 414, what: 'an oversized path', bytes: request('GET', `/items/${LONG_ID}`) },
  {
    status: 415,
    what: 'a text/plain body to a JSON route',
    bytes: request('POST', '/items', ['Content-Type: text/plain'], 'name=x'),
  },
] as const;

describe('framework errors, over a real socket', () => {
  let app: FastifyInstance;
  let port: number;
  beforeAll(async () => {
    app = await startApp(testConfig({ BODY_LIMIT_BYTES: String(BODY_LIMIT_BYTES) }));
    port = await listenOnLoopback(app);
  });
  afterAll(() => app.close());

  it('checks the whole set of security headers, not a sample', () => {
    expect(Object.keys(SECURITY_HEADERS).length).toBeGreaterThanOrEqual(10);
  });

  it.each(CASES)('answers $status to $what with every security header', async (each) => {
    const response = await sendRaw(port, each.bytes);
    expect(response.status, response.headers).toBe(each.status);
    expectRawAnswerRules(response, each.bytes.toString('latin1').split(' ')[0] ?? '');
    expectEverySecurityHeader(response);
    expectRawError(response);
  });

  it('quotes only the start of an oversized path in its 414', async () => {
    const response = await sendRaw(port, request('GET', `/items/${LONG_ID}`));
    expect(response.status).toBe(414);
    const message = expectRawError(response);
    expect(message).toMatch(/^A part of \/items\/9+… is too long$/);
    expect(message).not.toContain('9'.repeat(100));
  });
});
