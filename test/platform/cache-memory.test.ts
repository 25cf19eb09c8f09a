import { runInNewContext } from 'node:vm';
import { setFlagsFromString } from 'node:v8';
import { describe, expect, it } from 'vitest';
import { pgliteBackend, useApp } from '../helpers/app.js';

const MAX_BYTES = 4 * 1024 * 1024;
const ITEMS = 1000;
const REQUESTS = 300;
// What else the heap may gain meanwhile (compiled code, pooled objects): measured at 2-4 MB.
const HEAP_SLACK = 16 * 1024 * 1024;

/**
 * Full garbage collections, so the heap measured holds only what is still reachable: two,
 * with a pause between for what the first one queued (finalizers, weak references).
 */
async function collectGarbage(): Promise<void> {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  gc();
  await new Promise((resolve) => setTimeout(resolve, 100));
  gc();
}

describe('the in-process cache under a flood of distinct pages', () => {
  const ctx = useApp(pgliteBackend, { CACHE_MAX_BYTES: String(MAX_BYTES) });

  it(`stays within CACHE_MAX_BYTES (${MAX_BYTES} bytes), in its own count and in the heap`, async () => {
    // The largest pages there are: names of 200 characters, 1,000 to a page.
    await ctx.app.database.query(
      `INSERT INTO items (name) SELECT repeat('n', 190) || lpad(i::text, 10, '0')
       FROM generate_series(1, ${ITEMS}) i`,
    );
    const cachedBytes = async () =>
      Number(
        /^cache_memory_bytes (\d+)$/m.exec((await ctx.app.inject({ url: '/metrics' })).body)?.[1],
      );
    await collectGarbage();
    const heapBefore = process.memoryUsage().heapUsed;

    let served = 0;
    for (let i = 0; i < REQUESTS; i += 1) {
      // Every request a new (limit, after) pair: a new cache entry of up to ~0.5 MB.
      const limit = 1000 - (i % 500);
      const after = Math.floor(i / 2);
      const res = await ctx.app.inject({ url: `/items?limit=${limit}&after=${after}` });
      expect(res.statusCode).toBe(200);
      expect(res.headers['x-cache']).toBe('miss');
      served += res.body.length;
      if (i % 50 === 0) expect(await cachedBytes()).toBeLessThanOrEqual(MAX_BYTES);
    }
    expect(await cachedBytes()).toBeLessThanOrEqual(MAX_BYTES);
    expect(await cachedBytes()).toBeGreaterThan(MAX_BYTES / 4);
    await collectGarbage();
    const grown = process.memoryUsage().heapUsed - heapBefore;
    // Unbounded, the pages alone would have kept this much (twice it as the cache counts).
    expect(served).toBeGreaterThan(10 * MAX_BYTES);
    expect(grown).toBeLessThan(MAX_BYTES + HEAP_SLACK);
  });

  it('keeps no page past the last item, whatever cursor is asked for', async () => {
    await ctx.app.inject({ method: 'POST', url: '/items', payload: { name: 'only' } });
    for (const after of [1, 5000, 9_007_199_254_740_991]) {
      for (let i = 0; i < 2; i += 1) {
        const res = await ctx.app.inject({ url: `/items?after=${after}` });
        expect({ status: res.statusCode, body: res.body, cache: res.headers['x-cache'] }).toEqual({
          status: 200,
          body: '[]',
          cache: 'miss',
        });
      }
    }
    // The first page is kept, empty or not.
    await ctx.app.inject({ url: '/items' });
    expect((await ctx.app.inject({ url: '/items' })).headers['x-cache']).toBe('hit');
  });
});
