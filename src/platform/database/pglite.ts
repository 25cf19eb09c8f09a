import { mkdir } from 'node:fs/promises';
import { PGlite } from '@electric-sql/pglite';
import type { Database, Queryable } from './types.js';

/**
 * Embedded PostgreSQL (WebAssembly, one connection in this process). `memory://` keeps
 * nothing on disk. Start-up costs seconds, so one instance lives as long as the app.
 */
export async function createPgliteDatabase(dataDir: string): Promise<Database> {
  if (!dataDir.startsWith('memory://')) await mkdir(dataDir, { recursive: true });
  const db = await PGlite.create(dataDir);
  const connection: Queryable = {
    async query<Row>(sql: string, params?: unknown[]) {
      return (await db.query<Row>(sql, params)).rows;
    },
    async exec(sql: string) {
      await db.exec(sql);
    },
  };
  return {
    driver: 'pglite',
    ...connection,
    // PGlite has exactly one connection, so every session is that connection. Statements
    // from other callers can interleave; migrations run before any feature route is open.
    withSession: (work) => work(connection),
    listen: async (channel, onNotification) => {
      const unlisten = await db.listen(channel, onNotification);
      return () => unlisten();
    },
    poolStats: () => ({ total: 1, idle: 1, waiting: 0 }),
    close: () => db.close(),
  };
}
