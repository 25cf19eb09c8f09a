import { setTimeout as sleep } from 'node:timers/promises';
import type { FastifyInstance, onRequestAsyncHookHandler } from 'fastify';
import fp from 'fastify-plugin';
import { Gauge } from 'prom-client';
import Type, { type Static } from 'typebox';
import type { Config } from '../config.js';
import { ErrorSchema, HttpError } from './errors.js';
import { audit, requireAdmin } from './security.js';

const FaultsSchema = Type.Object(
  {
    latencyMs: Type.Integer({
      minimum: 0,
      maximum: 30_000,
      description: 'added before every app route answers',
    }),
    errorRate: Type.Number({
      minimum: 0,
      maximum: 1,
      description: 'share of app requests answered 500',
    }),
    sick: Type.Boolean({
      description: 'every app route answers 500 while /healthz and /readyz stay green',
    }),
  },
  { additionalProperties: false },
);
type Faults = Static<typeof FaultsSchema>;

const NONE: Faults = { latencyMs: 0, errorRate: 0, sick: false };

declare module 'fastify' {
  interface FastifyInstance {
    /** Slows or fails app routes as an operator asked; app.ts hooks it in when enabled. */
    injectFaults: onRequestAsyncHookHandler;
  }
}

/**
 * Fault injection for rehearsing alarms and rollbacks: added latency, an error rate, and a
 * sick replica whose probes stay green (so only alarms, not the load balancer, can catch
 * it). Off unless FAULT_INJECTION is set; then `PUT /admin/faults` with the admin token
 * sets this replica's faults. Platform routes are never touched.
 */
export const faultsPlugin = fp(
  async (app: FastifyInstance, { config }: { config: Config }) => {
    const faults: Faults = { ...NONE };
    app.decorate('injectFaults', async () => {
      if (faults.latencyMs > 0) await sleep(faults.latencyMs);
      if (faults.sick) throw new HttpError(500, 'This replica is sick (fault injection)');
      if (faults.errorRate > 0 && Math.random() < faults.errorRate)
        throw new HttpError(500, 'Injected failure (fault injection)');
    });
    if (!config.FAULT_INJECTION) return;

    new Gauge({
      name: 'fault_injection',
      help: 'Faults set on this replica: latency in ms, error rate 0..1, sick 0/1',
      labelNames: ['fault'],
      registers: [app.metrics.registry],
      collect() {
        this.set({ fault: 'latency_ms' }, faults.latencyMs);
        this.set({ fault: 'error_rate' }, faults.errorRate);
        this.set({ fault: 'sick' }, faults.sick ? 1 : 0);
      },
    });
    const schema = {
      tags: ['admin'],
      security: [{ adminToken: [] }],
      response: { 200: FaultsSchema, 401: ErrorSchema },
    };
    app.get(
      '/admin/faults',
      {
        preHandler: requireAdmin(config, 'faults.read'),
        schema: { ...schema, summary: "This replica's injected faults" },
      },
      async () => faults,
    );
    app.put(
      '/admin/faults',
      {
        preHandler: requireAdmin(config, 'faults.set'),
        schema: {
          ...schema,
          summary: "Sets this replica's injected faults; all zero turns them off",
          body: FaultsSchema,
          response: { ...schema.response, 400: ErrorSchema },
        },
      },
      async (request) => {
        Object.assign(faults, request.body);
        audit(request, 'faults.set', 'admin', 'success');
        request.log.warn({ faults }, 'fault injection: faults set');
        return faults;
      },
    );
  },
  { name: 'faults', dependencies: ['metrics'] },
);
