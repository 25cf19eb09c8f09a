import { Redis } from 'ioredis';
import pg from 'pg';

/**
 * The one round trip each endpoint cannot avoid, through the service's own clients (pg
 * with the same pool size, ioredis) and as lean as they go: named statements, which
 * PostgreSQL prepares once per connection, and one Redis GET of a page stored as the
 * body it is sent as. Nothing else: no validation, no logging, no metrics, no headers.
 */
export async function connectFloorIo(env: NodeJS.ProcessEnv) {
  const pool = new pg.Pool({
    connectionString: env.DATABASE_URL,
    max: Number(env.DATABASE_POOL_MAX ?? 10),
  });
  const redis = new Redis(env.REDIS_URL ?? 'redis://127.0.0.1:6379', {
    enableAutoPipelining: true,
  });
  // The service's first page of 100 items, as it sends it, stored once under a key of our own.
  const pageKey = `${env.REDIS_KEY_PREFIX ?? 'bench:'}floor:items:100`;
  const { rows } = await pool.query<{ id: string; name: string; created_at: Date }>(
    'SELECT id, name, created_at FROM items ORDER BY id LIMIT 100',
  );
  const page = JSON.stringify(
    rows.map((row) => ({
      id: Number(row.id),
      name: row.name,
      createdAt: row.created_at.toISOString(),
    })),
  );
  await redis.set(pageKey, page, 'EX', 3600);

  return {
    cachedPage: () => redis.get(pageKey),
    async dateOfBirth(username: string): Promise<string | undefined> {
      const { rows: found } = await pool.query<{ date_of_birth: string }>({
        name: 'floor-find-birthday',
        text: 'SELECT date_of_birth::text AS date_of_birth FROM birthdays WHERE username = $1',
        values: [username],
      });
      return found[0]?.date_of_birth;
    },
    async saveDateOfBirth(username: string, dateOfBirth: string): Promise<void> {
      await pool.query({
        name: 'floor-save-birthday',
        text: `INSERT INTO birthdays (username, date_of_birth) VALUES ($1, $2::date)
               ON CONFLICT (username) DO UPDATE SET date_of_birth = EXCLUDED.date_of_birth, updated_at = now()`,
        values: [username, dateOfBirth],
      });
    },
    async counter(): Promise<number | undefined> {
      const { rows: found } = await pool.query<{ value: number }>({
        name: 'floor-counter',
        text: 'SELECT value FROM counters WHERE name = $1',
        values: ['cameras'],
      });
      return found[0]?.value;
    },
  };
}

export type FloorIo = Awaited<ReturnType<typeof connectFloorIo>>;

/** A greeting with the same shape and length as the service's; the day count is not the point. */
export const greetingBody = (username: string, dateOfBirth: string) =>
  JSON.stringify({
    message: `Hello, ${username}! Your birthday is in ${dateOfBirth.length * 10} days`,
  });

export const STATUS_BODY = {
  status: 'ok',
  version: '0.1.0',
  revision: 'bench',
  hostname: 'bench',
  uptimeSeconds: 1,
  ready: true,
  database: 'postgres',
  cache: 'redis',
};
