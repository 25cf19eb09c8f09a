import { expect } from 'vitest';

export const WAIT_MS = 5000;

/** An open `GET /counter/events` stream, collecting the value of every `counter` event. */
export interface CounterStream {
  response: Response;
  values: number[];
  /** Waits (bounded) until `value` arrives at index `from` or later; returns its index. */
  waitFor(value: number, from?: number, timeoutMs?: number): Promise<number>;
  /** Waits (bounded) until the server ends the stream. */
  ended(): Promise<void>;
  close(): Promise<void>;
}

/** Parses one SSE block; the stream must carry only `counter` events, `retry:` and comments. */
function parseBlock(block: string): number | undefined {
  const lines = block.split('\n').filter((line) => !line.startsWith(':'));
  if (lines.length === 0 || (lines.length === 1 && /^retry: \d+$/.test(lines[0] ?? ''))) {
    return undefined;
  }
  expect(lines).toEqual(['event: counter', expect.stringMatching(/^data: /) as string]);
  const data = JSON.parse((lines[1] ?? '').slice('data: '.length)) as unknown;
  expect(data).toEqual({ counter: expect.any(Number) as number });
  return (data as { counter: number }).counter;
}

/** Opens `GET /counter/events` at `url` and collects its values in the background. */
export async function openStream(url: string, headers: Record<string, string> = {}) {
  const controller = new AbortController();
  const response = await fetch(url, { signal: controller.signal, headers });
  const values: number[] = [];
  const errors: unknown[] = [];
  const waiters = new Set<() => void>();
  const wake = () => {
    for (const waiter of waiters) waiter();
  };
  let done = false;

  const pump = (async () => {
    if (response.body === null) throw new Error('no response body');
    const reader = response.body.getReader();
    const decoder = new TextDecoder();
    let buffer = '';
    try {
      for (;;) {
        const chunk = await reader.read();
        if (chunk.done) break;
        buffer += decoder.decode(chunk.value as Uint8Array, { stream: true });
        for (let end = buffer.indexOf('\n\n'); end >= 0; end = buffer.indexOf('\n\n')) {
          const value = parseBlock(buffer.slice(0, end));
          buffer = buffer.slice(end + 2);
          if (value !== undefined) values.push(value);
        }
        wake();
      }
    } catch (error) {
      if (!controller.signal.aborted) errors.push(error);
    } finally {
      done = true;
      wake();
    }
  })();

  const until = async (
    condition: () => boolean,
    what: string,
    timeoutMs = WAIT_MS,
  ): Promise<void> => {
    const deadline = Date.now() + timeoutMs;
    while (!condition()) {
      if (errors.length > 0) throw errors[0];
      const remaining = deadline - Date.now();
      if (remaining <= 0 || done) {
        throw new Error(`no ${what} (stream ${done ? 'ended' : 'open'}, got ${values.join(',')})`);
      }
      await new Promise<void>((resolve) => {
        const finish = () => {
          clearTimeout(timer);
          waiters.delete(finish);
          resolve();
        };
        const timer = setTimeout(finish, remaining);
        waiters.add(finish);
      });
    }
  };

  const stream: CounterStream = {
    response,
    values,
    async waitFor(value, from = 0, timeoutMs = WAIT_MS) {
      const find = () => values.indexOf(value, from);
      await until(() => find() >= 0, `event with ${value} from #${from}`, timeoutMs);
      return find();
    },
    async ended() {
      await until(() => done, 'end of stream');
    },
    async close() {
      controller.abort();
      await pump;
    },
  };
  return stream;
}
