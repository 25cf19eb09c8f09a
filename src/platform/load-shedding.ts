import underPressure from '@fastify/under-pressure';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { Counter } from 'prom-client';
import type { Config } from '../config.js';
import { serviceUnavailable } from './errors.js';

const SAMPLE_INTERVAL_MS = 1000;

/**
 * Beyond capacity, app routes answer 503 with Retry-After at once instead of queueing
 * into unbounded latency: the load balancer and clients retry elsewhere or later. Register
 * it in the scope of the app routes, so probes, /status and /metrics always answer.
 */
export const loadSheddingPlugin = fp(
  async (scope: FastifyInstance, { config }: { config: Config }) => {
    if (config.MAX_EVENT_LOOP_DELAY_MS === 0) return;
    // Start-up work (loading code, compiling PGlite) blocks the loop before the service is
    // ready; the samples that cover it are not overload, so shedding waits two samples more.
    let sheddingFrom = Infinity;
    void scope.databaseReadiness
      .whenReady()
      .then(() => (sheddingFrom = performance.now() + 2 * SAMPLE_INTERVAL_MS));
    const shed = new Counter({
      name: 'http_requests_shed_total',
      help: 'Requests answered 503 because the event loop was overloaded',
      registers: [scope.metrics.registry],
    });
    // One log line per second of shedding, not one per request: writing thousands of lines
    // would add work to a process that is already behind.
    let shedSinceLog = 0;
    let nextLogAt = 0;
    await scope.register(underPressure, {
      maxEventLoopDelay: config.MAX_EVENT_LOOP_DELAY_MS,
      // Checked against the mean delay of each 1 s sample: sustained overload, not one GC.
      sampleInterval: SAMPLE_INTERVAL_MS,
      pressureHandler: async (request, _reply, type, value) => {
        const now = performance.now();
        if (now < sheddingFrom) return;
        shed.inc();
        shedSinceLog += 1;
        if (now >= nextLogAt) {
          request.log.warn(
            { pressure: type, value, shed: shedSinceLog },
            'overloaded: requests shed',
          );
          shedSinceLog = 0;
          nextLogAt = now + SAMPLE_INTERVAL_MS;
        }
        throw serviceUnavailable('The service is overloaded; retry shortly');
      },
    });
  },
  { name: 'load-shedding', dependencies: ['metrics'] },
);
