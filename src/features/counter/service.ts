import { HttpError } from '../../platform/errors.js';
import type { CounterStore } from './store.js';

/** Camera stock: sell one at a time, never below zero; reset to the configured stock. */
export function createCounterService(store: CounterStore, initialStock: number) {
  return {
    async current(): Promise<number> {
      const value = await store.current();
      if (value !== undefined) return value;
      await store.ensure(initialStock);
      return (await store.current()) ?? initialStock;
    },

    async sell(): Promise<number> {
      const value = await store.decrement();
      if (value === undefined) throw new HttpError(409, 'Sold out: no cameras left');
      return value;
    },

    reset: () => store.reset(initialStock),
  };
}

export type CounterService = ReturnType<typeof createCounterService>;
