import type { Queryable } from '../../platform/database/index.js';

interface ValueRow {
  value: number;
}

/**
 * The SQL of a stock counter. Sales are one conditional UPDATE: the row lock makes
 * concurrent statements queue, and `LEAST` (with the CHECK constraint) means never below zero.
 */
export function createCounterStore(db: Queryable, name: string) {
  return {
    async ensure(initialStock: number): Promise<void> {
      await db.query(
        `INSERT INTO counters (name, value, initial_stock) VALUES ($1, $2, $2)
         ON CONFLICT (name) DO NOTHING`,
        [name, initialStock],
      );
    },

    async current(): Promise<number | undefined> {
      const [row] = await db.query<ValueRow>('SELECT value FROM counters WHERE name = $1', [name]);
      return row?.value;
    },

    /**
     * Sells up to `count` cameras in one statement, never below zero: the stock before and
     * after, so the caller can tell which of the sales it stands for succeeded.
     */
    async sellUpTo(count: number): Promise<{ before: number; after: number }> {
      const [row] = await db.query<{ before: number; after: number }>(
        `WITH stock AS (SELECT value FROM counters WHERE name = $1 FOR UPDATE)
         UPDATE counters SET value = counters.value - LEAST($2::int, stock.value), updated_at = now()
         FROM stock WHERE counters.name = $1 AND stock.value > 0
         RETURNING stock.value AS before, counters.value AS after`,
        [name, count],
      );
      // No row: the stock was already zero (or the counter is missing, which ensure() prevents).
      return row ?? { before: 0, after: 0 };
    },

    async reset(initialStock: number): Promise<number> {
      const [row] = await db.query<ValueRow>(
        `INSERT INTO counters (name, value, initial_stock) VALUES ($1, $2, $2)
         ON CONFLICT (name) DO UPDATE
           SET value = EXCLUDED.value, initial_stock = EXCLUDED.initial_stock, updated_at = now()
         RETURNING value`,
        [name, initialStock],
      );
      return (row as ValueRow).value;
    },
  };
}

export type CounterStore = ReturnType<typeof createCounterStore>;
