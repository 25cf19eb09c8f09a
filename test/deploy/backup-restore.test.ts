import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../helpers/ports.js';
import { startService, type ServiceProcess } from '../helpers/process.js';
import {
  createTestDatabase,
  createTestRedisPrefix,
  realServersAvailable,
  testRedisUrl,
} from '../helpers/servers.js';

// The scripts `make backup` and `make restore` run (test/deploy/makefile.test.ts checks that
// they do), here on the test server with this machine's pg_dump and pg_restore, or, with
// TEST_PG_EXEC, the server's own. pg_dump refuses a server newer than itself, and GitHub's
// runner has the PostgreSQL 16 tools for a PostgreSQL 18 service container: there ci.yml sets
// TEST_PG_EXEC='docker exec -i <that container>', as make backup runs them in compose's.
const root = fileURLToPath(new URL('../../', import.meta.url));
const pgExec = process.env.TEST_PG_EXEC ?? '';

/** Runs a script of scripts/; PG_EXEC is the prefix make gives it to reach the server. */
function script(name: string, args: string[], prefix = pgExec) {
  const result = spawnSync(join(root, 'scripts', name), args, {
    encoding: 'utf8',
    env: { ...process.env, PG_EXEC: prefix },
    timeout: 60_000,
  });
  return { status: result.status, stdout: result.stdout.trim(), stderr: result.stderr };
}

type TestDatabase = Awaited<ReturnType<typeof createTestDatabase>>;

/** Runs SQL on the database at `url`, returning the rows. */
async function query<Row extends pg.QueryResultRow = Record<string, unknown>>(
  url: string,
  sql: string,
  values: unknown[] = [],
): Promise<Row[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<Row>(sql, values)).rows;
  } finally {
    await client.end();
  }
}

/** The databases named `<name>_...`: those the restore kept aside or left behind. */
async function databasesBeside(url: string, name: string): Promise<string[]> {
  const rows = await query<{ datname: string }>(
    url,
    'SELECT datname FROM pg_database WHERE starts_with(datname, $1) ORDER BY datname',
    [`${name}_`],
  );
  return rows.map((row) => row.datname);
}

