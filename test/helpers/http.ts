import { STATUS_CODES } from 'node:http';
import type { LightMyRequestResponse } from 'fastify';
import { expect } from 'vitest';

/**
 * Asserts the one error shape: the status, a JSON body of exactly
 * `{statusCode, error, message}` (optionally matching `message`), and a request id.
 * Returns the message.
 */
export function expectError(
  res: LightMyRequestResponse,
  statusCode: number,
  message: RegExp = /\S/,
): string {
  expect({ status: res.statusCode, body: res.json<unknown>() }).toEqual({
    status: statusCode,
    body: {
      statusCode,
      error: STATUS_CODES[statusCode],
      message: expect.stringMatching(message) as string,
    },
  });
  expect(res.headers['content-type']).toMatch(/^application\/json/);
  expect(res.headers['x-request-id']).toEqual(expect.any(String));
  return res.json<{ message: string }>().message;
}
