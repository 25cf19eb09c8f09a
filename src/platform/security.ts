import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance, FastifyRequest, preHandlerAsyncHookHandler } from 'fastify';
import fp from 'fastify-plugin';
import type { Redis } from 'ioredis';
import type { Config } from '../config.js';
import { HttpError } from './errors.js';
import { requestIdFor } from './logging.js';
import { sharedRateLimitStore } from './rate-limit-store.js';
import { createRedisClient } from './redis.js';
import { SECURITY_HEADERS } from './security-headers.js';

/**
 * Security headers on every response, and a per-client rate limit (RATE_LIMIT_MAX=0 turns
 * it off). With Redis the limit is counted there, so it holds however many replicas share
 * the traffic, in batches rather than a round trip per request (rate-limit-store.ts); when
 * Redis cannot answer, requests go through rather than fail (fail-open, as the cache is). Clients are told apart by `request.ip`, which believes X-Forwarded-For
 * only from TRUST_PROXY's addresses.
 */
export const securityPlugin = fp(
  async (app: FastifyInstance, { config }: { config: Config }) => {
    app.addHook('onRequest', (_request, reply, done) => {
      reply.headers(SECURITY_HEADERS);
      done();
    });
    // Once close() has begun, Fastify answers each new request with its own 503
    // (return503OnClosing) before any hook runs: from then on the headers go on first.
    // Refusing stays right: nginx tries a 503 on another replica, and a request let through
    // could open an event stream after they have all been ended for shutdown.
    app.addHook('preClose', (done) => {
      app.server.prependListener('request', secureUnhookedAnswer);
      done();
    });
    if (config.RATE_LIMIT_MAX === 0) return;
    const redis =
      config.REDIS_URL === undefined
        ? undefined
        : await connectRateLimitStore(app, config.REDIS_URL, config.REDIS_TIMEOUT_MS);
    const shared =
      redis === undefined
        ? undefined
        : sharedRateLimitStore(redis, `${config.REDIS_KEY_PREFIX}rate-limit:`);
    if (shared !== undefined) app.addHook('onClose', async () => shared.close());
    await app.register(rateLimit, {
      max: config.RATE_LIMIT_MAX,
      timeWindow: config.RATE_LIMIT_WINDOW_MS,
      ...(shared === undefined ? {} : { store: shared.Store, skipOnError: true }),
    });
  },
  { name: 'security' },
);

/**
 * Gives an answer written without hooks the security headers and a request id. The id
 * goes on the request too, where Fastify reads it (genReqId), so its log line has the same.
 */
function secureUnhookedAnswer(request: IncomingMessage, response: ServerResponse): void {
  const id = requestIdFor(request);
  request.headers['x-request-id'] = id;
  for (const [name, value] of Object.entries(SECURITY_HEADERS)) response.setHeader(name, value);
  response.setHeader('x-request-id', id);
}

/** The rate limit's own Redis connection, reporting an outage once and its end once. */
async function connectRateLimitStore(
  app: FastifyInstance,
  url: string,
  timeoutMs: number,
): Promise<Redis> {
  const redis = createRedisClient(url, timeoutMs);
  let failing = false;
  redis.on('error', (error: Error) => {
    if (!failing) app.log.warn({ err: error }, 'rate limit: redis unavailable, not limiting');
    failing = true;
  });
  redis.on('ready', () => {
    if (failing) app.log.info('rate limit: redis available again');
    failing = false;
  });
  // Bounded by the connect timeout; a failed first attempt keeps retrying in the background.
  await redis.connect().catch(() => undefined);
  app.addHook('onClose', async () => {
    await redis.quit().catch(() => redis.disconnect());
  });
  return redis;
}

/** An admin action's record: who, when, from where, and how it ended. */
export function audit(
  request: FastifyRequest,
  action: string,
  actor: 'admin' | 'anonymous',
  result: 'success' | 'denied' | 'failed',
): void {
  request.log.info(
    { audit: { action, actor, result, ip: request.ip, at: new Date().toISOString() } },
    `audit: ${action} ${result}`,
  );
}

const digest = (value: string) => createHash('sha256').update(value).digest();

/**
 * Requires `Authorization: Bearer <ADMIN_TOKEN>` when a token is configured (compared in
 * constant time). Without one the action is open: production refuses to start so, and
 * development says so at start-up.
 */
export function requireAdmin(config: Config, action: string): preHandlerAsyncHookHandler {
  const expected = config.ADMIN_TOKEN === undefined ? undefined : digest(config.ADMIN_TOKEN);
  return async function adminGuard(request) {
    if (expected === undefined) return;
    const match = /^Bearer (\S+)$/i.exec(request.headers.authorization ?? '');
    if (match?.[1] !== undefined && timingSafeEqual(digest(match[1]), expected)) return;
    audit(request, action, 'anonymous', 'denied');
    throw new HttpError(401, 'A valid admin token is required (Authorization: Bearer <token>)', {
      'www-authenticate': 'Bearer realm="shipshape"',
    });
  };
}
