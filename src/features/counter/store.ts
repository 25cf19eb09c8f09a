import type { Queryable } from '../../platform/database/index.js';

interface ValueRow {
  value: number;
}

/**
 * The SQL of a stock counter. A sale is one conditional UPDATE: the row lock makes
 * concurrent sales queue, and `value > 0` (with the CHECK constraint) means never below zero.
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

    /** The value after the sale, or undefined when the stock is already zero. */
    async decrement(): Promise<number | undefined> {
      const [row] = await db.query<ValueRow>(
        `UPDATE counters SET value = value - 1, updated_at = now()
         WHERE name = $1 AND value > 0 RETURNING value`,
        [name],
      );
      return row?.value;
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
