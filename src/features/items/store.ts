import type { Queryable } from '../../platform/database/index.js';
import type { Item } from './schema.js';

interface ItemRow {
  id: number | string;
  name: string;
  created_at: Date | string;
}

const toItem = (row: ItemRow): Item => ({
  id: Number(row.id),
  name: row.name,
  createdAt: new Date(row.created_at).toISOString(),
});

/** The SQL of items. Pages are keyset scans on the primary key: as fast at row 1,000,000 as at row 1. */
export function createItemsStore(db: Queryable) {
  return {
    async insert(name: string): Promise<Item> {
      const [row] = await db.query<ItemRow>(
        'INSERT INTO items (name) VALUES ($1) RETURNING id, name, created_at',
        [name],
      );
      return toItem(row as ItemRow);
    },

    async findById(id: number): Promise<Item | undefined> {
      const [row] = await db.query<ItemRow>(
        'SELECT id, name, created_at FROM items WHERE id = $1',
        [id],
      );
      return row && toItem(row);
    },

    async listAfter(after: number, limit: number): Promise<Item[]> {
      const rows = await db.query<ItemRow>(
        'SELECT id, name, created_at FROM items WHERE id > $1 ORDER BY id LIMIT $2',
        [after, limit],
      );
      return rows.map(toItem);
    },
  };
}

export type ItemsStore = ReturnType<typeof createItemsStore>;
