import type { IncomingMessage } from 'node:http';
import underPressure from '@fastify/under-pressure';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { Counter, Gauge } from 'prom-client';
import type { Config } from '../config.js';
import { HttpError, serviceUnavailable } from './errors.js';
import { isStream } from './replies.js';

const SAMPLE_INTERVAL_MS = 1000;

type ShedReason = 'event_loop' | 'in_flight' | 'client_in_flight';

/**
 * Beyond capacity, app routes answer 503 with Retry-After at once instead of queueing
 * into unbounded latency or memory: the load balancer and clients retry elsewhere or later.
 * Register it in the scope of the app routes, so probes, /status and /metrics always answer.
 */
export const loadSheddingPlugin = fp(
  async (scope: FastifyInstance, { config }: { config: Config }) => {
    const shed = new Counter({
      name: 'http_requests_shed_total',
      help: 'Requests refused for load: event_loop or in_flight (503), client_in_flight (429)',
      labelNames: ['reason'] as const,
      registers: [scope.metrics.registry],
    });
    // One log line per second of shedding, not one per request: writing thousands of lines
    // would add work to a process that is already behind.
    let shedSinceLog = 0;
    let nextLogAt = 0;
    const refuse = (log: FastifyInstance['log'], reason: ShedReason) => {
      shed.inc({ reason });
      shedSinceLog += 1;
      const now = performance.now();
      if (now >= nextLogAt) {
        log.warn({ pressure: reason, shed: shedSinceLog }, 'overloaded: requests shed');
        shedSinceLog = 0;
        nextLogAt = now + SAMPLE_INTERVAL_MS;
      }
      return reason === 'client_in_flight'
        ? new HttpError(
            429,
            `At most ${config.HTTP_MAX_IN_FLIGHT_PER_CLIENT} requests at once per client; retry shortly`,
            { 'retry-after': '1' },
          )
        : serviceUnavailable('The service is overloaded; retry shortly');
    };
    limitInFlight(
      scope,
      { max: config.HTTP_MAX_IN_FLIGHT, perClient: config.HTTP_MAX_IN_FLIGHT_PER_CLIENT },
      refuse,
    );
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

const kClient = Symbol('shipshape in-flight client');
type CountedRequest = IncomingMessage & { [kClient]?: string };

/**
 * At most `max` requests at once, and `perClient` from one client address, counted from
 * their arrival until their answer has left for the kernel or the client has gone: a page
 * of 1,000 long names is about a megabyte, and Node answers pipelined requests, or a client
 * that does not read, only as fast as the client takes them, so answers waiting to be sent
 * would otherwise grow without bound, and one client could take every place. An event
 * stream counts until it opens (the streams have their own caps).
 */
function limitInFlight(
  scope: FastifyInstance,
  { max, perClient }: { max: number; perClient: number },
  refuse: (log: FastifyInstance['log'], reason: 'in_flight' | 'client_in_flight') => Error,
): void {
  let inFlight = 0;
  const byClient = new Map<string, number>();
  // Gives a request's place back, once, whichever comes first: its answer finished
  // (onResponse), or the request's own 'close', which also comes when the connection drops
  // and for pipelined requests still queued behind an answer then (their responses never
  // finish nor close). One function for every request, not a closure each.
  function release(this: CountedRequest) {
    const client = this[kClient];
    if (client === undefined) return;
    this[kClient] = undefined;
    inFlight -= 1;
    const left = (byClient.get(client) ?? 1) - 1;
    if (left === 0) byClient.delete(client);
    else byClient.set(client, left);
  }
  new Gauge({
    name: 'http_requests_in_flight',
    help: 'Data requests in progress or with an answer not yet sent; HTTP_MAX_IN_FLIGHT caps them',
    registers: [scope.metrics.registry],
    collect() {
      this.set(inFlight);
    },
  });
  scope.addHook('onRequest', (request, _reply, done) => {
    const raw: CountedRequest = request.raw;
    // A client gone while earlier hooks waited (the rate limit asks Redis) is not counted:
    // its 'close' has passed.
    if (raw.closed) return done();
    const client = request.ip;
    const clientCount = byClient.get(client) ?? 0;
    if (clientCount >= perClient) return done(refuse(request.log, 'client_in_flight'));
    if (inFlight >= max) return done(refuse(request.log, 'in_flight'));
    inFlight += 1;
    byClient.set(client, clientCount + 1);
    raw[kClient] = client;
    raw.on('close', release);
    done();
  });
  scope.addHook('onSend', (request, _reply, payload, done) => {
    if (isStream(payload)) release.call(request.raw);
    done(null, payload);
  });
  scope.addHook('onResponse', (request, _reply, done) => {
    release.call(request.raw);
    done();
  });
}
