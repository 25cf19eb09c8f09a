import { AsyncResource } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import pino, { type DestinationStream, type LoggerOptions } from 'pino';
import fp from 'fastify-plugin';
import type { Config } from '../config.js';
import { isStream } from './replies.js';
import type { Tracing } from './tracing/index.js';

const REQUEST_ID = /^[\w.:-]{1,128}$/;

/** Keeps a caller's `x-request-id` when it is safe to log and echo; otherwise makes one. */
export function requestIdFor(request: IncomingMessage): string {
  const incoming = request.headers['x-request-id'];
  return typeof incoming === 'string' && REQUEST_ID.test(incoming) ? incoming : randomUUID();
}

let stampedAt = 0;
let stamp = '';
/**
 * pino's time field, ISO 8601 to the millisecond: formatted once a millisecond, not once a
 * line (under load, dozens of lines share one).
 */
function isoTimestamp(): string {
  const now = Date.now();
  if (now !== stampedAt) {
    stampedAt = now;
    stamp = `,"time":"${new Date(now).toISOString()}"`;
  }
  return stamp;
}

/**
 * pino options: JSON lines with ISO time and level names; credentials never written. With
 * tracing on, every line written under a span names its trace and span.
 */
export function loggerOptions(config: Config, tracing?: Tracing): LoggerOptions {
  return {
    ...(tracing === undefined ? {} : { mixin: tracing.logFields }),
    level: config.LOG_LEVEL,
    base: { service: 'shipshape', revision: config.GIT_REVISION },
    timestamp: isoTimestamp,
    formatters: { level: (label) => ({ level: label }) },
    redact: {
      paths: ['req.headers.authorization', 'req.headers.cookie', 'headers.authorization'],
      censor: '[redacted]',
    },
  };
}

/**
 * Standard output, each line written before the logging call returns: a line the service
 * has logged is the kernel's, so a crash or an OOM kill loses none. It costs a write(2) per
 * line, and when whatever reads standard output stops, the service waits for it instead of
 * queueing lines in memory without bound (decision 34).
 */
export function logDestination(): DestinationStream {
  return pino.destination({ dest: 1, sync: true });
}

/**
 * One log line per request: route pattern (not the URL, which can carry a username),
 * status, duration, cache result, the request id, which every response echoes, and the AWS
 * load balancer's trace id when it sent one. An event stream's line comes when it closes.
 */
function logCompleted(request: FastifyRequest, reply: FastifyReply): void {
  const cache = reply.getHeader('x-cache');
  const amazonTraceId = request.headers['x-amzn-trace-id'];
  request.log.info(
    {
      method: request.method,
      route: request.routeOptions.url ?? 'unmatched',
      statusCode: reply.statusCode,
      durationMs: Math.round(reply.elapsedTime * 100) / 100,
      ...(cache === undefined ? {} : { cache }),
      ...(amazonTraceId === undefined ? {} : { amazonTraceId }),
    },
    'request completed',
  );
}

const streamed = new WeakSet<FastifyRequest>();

export const requestLoggingPlugin = fp(
  async (app: FastifyInstance) => {
    // Callback-style hooks, here and in the other platform plugins: every request runs
    // them, and an async hook costs a promise and a microtask each time.
    app.addHook('onRequest', (request, reply, done) => {
      reply.header('x-request-id', request.id);
      done();
    });
    // A streamed reply (an event stream) ends when either side closes it; a client that
    // goes away ends it without the 'finish' that onResponse waits for.
    app.addHook('onSend', (request, reply, payload, done) => {
      if (isStream(payload)) {
        streamed.add(request);
        // Bound to the request's async context, so the line still names its trace.
        reply.raw.once(
          'close',
          AsyncResource.bind(() => logCompleted(request, reply)),
        );
      }
      done(null, payload);
    });
    app.addHook('onResponse', (request, reply, done) => {
      if (!streamed.has(request)) logCompleted(request, reply);
      done();
    });
  },
  { name: 'request-logging' },
);
