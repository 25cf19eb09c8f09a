import { describe, expect, it } from 'vitest';
import { backoffDelay } from '../../src/platform/retry.js';

describe('backoffDelay', () => {
  it('doubles from the base, with jitter in the upper half, up to the ceiling', () => {
    for (let attempt = 0; attempt < 40; attempt++) {
      const ceiling = Math.min(10_000, 250 * 2 ** attempt);
      for (let sample = 0; sample < 50; sample++) {
        const delay = backoffDelay(attempt);
        expect(delay).toBeGreaterThanOrEqual(ceiling / 2);
        expect(delay).toBeLessThanOrEqual(ceiling);
      }
    }
  });

  it('spreads replicas that failed together', () => {
    const delays = new Set(Array.from({ length: 20 }, () => backoffDelay(5)));
    expect(delays.size).toBeGreaterThan(1);
  });
});
