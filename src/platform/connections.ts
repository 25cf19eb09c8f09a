import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';

/**
 * Ends, at close, the connections that never sent a request. Browsers and load balancers
 * open such spare connections ahead of time; Node counts them as busy, so neither
 * `server.close()` nor idle-connection closing ends them, and shutdown would wait for
 * the header timeout. Connections with a request in flight are left to finish.
 */
export const unusedConnectionsPlugin = fp(
  async (app: FastifyInstance) => {
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
  { name: 'unused-connections' },
);
