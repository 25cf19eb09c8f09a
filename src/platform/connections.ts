import { randomUUID } from 'node:crypto';
import { STATUS_CODES, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { Counter, Gauge } from 'prom-client';
import type { Config } from '../config.js';
import { SECURITY_HEADERS } from './security-headers.js';

// Node checks the header and request timeouts only this often (30 s by default), so a
// slow client outlives its timeout by up to this much; a fraction of the shortest one.
const LONGEST_TIMEOUT_CHECK_MS = 1000;

/**
 * How long a client may take, as Fastify's server options. The header and request timeouts
 * bound the time to *receive* a request (a silent connection, headers or a body sent a
 * byte at a time). Once it has arrived, the socket timeout closes a connection on which no
 * byte has moved for that long: a client that stops reading its answer would otherwise
 * hold the connection, and the unsent answer in memory, for ever (event streams opt out:
 * their heartbeat, buffer bound and lifetime end them). Idle keep-alive connections close
 * after their own timeout. The proxies in front are set to give up on an idle connection
 * before the service does (docs/operations.md).
 */
export function connectionOptions(config: Config) {
  return {
    http: {
      headersTimeout: config.HTTP_HEADERS_TIMEOUT_MS,
      connectionsCheckingInterval: Math.min(
        LONGEST_TIMEOUT_CHECK_MS,
        Math.ceil(config.HTTP_HEADERS_TIMEOUT_MS / 4),
      ),
    },
    requestTimeout: config.HTTP_REQUEST_TIMEOUT_MS,
    connectionTimeout: config.HTTP_SOCKET_TIMEOUT_MS,
    keepAliveTimeout: config.HTTP_KEEP_ALIVE_TIMEOUT_MS,
    clientErrorHandler: answerClientError,
  };
}

type ClientErrorReason = 'timeout' | 'header_overflow' | 'malformed';
// Per app (tests build several in one process); Fastify calls the handler with its root.
const clientErrorCounters = new WeakMap<FastifyInstance, Counter<'reason'>>();

const CLIENT_ERRORS: Record<ClientErrorReason, [number, string]> = {
  timeout: [408, 'The request did not arrive in time'],
  header_overflow: [431, 'The request headers are too large'],
  malformed: [400, 'The request is not valid HTTP/1.1'],
};

/**
 * Answers what Node's HTTP parser rejects before Fastify sees a request (a timeout, headers
 * too large, bytes that are not HTTP) in the one error shape, with the security headers and
 * a request id, then closes the connection. Counted by reason in /metrics.
 */
function answerClientError(
  this: FastifyInstance,
  error: Error & { code?: string },
  socket: Socket,
) {
  // A reset connection, or one already gone: nobody is left to answer.
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const reason: ClientErrorReason =
    error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
      ? 'timeout'
      : error.code === 'HPE_HEADER_OVERFLOW'
        ? 'header_overflow'
        : 'malformed';
  clientErrorCounters.get(this)?.inc({ reason });
  this.log.debug({ err: error, reason }, 'client error: connection closed');
  // As Node's own handler: never write into a response that has already begun.
  const response = (socket as Socket & { _httpMessage?: ServerResponse })._httpMessage;
  if (socket.writable && response?.headersSent !== true) {
    const [statusCode, message] = CLIENT_ERRORS[reason];
    const body = JSON.stringify({ statusCode, error: STATUS_CODES[statusCode], message });
    const headers = {
      ...SECURITY_HEADERS,
      'x-request-id': randomUUID(),
      'content-type': 'application/json; charset=utf-8',
      'content-length': String(Buffer.byteLength(body)),
      connection: 'close',
    };
    const head = Object.entries(headers).map(([name, value]) => `${name}: ${value}\r\n`);
    // Small enough to reach the kernel at once: destroying next loses nothing, as in Node's own.
    socket.write(
      `HTTP/1.1 ${statusCode} ${STATUS_CODES[statusCode]}\r\n${head.join('')}\r\n${body}`,
    );
  }
  socket.destroy();
}

/**
 * Caps the connections one replica holds (more are closed as they arrive), shows them in
 * /metrics, and ends, at close, the connections that never sent a request. Browsers and
 * load balancers open such spare connections ahead of time; Node counts them as busy, so
 * neither `server.close()` nor idle-connection closing ends them, and shutdown would wait
 * for the header timeout. Connections with a request in flight are left to finish.
 */
export const connectionsPlugin = fp(
  async (app: FastifyInstance, { config }: { config: Config }) => {
    app.server.maxConnections = config.HTTP_MAX_CONNECTIONS;
    const registers = [app.metrics.registry];
    clientErrorCounters.set(
      app,
      new Counter({
        name: 'http_client_errors_total',
        help: 'Connections closed before a request arrived whole: timeout, header_overflow, malformed',
        labelNames: ['reason'] as const,
        registers,
      }),
    );
    new Gauge({
      name: 'http_connections_open',
      help: 'Open connections to this replica; HTTP_MAX_CONNECTIONS caps them',
      registers,
      async collect() {
        const count = await new Promise<number>((resolve) =>
          app.server.getConnections((error, open) => resolve(error ? 0 : open)),
        );
        this.set(count);
      },
    });

    const unused = new Set<Socket>();
    app.server.on('connection', (socket: Socket) => {
      unused.add(socket);
      socket.once('close', () => unused.delete(socket));
    });
    app.server.on('request', (request: IncomingMessage) => unused.delete(request.socket));
    app.addHook('preClose', async () => {
      for (const socket of unused) socket.destroy();
    });
  },
  { name: 'connections', dependencies: ['metrics'] },
);
