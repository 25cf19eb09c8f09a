import { createHash, timingSafeEqual } from 'node:crypto';
import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance, FastifyRequest, preHandlerAsyncHookHandler } from 'fastify';
import fp from 'fastify-plugin';
import helmet from 'helmet';
import type { Config } from '../config.js';
import { HttpError } from './errors.js';

/** Security headers on every response, and a per-client rate limit (RATE_LIMIT_MAX=0 turns it off). */
export const securityPlugin = fp(
  async (app: FastifyInstance, { config }: { config: Config }) => {
    // Built once, so each request only sets the precomputed headers. (@fastify/helmet builds
    // the middleware, parsing the policy, anew for every request: 6-7 % of a busy CPU.)
    const securityHeaders = helmet({
      // Everything from this origin only; the docs UI loosens this on its own routes.
      contentSecurityPolicy: {
        directives: {
          defaultSrc: ["'self'"],
          fontSrc: ["'self'", 'data:'],
          // Material UI (Emotion) writes its styles into <style> elements at run time.
          styleSrc: ["'self'", "'unsafe-inline'"],
          // The service cannot tell whether it is reached over TLS (a local stack, a LAN
          // address); upgrading the page's requests there would leave it blank. HSTS does
          // the upgrading wherever HTTPS is in front.
          upgradeInsecureRequests: null,
        },
      },
    });
    app.addHook('onRequest', (request, reply, done) => {
      securityHeaders(request.raw, reply.raw, () => done());
    });
    if (config.RATE_LIMIT_MAX > 0) {
      await app.register(rateLimit, {
        max: config.RATE_LIMIT_MAX,
        timeWindow: config.RATE_LIMIT_WINDOW_MS,
      });
    }
  },
  { name: 'security' },
);

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
 * constant time); without one the action is open, which start-up warns about in production.
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
