import { HttpError } from '../../platform/errors.js';
import { createSaleCoalescer } from './sale-coalescer.js';
import type { CounterStore } from './store.js';

/** Camera stock: sell one per request (coalesced in the database), never below zero; reset. */
export function createCounterService(
  store: CounterStore,
  initialStock: number,
  { onBatch }: { onBatch?: (size: number) => void } = {},
) {
  const sales = createSaleCoalescer((count) => store.sellUpTo(count), { onBatch });
  return {
    /** Sales waiting for the one in flight to commit. */
    salesWaiting: () => sales.waiting,

    async current(): Promise<number> {
      const value = await store.current();
      if (value !== undefined) return value;
      await store.ensure(initialStock);
      return (await store.current()) ?? initialStock;
    },

    async sell(): Promise<number> {
      const value = await sales.sell();
      if (value === undefined) throw new HttpError(409, 'Sold out: no cameras left');
      return value;
    },

    reset: () => store.reset(initialStock),
  };
}

export type CounterService = ReturnType<typeof createCounterService>;
