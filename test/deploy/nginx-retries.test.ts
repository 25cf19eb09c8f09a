import { createServer, type Server } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nginxAvailable, startNginx, type RunningNginx } from '../helpers/nginx.js';
import { freePort } from '../helpers/ports.js';
import { startService, type ServiceProcess } from '../helpers/process.js';
import { createTestDatabase, realServersAvailable } from '../helpers/servers.js';

/** A replica that crashes mid-request: it reads the request, then drops the connection. */
async function startCrashingReplica(): Promise<{
  port: number;
  requests: () => number;
  close: () => Promise<void>;
}> {
  let requests = 0;
  const server: Server = createServer((socket) => {
    socket.once('data', () => {
      requests += 1;
      socket.destroy();
    });
  });
  const port = await freePort();
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return {
    port,
    requests: () => requests,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

describe.runIf(nginxAvailable && realServersAvailable)(
  'nginx when a replica dies mid-request',
  () => {
    let replica: ServiceProcess;
    let crashing: Awaited<ReturnType<typeof startCrashingReplica>>;
    const cleanups: (() => Promise<void>)[] = [];

    /** A fresh nginx that sends its first request to the crashing replica. */
    const crashFirst = async (): Promise<RunningNginx> => {
      const proxy = await startNginx(await freePort(), [
        { port: crashing.port, weight: 100 },
        { port: Number(new URL(replica.baseUrl).port), weight: 1 },
      ]);
      cleanups.push(proxy.stop);
      return proxy;
    };
    const stock = async () =>
      ((await (await fetch(`${replica.baseUrl}/counter`)).json()) as { counter: number }).counter;

    beforeAll(async () => {
      const database = await createTestDatabase();
      cleanups.push(database.drop);
      replica = await startService(
        { DATABASE_URL: database.url, SHUTDOWN_DRAIN_MS: '0', LOG_LEVEL: 'warn' },
        await freePort(),
      );
      cleanups.push(async () => {
        replica.child.kill('SIGTERM');
        await replica.exited;
      });
      crashing = await startCrashingReplica();
      cleanups.push(crashing.close);
    });

    afterAll(async () => {
      for (const cleanup of cleanups.reverse()) await cleanup();
    });

    it('retries a read on the other replica: the caller never sees the crash', async () => {
      const proxy = await crashFirst();
      const before = crashing.requests();
      const response = await fetch(`${proxy.baseUrl}/counter`);
      expect({ status: response.status, body: await response.json() }).toEqual({
        status: 200,
        body: { counter: 1000 },
      });
      expect(crashing.requests()).toBe(before + 1);
    });

    it('never sends a sale twice: a sale the crashed replica received fails, none is made', async () => {
      const proxy = await crashFirst();
      const before = crashing.requests();
      const stockBefore = await stock();
      const response = await fetch(`${proxy.baseUrl}/decrement`, { method: 'POST' });
      expect(response.status).toBe(502);
      expect(crashing.requests()).toBe(before + 1);
      expect(await stock()).toBe(stockBefore);
      const [line] = await proxy.logLinesAfter(0, 1);
      expect(line).toMatchObject({
        method: 'POST',
        statusCode: 502,
        upstream: `127.0.0.1:${crashing.port}`,
      });
    });
  },
);
