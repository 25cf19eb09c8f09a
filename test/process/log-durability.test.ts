import { expect, it } from 'vitest';
import { freePort } from '../helpers/ports.js';
import { runEntry } from '../helpers/process.js';
import { waitFor } from '../helpers/wait.js';

// Far more lines than a pipe holds (each line is some 300 bytes).
const MAX_REQUESTS = 5000;
const CONCURRENCY = 10;
const ANSWER_WITHIN_MS = 1000;

it('has written the line of every request it answered when it is killed, even while nobody reads its output', async () => {
  const port = await freePort();
  const child = runEntry('src/main.ts', {
    HOST: '127.0.0.1',
    PORT: String(port),
    MAX_EVENT_LOOP_DELAY_MS: '0',
    RATE_LIMIT_MAX: '0',
  });
  const baseUrl = `http://127.0.0.1:${port}`;
  try {
    await waitFor(
      'the service to be ready',
      async () => (await fetch(`${baseUrl}/readyz`).catch(() => undefined))?.status === 200,
      30_000,
    );

    // Standard output is not read from here on, as when a log collector stalls: the pipe
    // fills, and a line queued in the process's memory would die with it.
    const answered: string[] = [];
    let stalled = false;
    let next = 0;
    const client = async () => {
      while (!stalled && next < MAX_REQUESTS) {
        const id = `durability-${next++}`;
        const response = await fetch(`${baseUrl}/status`, {
          headers: { 'x-request-id': id },
          signal: AbortSignal.timeout(ANSWER_WITHIN_MS),
        }).catch(() => undefined);
        if (response === undefined) stalled = true;
        else if (response.status === 200) answered.push(id);
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, client));
    child.kill('SIGKILL');

    let output = '';
    child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    await new Promise((resolve) => child.stdout?.once('close', resolve));
    const logged = new Set(
      output
        .split('\n')
        .filter((line) => line.startsWith('{'))
        .map((line) => (JSON.parse(line) as { requestId?: string }).requestId),
    );

    expect(answered.length).toBeGreaterThan(0);
    // A line is written once its response has gone, so one can be missing: the line the
    // process was waiting to write, into a full pipe, when it was killed. No other.
    expect(answered.filter((id) => !logged.has(id)).length).toBeLessThanOrEqual(1);
    // The price, by design (decision 34): with its output full, the service waits for the
    // reader instead of answering on and holding the lines in memory.
    expect(stalled).toBe(true);
  } finally {
    child.kill('SIGKILL');
  }
}, 60_000);
