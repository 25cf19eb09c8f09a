import { hostname } from 'node:os';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { Gauge } from 'prom-client';
import Type from 'typebox';
import type { Config } from '../config.js';
import { ErrorSchema, sendError } from './errors.js';
import { version } from './version.js';

const READINESS_REUSE_MS = 1000;

/** The process's place in its life: serving, or draining before shutdown. */
export interface Lifecycle {
  readonly draining: boolean;
  /** Turns readiness off (liveness stays on) so load balancers stop sending traffic. */
  beginDrain(): void;
}

declare module 'fastify' {
  interface FastifyInstance {
    lifecycle: Lifecycle;
  }
}

const StatusSchema = Type.Object({
  status: Type.Literal('ok'),
  version: Type.String(),
  revision: Type.String({ description: 'git commit of the build' }),
  hostname: Type.String({ description: 'which replica answered' }),
  uptimeSeconds: Type.Number(),
  ready: Type.Boolean({ description: 'the same answer /readyz gives, without probing' }),
  database: Type.String(),
  cache: Type.String(),
});
const ProbeSchema = Type.Object({ status: Type.String() });

/** `/status`, `/healthz` (liveness) and `/readyz` (readiness), and the drain switch. */
export const healthPlugin = fp(
  async (app: FastifyInstance, { config }: { config: Config }) => {
    let draining = false;
    app.decorate('lifecycle', {
      get draining() {
        return draining;
      },
      beginDrain: () => void (draining = true),
    });
    const isReady = () => !draining && app.databaseReadiness.ready;
    // While draining, every response asks the client to reconnect (elsewhere): keep-alive
    // connections then end with their last request, and closing does not wait on them.
    app.addHook('onSend', (_request, reply, payload, done) => {
      if (draining) reply.header('connection', 'close');
      done(null, payload);
    });
    const platform = { tags: ['platform'] };
    const routeConfig = { rateLimit: false } as const;
    // Read once: a replica's name does not change, and the call is a system call per request.
    const replica = hostname();

    app.get(
      '/status',
      {
        config: routeConfig,
        schema: {
          ...platform,
          summary: 'Version, revision and readiness of this replica',
          response: { 200: StatusSchema },
        },
      },
      async () => ({
        status: 'ok' as const,
        version,
        revision: config.GIT_REVISION,
        hostname: replica,
        uptimeSeconds: Math.round(process.uptime()),
        ready: isReady(),
        database: app.database.driver,
        cache: app.cache.kind,
      }),
    );

    app.get(
      '/healthz',
      {
        config: routeConfig,
        schema: {
          ...platform,
          summary: 'Liveness: 200 while the process runs',
          response: { 200: ProbeSchema },
        },
      },
      async () => ({ status: 'ok' }),
    );

    app.get(
      '/readyz',
      {
        config: routeConfig,
        schema: {
          ...platform,
          summary: 'Readiness: 200 only when the database answers and the process is not draining',
          response: { 200: ProbeSchema, 503: ErrorSchema },
        },
      },
      async (_request, reply) => {
        const problem = await readinessProblem();
        if (problem !== undefined) return sendError(reply, 503, problem);
        return { status: 'ready' };
      },
    );

    // The same answer for Prometheus, so an alert sees a replica its load balancer skips.
    new Gauge({
      name: 'service_ready',
      help: '1 while this replica answers /readyz with 200',
      registers: [app.metrics.registry],
      async collect() {
        this.set((await readinessProblem()) === undefined ? 1 : 0);
      },
    });

    // Probes and scrapes reuse a recent check: however many load balancers, kubelets and
    // Prometheus servers ask (or anyone who reaches the replica), the database sees at most
    // about one `SELECT 1` a second from each replica.
    let lastCheck: { at: number; problem: Promise<string | undefined> } | undefined;
    const databaseProblem = () => {
      const now = performance.now();
      if (lastCheck === undefined || now - lastCheck.at >= READINESS_REUSE_MS) {
        const problem = app.database.query('SELECT 1').then(
          () => undefined,
          () => 'Database unreachable',
        );
        lastCheck = { at: now, problem };
      }
      return lastCheck.problem;
    };

    /** Why this replica should get no traffic now, or undefined when it should. */
    async function readinessProblem(): Promise<string | undefined> {
      if (draining) return 'Draining: shutting down';
      if (!app.databaseReadiness.ready) return 'Database not ready';
      return databaseProblem();
    }
  },
  { name: 'health', dependencies: ['metrics', 'database', 'cache'] },
);
