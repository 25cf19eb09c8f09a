import type { Static } from 'typebox';
import type { GreetingSchema } from '../../../src/features/birthdays/schema.js';
import type { CounterSchema } from '../../../src/features/counter/schema.js';
import type { ItemSchema } from '../../../src/features/items/schema.js';
import { ApiError, errorFromResponse, unreachable } from './errors.js';
import { subscribe, type StreamStatus } from './stream.js';

// Types come from the server's own route schemas, so the two cannot drift apart.
export type Item = Static<typeof ItemSchema>;
type Counter = Static<typeof CounterSchema>;
type Greeting = Static<typeof GreetingSchema>;

/** One page of items and the link to the next one, when there is more. */
export interface ItemsPage {
  items: Item[];
  next: string | undefined;
}

/** What the client needs from the browser; tests pass their own. */
export interface ApiClientDependencies {
  fetch: typeof fetch;
  EventSource: typeof EventSource;
}

const NEXT_LINK = /<([^>]+)>\s*;\s*rel="?next"?/;

/**
 * The one place that knows the service's paths, methods and error shape. Every method
 * resolves with typed data or rejects with an {@link ApiError} a person can read.
 */
export function createApiClient(deps: ApiClientDependencies) {
  async function send(method: string, path: string, init: RequestInit = {}): Promise<Response> {
    let response: Response;
    try {
      // no-cache: always revalidate (ETag), so a read after a write sees the write.
      response = await deps.fetch(path, { method, cache: 'no-cache', ...init });
    } catch {
      throw unreachable();
    }
    if (!response.ok) throw await errorFromResponse(response);
    return response;
  }

  const json = (body: unknown): RequestInit => ({
    body: JSON.stringify(body),
    headers: { 'content-type': 'application/json' },
  });

  const read = async <T>(response: Response): Promise<T> => {
    try {
      return (await response.json()) as T;
    } catch {
      // Not the service's JSON: a captive portal or a misrouted proxy answered instead.
      throw new ApiError(response.status, 'The answer was not from the service. Retry shortly.');
    }
  };

  return {
    counter: {
      async get(): Promise<number> {
        return (await read<Counter>(await send('GET', '/counter'))).counter;
      },
      /** Sells one camera; rejects with status 409 when none are left. */
      async sell(): Promise<number> {
        return (await read<Counter>(await send('POST', '/decrement'))).counter;
      },
      /** Puts the stock back; rejects with status 401 when an admin token is needed. */
      async reset(adminToken?: string): Promise<number> {
        const headers = adminToken ? { authorization: `Bearer ${adminToken}` } : undefined;
        return (await read<Counter>(await send('PUT', '/reset', { headers }))).counter;
      },
      /** Live values from any replica; reconnects by itself. Returns the unsubscribe. */
      subscribe(onValue: (counter: number) => void, onStatus: (status: StreamStatus) => void) {
        return subscribe(deps.EventSource, '/counter/events', 'counter', {
          onMessage: (data) => onValue((JSON.parse(data) as Counter).counter),
          onStatus,
        });
      },
    },

    birthdays: {
      async save(username: string, dateOfBirth: string): Promise<void> {
        await send('PUT', helloPath(username), json({ dateOfBirth }));
      },
      async greet(username: string): Promise<string> {
        return (await read<Greeting>(await send('GET', helloPath(username)))).message;
      },
    },

    items: {
      /** The first page, or the page a previous `next` link points to. */
      async list(page = '/items'): Promise<ItemsPage> {
        const response = await send('GET', page);
        const next = NEXT_LINK.exec(response.headers.get('link') ?? '')?.[1];
        return { items: await read<Item[]>(response), next };
      },
      async create(name: string): Promise<Item> {
        return read<Item>(await send('POST', '/items', json({ name })));
      },
    },
  };
}

export type ApiClient = ReturnType<typeof createApiClient>;
export { ApiError, type StreamStatus };

const helloPath = (username: string) => `/hello/${encodeURIComponent(username)}`;
