import underPressure from '@fastify/under-pressure';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { Counter, Gauge } from 'prom-client';
import type { Config } from '../config.js';
import { serviceUnavailable } from './errors.js';
import { isStream } from './replies.js';

const SAMPLE_INTERVAL_MS = 1000;

/**
 * Beyond capacity, app routes answer 503 with Retry-After at once instead of queueing
 * into unbounded latency or memory: the load balancer and clients retry elsewhere or later.
 * Register it in the scope of the app routes, so probes, /status and /metrics always answer.
 */
export const loadSheddingPlugin = fp(
  async (scope: FastifyInstance, { config }: { config: Config }) => {
    const shed = new Counter({
      name: 'http_requests_shed_total',
      help: 'Requests answered 503 because the replica was overloaded: event_loop or in_flight',
      labelNames: ['reason'] as const,
      registers: [scope.metrics.registry],
    });
    // One log line per second of shedding, not one per request: writing thousands of lines
    // would add work to a process that is already behind.
    let shedSinceLog = 0;
    let nextLogAt = 0;
    const refuse = (log: FastifyInstance['log'], reason: 'event_loop' | 'in_flight') => {
      shed.inc({ reason });
      shedSinceLog += 1;
      const now = performance.now();
      if (now >= nextLogAt) {
        log.warn({ pressure: reason, shed: shedSinceLog }, 'overloaded: requests shed');
        shedSinceLog = 0;
        nextLogAt = now + SAMPLE_INTERVAL_MS;
      }
      return serviceUnavailable('The service is overloaded; retry shortly');
    };
    limitInFlight(scope, config.HTTP_MAX_IN_FLIGHT, (log) => refuse(log, 'in_flight'));
    if (config.MAX_EVENT_LOOP_DELAY_MS === 0) return;

    // Start-up work (loading code, compiling PGlite) blocks the loop before the service is
    // ready; the samples that cover it are not overload, so shedding waits two samples more.
    let sheddingFrom = Infinity;
    void scope.databaseReadiness
      .whenReady()
      .then(() => (sheddingFrom = performance.now() + 2 * SAMPLE_INTERVAL_MS));
    await scope.register(underPressure, {
      maxEventLoopDelay: config.MAX_EVENT_LOOP_DELAY_MS,
      // Checked against the mean delay of each 1 s sample: sustained overload, not one GC.
      sampleInterval: SAMPLE_INTERVAL_MS,
      pressureHandler: async (request) => {
        if (performance.now() < sheddingFrom) return;
        throw refuse(request.log, 'event_loop');
      },
    });
  },
  { name: 'load-shedding', dependencies: ['metrics'] },
);

/**
 * At most `max` requests at once, counted from their arrival until their answer has left
 * for the kernel or the client has gone: a page of 1,000 long names is about a megabyte,
 * and Node answers pipelined requests, or a client that does not read, only as fast as the
 * client takes them, so answers waiting to be sent would otherwise grow without bound. An
 * event stream counts until it opens (the streams have their own caps).
 */
function limitInFlight(
  scope: FastifyInstance,
  max: number,
  refuse: (log: FastifyInstance['log']) => Error,
): void {
  let inFlight = 0;
  // One listener for every request, not a closure each. The request's own 'close' comes
  // once in every case: after its answer has gone, when its connection drops, and for
  // pipelined requests still queued behind an answer when that happens (their responses
  // never get a 'close' of their own).
  function release() {
    inFlight -= 1;
  }
  new Gauge({
    name: 'http_requests_in_flight',
    help: 'Data requests in progress or with an answer not yet sent; HTTP_MAX_IN_FLIGHT caps them',
    registers: [scope.metrics.registry],
    collect() {
      this.set(inFlight);
    },
  });
  scope.addHook('onRequest', (request, reply, done) => {
    // A client gone while earlier hooks waited (the rate limit asks Redis) is not counted:
    // its 'close' has passed.
    if (request.raw.closed) return done();
    if (inFlight >= max) return done(refuse(request.log));
    inFlight += 1;
    request.raw.on('close', release);
    done();
  });
  scope.addHook('onSend', (request, _reply, payload, done) => {
    if (isStream(payload) && request.raw.listeners('close').includes(release)) {
      request.raw.removeListener('close', release);
      inFlight -= 1;
    }
    done(null, payload);
  });
}
