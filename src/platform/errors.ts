import { STATUS_CODES } from 'node:http';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import Type from 'typebox';
import { isDatabaseUnavailable } from './database/index.js';
import { SECURITY_HEADERS } from './security-headers.js';

/** The one error body every non-2xx response carries. */
export const ErrorSchema = Type.Object(
  {
    statusCode: Type.Integer({ minimum: 400, maximum: 599 }),
    error: Type.String({ description: 'the HTTP reason phrase' }),
    message: Type.String({ description: 'what went wrong, for a person to read' }),
  },
  { description: 'Error' },
);

/** An error whose status and message are meant for the client. */
export class HttpError extends Error {
  constructor(
    readonly statusCode: number,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

// Seconds a client should wait before retrying when a dependency is down.
const RETRY_AFTER_SECONDS = '5';

// Enough of a path or value to recognise it by; an answer never echoes a flood back.
const QUOTED_INPUT_MAX = 64;
// Our own messages are a line; one from a library that quotes what it was sent is cut here.
const MESSAGE_MAX = 160;

/** A client's input as an error message may quote it: whole when short, else its start and "…". */
export function clip(input: string, max = QUOTED_INPUT_MAX): string {
  return input.length <= max ? input : `${input.slice(0, max)}…`;
}

/** Sends `{statusCode, error, message}` with the given status. */
export function sendError(reply: FastifyReply, statusCode: number, message: string) {
  return reply
    .code(statusCode)
    .type('application/json; charset=utf-8')
    .send({ statusCode, error: STATUS_CODES[statusCode] ?? 'Error', message });
}

/**
 * Maps every failure to the error shape: client mistakes keep their 4xx and message,
 * an unreachable database is a 503 with Retry-After, anything else is a logged 500
 * whose details stay in the log.
 */
export const errorsPlugin = fp(
  async (app: FastifyInstance) => {
    app.setErrorHandler((error: FastifyError | HttpError, request, reply) => {
      if (error instanceof HttpError) {
        reply.headers(error.headers);
        return sendError(reply, error.statusCode, error.message);
      }
      if ('validation' in error && error.validation) {
        return sendError(reply, 400, clip(error.message, MESSAGE_MAX));
      }
      if (error.statusCode !== undefined && error.statusCode >= 400 && error.statusCode < 500) {
        return sendError(reply, error.statusCode, clip(error.message, MESSAGE_MAX));
      }
      if (isDatabaseUnavailable(error)) {
        request.log.warn({ err: error }, 'database unavailable');
        reply.header('retry-after', RETRY_AFTER_SECONDS);
        return sendError(reply, 503, 'The database is unavailable; retry shortly');
      }
      request.log.error({ err: error }, 'request failed');
      return sendError(reply, 500, 'Internal server error');
    });

    app.setNotFoundHandler((request, reply) =>
      sendError(
        reply,
        404,
        `Route ${request.method} ${clip(request.url.split('?')[0] ?? '')} not found`,
      ),
    );
  },
  { name: 'errors' },
);

/**
 * Answers what Fastify rejects before routing, so before any hook runs (a malformed URL, a
 * path segment over the router's limit): the one error shape, the request id and the
 * security headers like every other answer, quoting no more than the start of the URL.
 */
export function answerFrameworkError(
  error: FastifyError,
  request: FastifyRequest,
  reply: FastifyReply,
) {
  const path = clip(request.url.split('?')[0] ?? '');
  const [statusCode, message] =
    error.code === 'FST_ERR_BAD_URL'
      ? [400, `${path} is not a valid url component`]
      : error.code === 'FST_ERR_MAX_PARAM_LENGTH'
        ? [414, `A part of ${path} is too long`]
        : [error.statusCode ?? 400, clip(error.message, MESSAGE_MAX)];
  void sendError(
    reply.headers(SECURITY_HEADERS).header('x-request-id', request.id),
    statusCode,
    message,
  );
}

/** A 503 for data routes while the database is not migrated and reachable yet. */
export function serviceUnavailable(message: string): HttpError {
  return new HttpError(503, message, { 'retry-after': RETRY_AFTER_SECONDS });
}
