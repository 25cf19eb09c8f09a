import { connect, type AddressInfo, type Socket } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app.js';
import { installShutdown } from '../../src/platform/shutdown.js';
import { listenOnLoopback, startApp, testConfig } from '../helpers/app.js';
import { expectEverySecurityHeader, expectRawAnswerRules, sendRaw } from '../helpers/raw-http.js';
import { waitFor } from '../helpers/wait.js';

/** Starts `app` listening on 127.0.0.1 and opens a raw TCP connection to it. */
async function connectTo(app: FastifyInstance): Promise<Socket> {
  await app.listen({ host: '127.0.0.1', port: 0 });
  const { port } = app.server.address() as AddressInfo;
  const socket = connect(port, '127.0.0.1');
  // Closing the server may reset these connections: expected here, not a test failure.
  socket.on('error', () => undefined);
  await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
  return socket;
}

describe('closing', () => {
  it('does not wait for connections that never sent a request', async () => {
    const app = await startApp(testConfig());
    const spare = await connectTo(app);
    const ended = new Promise<void>((resolve) => spare.once('close', () => resolve()));

    await app.close();
    await ended;
    expect(spare.destroyed).toBe(true);
  });

  // Fastify refuses what is routed once close() has begun with its own 503, written before
  // any hook runs (return503OnClosing). Here close() is held in its last preClose hook:
  // the refusing has begun and the server still takes connections, as it does for a moment
  // at every shutdown (and a pipelined request can come later still).
  it('answers a request that arrives while closing with a 503 that has every header', async () => {
    const app = await buildApp(testConfig());
    let reached: (() => void) | undefined;
    const closing = new Promise<void>((resolve) => (reached = resolve));
    let release: (() => void) | undefined;
    const released = new Promise<void>((resolve) => (release = resolve));
    app.addHook('preClose', async () => {
      reached?.();
      await released;
    });
    await app.ready();
    await app.databaseReadiness.whenReady();
    const port = await listenOnLoopback(app);
    const closed = app.close();
    try {
      await closing;
      const response = await sendRaw(
        port,
        Buffer.from('GET /items HTTP/1.1\r\nHost: x\r\nX-Request-Id: late-1\r\n\r\n', 'latin1'),
      );
      expect(response.status).toBe(503);
      expectRawAnswerRules(response, 'GET');
      expectEverySecurityHeader(response);
      expect(response.headers).toMatch(/^x-request-id: late-1$/im);
      expect(response.headers).toMatch(/^connection: close$/im);
    } finally {
      release?.();
      await closed;
    }
  });
});

describe('installShutdown', () => {
  let uninstall: (() => void) | undefined;
  afterEach(() => uninstall?.());

  /** Installs the handlers with a recording `exit`; returns the exit codes seen so far. */
  function install(app: FastifyInstance, drainMs: number, timeoutMs: number): number[] {
    const exits: number[] = [];
    uninstall = installShutdown(app, { drainMs, timeoutMs, exit: (code) => exits.push(code) });
    return exits;
  }

  it('drains, closes the app and exits 0; a second signal exits 1 at once', async () => {
    const app = await startApp(testConfig());
    const exits = install(app, 300, 5000);

    process.emit('SIGTERM', 'SIGTERM');
    expect(app.lifecycle.draining).toBe(true);
    expect((await app.inject({ method: 'GET', url: '/readyz' })).statusCode).toBe(503);
    expect((await app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);

    process.emit('SIGINT', 'SIGINT');
    expect(exits).toEqual([1]);

    await waitFor('the first shutdown to finish', async () => exits.length === 2);
    expect(exits).toEqual([1, 0]);
  });

  it('exits 1 when closing takes longer than the timeout', async () => {
    const app = await startApp(testConfig());
    // A request whose body never finishes arriving keeps the server from closing.
    const slow = await connectTo(app);
    // Until the server has read the headers, the connection counts as idle and closes at once.
    const started = new Promise<void>((resolve) => app.server.once('request', () => resolve()));
    slow.write(
      'POST /items HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"na',
    );
    await started;
    const exits = install(app, 0, 1000);

    process.emit('SIGTERM', 'SIGTERM');
    try {
      await waitFor('the timeout', async () => exits.length > 0, 5000);
      expect(exits).toEqual([1]);
    } finally {
      slow.destroy();
    }
  });
});
