import { describe, expect, it } from 'vitest';
import {
  createSaleCoalescer,
  type BatchResult,
} from '../../../src/features/counter/sale-coalescer.js';

/** A stand-in for the one UPDATE: records each batch's size, settles when told to. */
function heldStatements(stock: number) {
  const batches: number[] = [];
  const pending: { count: number; settle: (result: BatchResult | Error) => void }[] = [];
  const sellUpTo = (count: number) =>
    new Promise<BatchResult>((resolve, reject) => {
      batches.push(count);
      pending.push({
        count,
        settle: (result) => (result instanceof Error ? reject(result) : resolve(result)),
      });
    });
  /** Commits the oldest statement against the stock, as the database would. */
  const commit = async () => {
    const statement = pending.shift();
    if (statement === undefined) throw new Error('no statement in flight');
    const before = stock;
    stock -= Math.min(statement.count, stock);
    statement.settle({ before, after: stock });
    await new Promise((resolve) => setImmediate(resolve));
  };
  const fail = async (error: Error) => {
    pending.shift()?.settle(error);
    await new Promise((resolve) => setImmediate(resolve));
  };
  return { sellUpTo, batches, commit, fail, inFlight: () => pending.length };
}

describe('sale coalescer', () => {
  it('sends the first sale at once and those arriving meanwhile together, one statement at a time', async () => {
    const db = heldStatements(100);
    const sales = createSaleCoalescer(db.sellUpTo);
    const first = sales.sell();
    const rest = Array.from({ length: 5 }, () => sales.sell());
    expect(db.batches).toEqual([1]);
    expect(db.inFlight()).toBe(1);

    await db.commit();
    expect(await first).toBe(99);
    expect(db.batches).toEqual([1, 5]);
    await db.commit();
    expect(await Promise.all(rest)).toEqual([98, 97, 96, 95, 94]);
    expect(db.inFlight()).toBe(0);
  });

  it('answers in arrival order, and undefined for the sales beyond the stock', async () => {
    const db = heldStatements(3);
    const sales = createSaleCoalescer(db.sellUpTo);
    const first = sales.sell();
    const batch = Array.from({ length: 4 }, () => sales.sell());
    await db.commit();
    await db.commit();
    expect(await first).toBe(2);
    expect(await Promise.all(batch)).toEqual([1, 0, undefined, undefined]);

    const late = sales.sell();
    await db.commit();
    expect(await late).toBeUndefined();
  });

  it('fails only the sales of a failed statement, then carries on', async () => {
    const db = heldStatements(10);
    const sales = createSaleCoalescer(db.sellUpTo);
    const first = sales.sell();
    const second = sales.sell();
    const firstFails = expect(first).rejects.toThrow('connection lost');
    await db.fail(new Error('connection lost'));
    await firstFails;
    await db.commit();
    expect(await second).toBe(9);
  });

  it('puts at most maxBatch sales in one statement', async () => {
    const db = heldStatements(100);
    const sizes: number[] = [];
    const sales = createSaleCoalescer(db.sellUpTo, { maxBatch: 3, onBatch: (n) => sizes.push(n) });
    const all = Array.from({ length: 8 }, () => sales.sell());
    for (let i = 0; i < 4; i++) await db.commit();
    expect(db.batches).toEqual([1, 3, 3, 1]);
    expect(sizes).toEqual(db.batches);
    expect(await Promise.all(all)).toEqual([99, 98, 97, 96, 95, 94, 93, 92]);
  });
});
