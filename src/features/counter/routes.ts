import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Counter, Gauge, Histogram } from 'prom-client';
import Type from 'typebox';
import type { Config } from '../../config.js';
import { ErrorSchema } from '../../platform/errors.js';
import { audit, requireAdmin } from '../../platform/security.js';
import { createCounterEvents } from './events.js';
import { CounterSchema } from './schema.js';
import { createCounterService } from './service.js';
import { createCounterStore } from './store.js';

const tags = ['counter'];
const COUNTER_NAME = 'cameras';

/** `/counter`, `/decrement`, `/reset` and the live `/counter/events` stream. */
export const counterRoutes: FastifyPluginAsyncTypebox<{ config: Config }> = async (
  app,
  { config },
) => {
  const registers = [app.metrics.registry];
  const batchSizes = new Histogram({
    name: 'counter_sale_batch_size',
    help: 'Sales committed together in one statement',
    buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256],
    registers,
  });
  const store = createCounterStore(app.database, COUNTER_NAME);
  const counter = createCounterService(store, config.COUNTER_INITIAL_STOCK, {
    onBatch: (size) => batchSizes.observe(size),
  });
  const delays = new Histogram({
    name: 'counter_event_delay_seconds',
    help: 'From a committed counter change to its event written to every open stream here',
    // Around the live-updates SLO's threshold (slo/objectives.ts), which must be one of them.
    buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers,
  });
  const events = createCounterEvents(app.database, COUNTER_NAME, () => counter.current(), app.log, {
    onDelivered: (seconds) => delays.observe(seconds),
  });
  const sold = new Counter({ name: 'cameras_sold_total', help: 'Cameras sold', registers });
  const resets = new Counter({ name: 'counter_resets_total', help: 'Stock resets', registers });
  new Gauge({
    name: 'counter_sales_waiting',
    help: 'Sales waiting for the statement in flight, to go in the next one',
    registers,
    collect() {
      this.set(counter.salesWaiting());
    },
  });
  const stock = new Gauge({
    name: 'cameras_in_stock',
    help: 'Cameras left, as last seen',
    registers,
  });

  app.databaseReadiness.onReady(async () => {
    await store.ensure(config.COUNTER_INITIAL_STOCK);
    stock.set(await counter.current());
  });
  await events.start();
  events.subscribe((value) => stock.set(value));
  app.addHook('onClose', () => events.stop());

  app.get(
    '/counter',
    {
      schema: {
        tags,
        summary: 'Cameras left',
        response: { 200: CounterSchema, 503: ErrorSchema },
      },
    },
    async () => ({ counter: await counter.current() }),
  );

  app.post(
    '/decrement',
    {
      schema: {
        tags,
        summary: 'Sell one camera',
        description: 'Atomic across replicas; 409 when none are left.',
        response: { 200: CounterSchema, 409: ErrorSchema, 503: ErrorSchema },
      },
    },
    async () => {
      const value = await counter.sell();
      sold.inc();
      return { counter: value };
    },
  );

  app.put(
    '/reset',
    {
      preHandler: requireAdmin(config, 'counter.reset'),
      schema: {
        tags,
        summary: 'Put the stock back to its initial value',
        description:
          'Requires `Authorization: Bearer <ADMIN_TOKEN>` when ADMIN_TOKEN is configured.',
        security: [{ adminToken: [] }],
        response: { 200: CounterSchema, 401: ErrorSchema, 503: ErrorSchema },
      },
    },
    async (request) => {
      const actor = config.ADMIN_TOKEN === undefined ? 'anonymous' : 'admin';
      try {
        const value = await counter.reset();
        resets.inc();
        audit(request, 'counter.reset', actor, 'success');
        return { counter: value };
      } catch (error) {
        audit(request, 'counter.reset', actor, 'failed');
        throw error;
      }
    },
  );

  app.get(
    '/counter/events',
    {
      schema: {
        tags,
        summary: 'Server-Sent Events: the counter now, then after every change on any replica',
        description:
          'Each event is `event: counter` with data `{"counter": N}`. The service ends a stream after a while (10 minutes by default) and the browser reconnects by itself. 429 when this client has too many streams open, 503 when this replica has, both with Retry-After.',
        response: {
          200: Type.Unknown({ description: 'a text/event-stream of counter events' }),
          429: ErrorSchema,
          503: ErrorSchema,
        },
      },
    },
    async (request, reply) => {
      reply.headers({
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-cache, no-transform',
      });
      // Node sends a HEAD response's headers only when it ends, so a held-open stream
      // would leave the client waiting forever.
      if (request.method === 'HEAD') return reply.send();
      const initial = await counter.current();
      // Sent as a stream through Fastify, so the stream gets every hook a reply gets
      // (headers, metrics, the log line when it closes) and Fastify ends it when the client goes.
      const stream = app.eventStreams.open(request, reply);
      const send = (value: number) => stream.send(`event: counter\ndata: {"counter":${value}}\n\n`);
      send(initial);
      stream.onClose(events.subscribe(send));
      // nginx: pass events through at once instead of buffering them.
      return reply.header('x-accel-buffering', 'no').send(stream.body);
    },
  );
};
