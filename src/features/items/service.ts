import { createHash } from 'node:crypto';
import type { Cache } from '../../platform/cache/types.js';
import { HttpError } from '../../platform/errors.js';
import { ITEM_NAME_MAX_LENGTH, type Item, type ListItemsQuery } from './schema.js';
import type { ItemsStore } from './store.js';

const CACHE_NAMESPACE = 'items';
const NEWLINE = 0x0a;

/** A page of items, already serialised, as cached and as sent. */
export interface ItemsPage {
  /** JSON: a string when just made, the cached bytes on a hit. */
  body: string | Buffer;
  etag: string;
  /** The `after` of the next page, when there is one. */
  nextAfter: number | null;
}

/**
 * A page as the cache holds it: the ETag and the next cursor on a line each, then the body
 * as it is sent. A hit sends the stored bytes as they are: never parsed (as JSON inside
 * JSON, it was), never decoded into a string and encoded back.
 */
function encodePage({ etag, nextAfter, body }: ItemsPage): string {
  return `${etag}\n${nextAfter ?? ''}\n${body.toString()}`;
}

function decodePage(stored: Buffer): ItemsPage {
  const etagEnd = stored.indexOf(NEWLINE);
  const cursorEnd = stored.indexOf(NEWLINE, etagEnd + 1);
  const cursor = stored.toString('latin1', etagEnd + 1, cursorEnd);
  return {
    etag: stored.toString('latin1', 0, etagEnd),
    nextAfter: cursor === '' ? null : Number(cursor),
    body: stored.subarray(cursorEnd + 1),
  };
}

/** Items: validated writes that invalidate the cache, and cached, paginated reads. */
export function createItemsService(store: ItemsStore, cache: Cache) {
  return {
    async create(rawName: string): Promise<Item> {
      const name = rawName.trim();
      // Code points, as PostgreSQL's char_length and JSON Schema's maxLength count them.
      // eslint-disable-next-line @typescript-eslint/no-misused-spread
      const length = [...name].length;
      if (length < 1 || length > ITEM_NAME_MAX_LENGTH) {
        throw new HttpError(
          400,
          `name must be 1 to ${ITEM_NAME_MAX_LENGTH} characters after trimming (got ${length})`,
        );
      }
      // PostgreSQL text cannot hold NUL; refuse it here rather than fail in the database.
      if (name.includes('\u0000')) throw new HttpError(400, 'name must not contain NUL (\\u0000)');
      const item = await store.insert(name);
      // After the commit, before answering: the creator's next GET must see the item.
      await cache.invalidate(CACHE_NAMESPACE);
      return item;
    },

    get: (id: number) => store.findById(id),

    async list({ limit, after = 0 }: ListItemsQuery): Promise<{ page: ItemsPage; hit: boolean }> {
      const key = `${limit}:${after}`;
      const lookup = await cache.get(CACHE_NAMESPACE, key);
      if (lookup.value !== undefined) return { page: decodePage(lookup.value), hit: true };

      const rows = await store.listAfter(after, limit + 1);
      const items = rows.slice(0, limit);
      const body = JSON.stringify(items);
      const page: ItemsPage = {
        body,
        etag: `"${createHash('sha1').update(body).digest('base64url')}"`,
        nextAfter: rows.length > limit ? (items.at(-1)?.id ?? null) : null,
      };
      // A page past the last item holds nothing worth keeping, and every cursor beyond the
      // end would be another entry: only pages with items, or the first, are stored.
      const worthStoring = items.length > 0 || after === 0;
      if (lookup.generation !== undefined && worthStoring) {
        await cache.set(CACHE_NAMESPACE, lookup.generation, key, encodePage(page));
      }
      return { page, hit: false };
    },
  };
}

export type ItemsService = ReturnType<typeof createItemsService>;
