/** What one statement did for a batch: the stock before and after it. */
export interface BatchResult {
  before: number;
  after: number;
}

interface PendingSale {
  resolve: (valueAfter: number | undefined) => void;
  reject: (error: unknown) => void;
}

/**
 * Coalesces concurrent sales. The first sale goes to the database at once; sales that
 * arrive while a statement is in flight wait for it and then go together, in one
 * statement (at most `maxBatch`). A single hot row commits one statement at a time, so
 * this turns that ceiling into one per batch instead of one per sale. Each sale is
 * answered only after its statement committed, in arrival order: the i-th sale of a
 * batch gets the stock as if the sales had run one by one, or undefined if none was left.
 */
export function createSaleCoalescer(
  sellUpTo: (count: number) => Promise<BatchResult>,
  { maxBatch = 256, onBatch }: { maxBatch?: number; onBatch?: (size: number) => void } = {},
) {
  const waiting: PendingSale[] = [];
  let inFlight = false;

  const flush = (): void => {
    if (inFlight || waiting.length === 0) return;
    inFlight = true;
    const batch = waiting.splice(0, maxBatch);
    onBatch?.(batch.length);
    sellUpTo(batch.length)
      .then(
        ({ before, after }) => {
          const sold = before - after;
          batch.forEach((sale, index) =>
            sale.resolve(index < sold ? before - index - 1 : undefined),
          );
        },
        (error: unknown) => {
          for (const sale of batch) sale.reject(error);
        },
      )
      .finally(() => {
        inFlight = false;
        flush();
      });
  };

  return {
    /** Sales waiting for the statement in flight to finish. */
    get waiting(): number {
      return waiting.length;
    },

    /** The stock after this sale, or undefined when it was sold out. */
    sell(): Promise<number | undefined> {
      return new Promise((resolve, reject) => {
        waiting.push({ resolve, reject });
        flush();
      });
    },
  };
}
