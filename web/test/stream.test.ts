import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { StreamStatus } from '../src/api/client.js';
import { createFakeService } from './fake-service.js';

/** Subscribes to the counter stream, recording every value and status it reports. */
function subscribeToCounter() {
  const service = createFakeService();
  const values: number[] = [];
  const statuses: StreamStatus[] = [];
  const unsubscribe = service.client.counter.subscribe(
    (value) => values.push(value),
    (status) => statuses.push(status),
  );
  return { service, values, statuses, unsubscribe };
}

describe('counter stream', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('opens /counter/events and reports connecting, then live, then each value', () => {
    const { service, values, statuses } = subscribeToCounter();
    expect(service.streams.map((source) => source.url)).toEqual(['/counter/events']);
    expect(statuses).toEqual(['connecting']);

    service.stream().open();
    service.stream().emit('counter', '{"counter":5}');
    service.stream().emit('counter', '{"counter":4}');
    // Only `event: counter` counts; a default "message" event is someone else's.
    service.stream().emit('message', '{"counter":99}');

    expect(statuses).toEqual(['connecting', 'live']);
    expect(values).toEqual([5, 4]);
  });

  it('leaves retrying to the browser while the source is not closed', () => {
    const { service, statuses } = subscribeToCounter();
    service.stream().open();

    service.stream().fail(false);
    vi.advanceTimersByTime(60_000);
    service.stream().open();

    expect(service.streams).toHaveLength(1);
    expect(statuses).toEqual(['connecting', 'live', 'reconnecting', 'live']);
  });

  it('opens a new source after a growing delay when the browser gives up', () => {
    const { service, statuses } = subscribeToCounter();
    // Each delay: not one millisecond early, and then a new source at once.
    for (const [attempt, delay] of [1000, 2000, 4000, 8000, 15_000, 15_000].entries()) {
      service.stream().fail(true);
      vi.advanceTimersByTime(delay - 1);
      expect(service.streams).toHaveLength(attempt + 1);
      vi.advanceTimersByTime(1);
      expect(service.streams).toHaveLength(attempt + 2);
    }
    expect(statuses.slice(0, 5)).toEqual([
      'connecting',
      'reconnecting',
      'connecting',
      'reconnecting',
      'connecting',
    ]);
  });

  it('starts again from the shortest delay once a new source opens', () => {
    const { service } = subscribeToCounter();
    service.stream().fail(true);
    vi.advanceTimersByTime(1000);
    service.stream().fail(true);
    vi.advanceTimersByTime(2000);
    expect(service.streams).toHaveLength(3);

    service.stream().open();
    service.stream().fail(true);
    vi.advanceTimersByTime(1000);

    expect(service.streams).toHaveLength(4);
  });

  it('delivers values from the new source after a reopen', () => {
    const { service, values, statuses } = subscribeToCounter();
    service.stream().fail(true);
    vi.advanceTimersByTime(1000);

    service.stream().open();
    service.stream().emit('counter', '{"counter":7}');

    expect(values).toEqual([7]);
    expect(statuses.at(-1)).toBe('live');
  });

  it('closes the source when unsubscribed', () => {
    const { service, unsubscribe } = subscribeToCounter();
    service.stream().open();

    unsubscribe();

    expect(service.stream().closedByClient).toBe(true);
  });

  it('cancels a pending reopen when unsubscribed', () => {
    const { service, unsubscribe } = subscribeToCounter();
    service.stream().fail(true);

    unsubscribe();
    vi.advanceTimersByTime(60_000);

    expect(service.streams).toHaveLength(1);
  });
});