describe.runIf(realServersAvailable)('backing up and restoring the database', () => {
  const databases: TestDatabase[] = [];
  const redis = createTestRedisPrefix();
  const services: ServiceProcess[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'shipshape-backups-'));

  const database = async () => {
    const created = await createTestDatabase();
    databases.push(created);
    return created;
  };
  const start = async (url: string) => {
    const env = { DATABASE_URL: url, REDIS_URL: testRedisUrl, REDIS_KEY_PREFIX: redis.prefix };
    const service = await startService(
      { ...env, RATE_LIMIT_MAX: '0', SHUTDOWN_DRAIN_MS: '0' },
      await freePort(),
    );
    services.push(service);
    return service;
  };
  const stop = async (service: ServiceProcess) => {
    service.child.kill('SIGTERM');
    await service.exited;
  };

  let source: TestDatabase;
  beforeAll(async () => {
    source = await database();
  });

  afterAll(async () => {
    for (const service of services) service.child.kill('SIGKILL');
    await Promise.all(services.map((service) => service.exited));
    for (const { url, name } of databases) {
      for (const beside of await databasesBeside(url, name)) {
        await query(source.url, `DROP DATABASE IF EXISTS "${beside}" WITH (FORCE)`);
      }
    }
    for (const { drop } of databases) await drop();
    await redis.clear();
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves exactly what was backed up, from a fresh database', async () => {
    const before = await start(source.url);
    const call = (path: string, method = 'GET', body?: unknown) =>
      fetch(`${before.baseUrl}${path}`, {
        method,
        headers: body === undefined ? {} : { 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    expect((await call('/hello/Alice', 'PUT', { dateOfBirth: '1990-05-17' })).status).toBe(204);
    expect((await call('/items', 'POST', { name: 'first' })).status).toBe(201);
    expect((await call('/items', 'POST', { name: 'second' })).status).toBe(201);
    expect(await (await call('/decrement', 'POST')).json()).toEqual({ counter: 999 });
    const items = await (await call('/items')).json();
    const greeting = await (await call('/hello/Alice')).json();

    const backup = script('db-backup.sh', [source.url, dir]);
    expect(backup).toMatchObject({ status: 0, stderr: '' });
    expect(backup.stdout).toMatch(new RegExp(`^${dir}/${source.name}-\\d{8}T\\d{6}Z\\.dump$`));
    expect(readdirSync(dir)).toEqual([backup.stdout.slice(dir.length + 1)]);

    // Written after the backup: none of it may come back.
    await call('/hello/Alice', 'PUT', { dateOfBirth: '2000-12-01' });
    await call('/hello/Bob', 'PUT', { dateOfBirth: '1985-02-03' });
    await call('/items', 'POST', { name: 'third' });
    await call('/decrement', 'POST');
    // Cached, under the generation Redis holds now: why make restore empties Redis.
    expect(await (await call('/items')).json()).toHaveLength(3);
    await stop(before);

    const fresh = await database();
    // A prefix (one more, `env`, if TEST_PG_EXEC is one already), as `docker compose exec -T
    // postgres` is for make: the file goes on stdin.
    const restore = script('db-restore.sh', [fresh.url, backup.stdout], `${pgExec} env`.trim());
    expect(restore.status, restore.stderr).toBe(0);
    expect(restore.stdout).toMatch(`restored ${backup.stdout} as ${fresh.name}`);
    await redis.clear();

    const after = await start(fresh.url);
    const read = (path: string) => fetch(`${after.baseUrl}${path}`);
    const itemsAfter = await read('/items');
    expect(itemsAfter.headers.get('x-cache')).toBe('miss');
    expect(await itemsAfter.json()).toEqual(items);
    expect(items).toMatchObject([{ name: 'first' }, { name: 'second' }]);
    expect(await (await read('/counter')).json()).toEqual({ counter: 999 });
    const alice = await read('/hello/Alice');
    expect([alice.status, await alice.json()]).toEqual([200, greeting]);
    expect((await read('/hello/Bob')).status).toBe(404);
    // The fresh database the restore replaced is kept aside, empty; nothing half-restored.
    expect(await databasesBeside(fresh.url, fresh.name)).toEqual([
      expect.stringMatching(new RegExp(`^${fresh.name}_before_\\d{14}$`)),
    ]);
  }, 120_000);

  it('refuses a file that is not a backup before touching anything', async () => {
    const target = await database();
    const garbage = join(dir, 'not-a-backup.dump');
    writeFileSync(garbage, 'not a pg_dump archive');
    const rejected = script('db-restore.sh', [target.url, garbage]);
    expect([rejected.status, rejected.stdout]).toEqual([1, '']);
    expect(rejected.stderr).toContain('not appear to be a valid archive');
    expect(await databasesBeside(target.url, target.name)).toEqual([]);
  });

  it('changes nothing when the restore fails part way', async () => {
    // A backup granting to a role that is gone by restore time: its last statement fails.
    const role = `${source.name}_reader`;
    await query(source.url, `CREATE ROLE ${role}`);
    try {
      await query(source.url, 'CREATE TABLE granted (id int); INSERT INTO granted VALUES (1)');
      await query(source.url, `GRANT SELECT ON granted TO ${role}`);
      const backup = script('db-backup.sh', [source.url, dir]);
      expect(backup.status).toBe(0);
      await query(source.url, `DROP OWNED BY ${role}`);
      await query(source.url, `DROP ROLE ${role}`);

      const target = await database();
      await query(target.url, 'CREATE TABLE kept (id int); INSERT INTO kept VALUES (7)');
      const failed = script('db-restore.sh', [target.url, backup.stdout]);
      expect(failed.status).toBe(1);
      expect(failed.stderr).toContain(`role "${role}" does not exist`);
      expect(failed.stderr).toContain(`FAIL: ${target.name} is unchanged`);
      expect(await query(target.url, 'SELECT * FROM kept')).toEqual([{ id: 7 }]);
      expect(await query(target.url, "SELECT to_regclass('granted') AS t")).toEqual([{ t: null }]);
      expect(await databasesBeside(target.url, target.name)).toEqual([]);
    } finally {
      await query(source.url, `DROP OWNED BY ${role}`).catch(() => undefined);
      await query(source.url, `DROP ROLE IF EXISTS ${role}`);
    }
  });
});
