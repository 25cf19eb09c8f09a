import { PassThrough } from 'node:stream';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { Counter, Gauge } from 'prom-client';
import type { Config } from '../config.js';
import { HttpError } from './errors.js';

// Comment lines keep idle streams open through proxies that cut silent connections.
const HEARTBEAT_MS = 15_000;
// How long the browser waits before reconnecting a stream that ended (the SSE `retry:`),
// and, sooner, one the service ended at its lifetime: a new stream, not an outage.
const RECONNECT_MS = 2000;
const RENEW_MS = 200;
// A refused stream's client should come back later than a dropped one.
const RETRY_AFTER_SECONDS = '10';
// Lifetimes end spread over the last tenth, so streams opened together (after a deploy)
// do not all reconnect in the same second.
const LIFETIME_SPREAD = 0.1;

type EndReason = 'lifetime' | 'slow_reader' | 'shutdown' | 'client';

/** One open Server-Sent Events stream: what to send it, and when it has closed. */
export interface EventStream {
  /** The reply body to send through Fastify. */
  readonly body: PassThrough;
  /** Queues text for the client; drops the stream when its reader has fallen too far behind. */
  send(text: string): void;
  onClose(listener: () => void): void;
}

declare module 'fastify' {
  interface FastifyInstance {
    eventStreams: {
      /** Opens a stream for this request, or throws 429 (this client) or 503 (this replica). */
      open(request: FastifyRequest, reply: FastifyReply): EventStream;
    };
  }
}

/**
 * The replica's open event streams, each within limits that hold against one client
 * opening thousands: a cap per client address and per replica, a maximum lifetime (the
 * browser reconnects by itself, perhaps to another replica), and a bound on what is queued
 * for a reader that stopped reading. Streams end when the app closes.
 */
export const eventStreamsPlugin = fp(
  async (app: FastifyInstance, { config }: { config: Config }) => {
    const open = new Set<() => void>();
    const perClient = new Map<string, number>();
    const registers = [app.metrics.registry];
    new Gauge({
      name: 'event_streams_open',
      help: 'Server-Sent Events streams open on this replica',
      registers,
      collect() {
        this.set(open.size);
      },
    });
    const refused = new Counter({
      name: 'event_streams_refused_total',
      help: 'Streams refused: client_limit (429) or replica_limit (503)',
      labelNames: ['reason'] as const,
      registers,
    });
    const ended = new Counter({
      name: 'event_streams_ended_total',
      help: 'Streams ended, by why: client, lifetime, slow_reader or shutdown',
      labelNames: ['reason'] as const,
      registers,
    });

    app.addHook('preClose', async () => {
      for (const end of open) end();
    });

    app.decorate('eventStreams', {
      open(request: FastifyRequest, reply: FastifyReply): EventStream {
        const client = request.ip;
        const clientCount = perClient.get(client) ?? 0;
        if (clientCount >= config.EVENT_STREAMS_PER_CLIENT) {
          refused.inc({ reason: 'client_limit' });
          throw new HttpError(
            429,
            `At most ${config.EVENT_STREAMS_PER_CLIENT} open event streams per client`,
            { 'retry-after': RETRY_AFTER_SECONDS },
          );
        }
        if (open.size >= config.EVENT_STREAMS_MAX) {
          refused.inc({ reason: 'replica_limit' });
          throw new HttpError(503, 'This replica holds all the event streams it can', {
            'retry-after': RETRY_AFTER_SECONDS,
          });
        }

        // A quiet stream is normal; the heartbeat, the buffer bound and the lifetime below
        // end the ones that should end, so the socket timeout for answers does not apply.
        request.raw.socket.setTimeout(0);
        const body = new PassThrough();
        let reason: EndReason | undefined;
        let dropLater: NodeJS.Timeout | undefined;
        const drop = () => reply.raw.destroy();
        const end = (why: EndReason, how: 'end' | 'drop') => {
          if (reason !== undefined || body.destroyed) return;
          reason = why;
          if (how === 'drop') return drop();
          // Ending lets what is queued go out; a client that takes none of it is dropped.
          body.end();
          dropLater = setTimeout(drop, HEARTBEAT_MS);
        };
        const send = (text: string) => {
          if (reason !== undefined || body.destroyed) return;
          body.write(text);
          // Everything the client has not taken yet: in the stream, and in the response's
          // and the socket's own buffers.
          const queued = body.writableLength + body.readableLength + reply.raw.writableLength;
          if (queued > config.EVENT_STREAM_BUFFER_BYTES) {
            request.log.warn({ queuedBytes: queued }, 'event stream: reader too slow, dropped');
            end('slow_reader', 'drop');
          }
        };
        const endForShutdown = () => end('shutdown', 'end');
        const lifetime = setTimeout(
          () => {
            send(`retry: ${RENEW_MS}\n\n`);
            end('lifetime', 'end');
          },
          config.EVENT_STREAM_LIFETIME_MS * (1 - LIFETIME_SPREAD * Math.random()),
        );
        const heartbeat = setInterval(() => send(': heartbeat\n\n'), HEARTBEAT_MS);

        open.add(endForShutdown);
        perClient.set(client, clientCount + 1);
        body.once('close', () => {
          clearTimeout(lifetime);
          clearTimeout(dropLater);
          clearInterval(heartbeat);
          open.delete(endForShutdown);
          const remaining = (perClient.get(client) ?? 1) - 1;
          if (remaining === 0) perClient.delete(client);
          else perClient.set(client, remaining);
          ended.inc({ reason: reason ?? 'client' });
        });
        send(`retry: ${RECONNECT_MS}\n\n`);
        return { body, send, onClose: (listener) => body.once('close', listener) };
      },
    });
  },
  { name: 'event-streams', dependencies: ['metrics'] },
);
