/**
 * A look-up in a namespace. `generation` identifies the namespace's current version:
 * a value computed after the look-up is stored under it, so a write that invalidates
 * the namespace in between makes that value unreachable instead of stale.
 * `generation` is undefined when the cache cannot be used right now.
 */
export interface CacheLookup {
  /** Bytes, as Redis holds them: a hit can be sent without being decoded. */
  value: Buffer | undefined;
  generation: string | undefined;
}

/** A namespaced cache of bytes shared by all replicas (Redis) or local to one (memory). */
export interface Cache {
  readonly kind: 'redis' | 'memory';
  get(namespace: string, key: string): Promise<CacheLookup>;
  set(namespace: string, generation: string, key: string, value: Buffer | string): Promise<void>;
  /** Makes every value in the namespace unreachable, for every replica. */
  invalidate(namespace: string): Promise<void>;
  close(): Promise<void>;
}

/** What the cache reports, so metrics and logs can follow it without the cache knowing them. */
export interface CacheObserver {
  lookup(result: 'hit' | 'miss'): void;
  /** The shared cache failed: requests go to the database until it recovers. */
  unavailable(error: Error): void;
  recovered(): void;
}
