import { connect } from 'node:net';
import { expect } from 'vitest';
import { SECURITY_HEADERS } from '../../src/platform/security-headers.js';

export interface RawResponse {
  status: number;
  headers: string;
  body: string;
}

/**
 * Sends bytes exactly as given (no client library tidies them up) on a fresh connection and
 * reads the answer. An event stream is cut once its headers have arrived.
 */
export function sendRaw(port: number, request: Buffer): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no answer in 5 s to ${request.subarray(0, 200).toString('latin1')}`));
    }, 5000);
    const finish = () => {
      clearTimeout(timer);
      // One character a byte, so string offsets are byte offsets. Interim answers
      // (`100 Continue`) come before the final one and carry no headers: skip them.
      const bytes = Buffer.concat(chunks);
      const raw = bytes.toString('latin1');
      const start = raw.length - raw.replace(/^(HTTP\/1\.1 1\d\d [^\r]*\r\n\r\n)+/, '').length;
      const end = raw.indexOf('\r\n\r\n', start);
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(raw.slice(start))?.[1] ?? 0);
      const headers = bytes.subarray(start, end < 0 ? undefined : end).toString('utf8');
      // Only the first response: a broken body may earn the connection a second one.
      const length = /^content-length: (\d+)$/im.exec(headers)?.[1];
      const rest = bytes.subarray(end + 4);
      const body = (length === undefined ? rest : rest.subarray(0, Number(length))).toString(
        'utf8',
      );
      resolve({ status, headers, body: end < 0 ? '' : body });
    };
    socket.on('data', (chunk) => {
      chunks.push(chunk);
      if (/content-type: text\/event-stream/i.test(Buffer.concat(chunks).toString('latin1'))) {
        socket.destroy();
        finish();
      }
    });
    socket.on('end', finish);
    // The server may reset a connection it has already answered (a body it will not read).
    socket.on('error', () => (chunks.length > 0 ? finish() : undefined));
    // Not end(): Node drops the answer to a request whose body it had not read yet when the
    // client half-closes. `Connection: close` makes the server end the exchange instead.
    socket.on('connect', () => socket.write(request));
  });
}

// Enough to recognise a path or value by; see clip() in src/platform/errors.ts.
const LONGEST_MESSAGE = 200;

/**
 * What every answer carries, whichever layer gave it (a route, Fastify before routing, Node's
 * parser): the security headers and a request id; and an error, beyond that, is
 * `{statusCode, error, message}` whose message quotes no more than a short prefix of the input.
 */
export function expectRawAnswerRules(response: RawResponse, method: string): void {
  expect(response.headers, 'security headers').toMatch(/^x-content-type-options: nosniff$/im);
  expect(response.headers, 'security headers').toMatch(
    /^content-security-policy: default-src 'self'/im,
  );
  expect(response.headers, 'request id').toMatch(/^x-request-id: \S+$/im);
  if (response.status >= 400 && method !== 'HEAD') expectRawError(response);
}

/** Every one of the security headers a route's answer has, each with the same value. */
export function expectEverySecurityHeader(response: RawResponse): void {
  const lines = new Set(response.headers.toLowerCase().split('\r\n'));
  const missing = Object.entries(SECURITY_HEADERS)
    .map(([name, value]) => `${name}: ${value}`.toLowerCase())
    .filter((line) => !lines.has(line));
  expect(missing, response.headers).toEqual([]);
}

/** The one error shape, with a message of bounded length. */
export function expectRawError(response: RawResponse): string {
  const error = JSON.parse(response.body) as Record<string, unknown>;
  expect(error, response.headers).toEqual({
    statusCode: response.status,
    error: expect.any(String) as string,
    message: expect.any(String) as string,
  });
  const message = error.message as string;
  expect(message.length, message).toBeLessThanOrEqual(LONGEST_MESSAGE);
  return message;
}
