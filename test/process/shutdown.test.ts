import { request } from 'node:http';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../helpers/ports.js';
import { startService, type ServiceProcess } from '../helpers/process.js';
import { createTestDatabase, realServersAvailable } from '../helpers/servers.js';
import { waitFor } from '../helpers/wait.js';

/** A POST on a connection of its own, so every request is in flight at once. */
function postOnNewConnection(url: string): Promise<number | undefined> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode));
    });
    req.on('error', reject);
    req.end();
  });
}

describe.runIf(realServersAvailable)('the service process', () => {
  let service: ServiceProcess;
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  const token = 'a-long-admin-token-for-tests';

  beforeAll(async () => {
    database = await createTestDatabase();
    service = await startService(
      {
        NODE_ENV: 'production',
        DATABASE_URL: database.url,
        ADMIN_TOKEN: token,
        // Long enough to probe both endpoints during the drain on a loaded CI machine.
        SHUTDOWN_DRAIN_MS: '3000',
        // Sales held on the lock must outlast the drain, not be cancelled by a timeout.
        DATABASE_TIMEOUT_MS: '30000',
        HTTP_SOCKET_TIMEOUT_MS: '60000',
        RATE_LIMIT_MAX: '0',
      },
      await freePort(),
    );
  }, 60_000);

  afterAll(async () => {
    service.child.kill('SIGKILL');
    await database.drop();
  });

  it('logs one JSON line per request, an audit event for reset, and no personal data', async () => {
    await fetch(`${service.baseUrl}/hello/Secretname`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ dateOfBirth: '1990-01-01' }),
    });
    const denied = await fetch(`${service.baseUrl}/reset`, { method: 'PUT' });
    const reset = await fetch(`${service.baseUrl}/reset`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${token}`, 'x-request-id': 'audit-check-1' },
    });
    expect([denied.status, reset.status]).toEqual([401, 200]);

    await waitFor('the request line', async () =>
      service.logs.some(
        (line) => line.requestId === 'audit-check-1' && line.msg === 'request completed',
      ),
    );
    const audits = service.logs.flatMap((line) => (line.audit ? [line.audit] : []));
    expect(audits).toEqual([
      expect.objectContaining({ action: 'counter.reset', actor: 'anonymous', result: 'denied' }),
      expect.objectContaining({ action: 'counter.reset', actor: 'admin', result: 'success' }),
    ]);
    expect(audits[1]).toMatchObject({ ip: '127.0.0.1', at: expect.any(String) as string });
    const requestLine = service.logs.find(
      (line) => line.requestId === 'audit-check-1' && line.msg === 'request completed',
    );
    expect(requestLine).toMatchObject({ route: '/reset', statusCode: 200, method: 'PUT' });

    expect(service.logs).toContainEqual(
      expect.objectContaining({
        level: 'warn',
        msg: 'REDIS_URL is not set: the in-process cache is only correct with one replica',
      }),
    );
    const everything = JSON.stringify(service.logs);
    expect(everything).not.toContain('Secretname');
    expect(everything).not.toContain(token);
  });

  it('on SIGTERM: readiness fails first, in-flight requests all complete, then exit 0', async () => {
    // Hold the counter row so sales stay in flight until the test lets them go. The
    // service sends the first sale to the database, where it waits on the lock, and keeps
    // the others for the next statement: both are counted, so each is provably inside.
    const inFlight = 10;
    const blocker = new pg.Client({ connectionString: database.url });
    blocker.on('error', () => undefined);
    await blocker.connect();
    await blocker.query('BEGIN');
    await blocker.query("SELECT value FROM counters WHERE name = 'cameras' FOR UPDATE");
    const observer = new pg.Client({ connectionString: database.url });
    await observer.connect();
    let released = false;
    const release = async () => {
      if (released) return;
      released = true;
      await blocker.query('COMMIT');
      await Promise.all([blocker.end(), observer.end()]);
    };

    try {
      const sales = Array.from({ length: inFlight }, () =>
        postOnNewConnection(`${service.baseUrl}/decrement`),
      );
      await waitFor('one statement on the lock and the other sales waiting for it', async () => {
        // From another connection: inside a transaction, pg_stat_activity is a snapshot.
        const { rows } = await observer.query<{ n: string }>(
          "SELECT count(*) AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'",
        );
        const metrics = await (await fetch(`${service.baseUrl}/metrics`)).text();
        const waiting = Number(/^counter_sales_waiting (\d+)$/m.exec(metrics)?.[1]);
        return Number(rows[0]?.n) === 1 && waiting === inFlight - 1;
      });

      service.child.kill('SIGTERM');
      // A probe sent before the signal is handled would wait for a pool connection (all
      // held by the sales) and answer for the moment it was asked: look only after.
      await waitFor('the drain to begin', async () =>
        service.logs.some((line) => line.msg === 'shutdown: draining (readiness now 503)'),
      );
      await waitFor(
        'readiness to turn 503',
        async () => (await fetch(`${service.baseUrl}/readyz`)).status === 503,
      );
      expect((await fetch(`${service.baseUrl}/healthz`)).status).toBe(200);
      await waitFor('the drain to end and closing to begin', async () =>
        service.logs.some(
          (line) => line.msg === 'shutdown: closing (finishing in-flight requests)',
        ),
      );

      await release();
      expect(await Promise.all(sales)).toEqual(Array<number>(inFlight).fill(200));
      expect(await service.exited).toBe(0);
    } finally {
      await release();
    }
    const steps = service.logs
      .map((line) => line.msg)
      .filter((msg) => String(msg).startsWith('shutdown:'));
    expect(steps).toEqual([
      'shutdown: draining (readiness now 503)',
      'shutdown: closing (finishing in-flight requests)',
      'shutdown: closed, exiting',
    ]);
  });
});
