import { describe, expect, it, vi } from 'vitest';
import { pgliteBackend, useApp } from '../helpers/app.js';

describe('readiness under a flood of probes and scrapes', () => {
  const ctx = useApp(pgliteBackend);

  it('asks the database about once a second, however many probes and scrapes come', async () => {
    const query = vi.spyOn(ctx.app.database, 'query');
    try {
      const started = performance.now();
      const answers = await Promise.all(
        Array.from({ length: 200 }, (_, i) =>
          ctx.app.inject({ url: i % 2 === 0 ? '/readyz' : '/metrics' }),
        ),
      );
      const seconds = (performance.now() - started) / 1000;
      expect(answers.map((res) => res.statusCode)).toEqual(answers.map(() => 200));
      const checks = query.mock.calls.filter(([sql]) => sql === 'SELECT 1').length;
      expect(checks).toBeGreaterThanOrEqual(1);
      expect(checks).toBeLessThanOrEqual(Math.ceil(seconds) + 1);
    } finally {
      query.mockRestore();
    }
  });

  it('still sees the database go: a failed check turns readiness 503 within a second', async () => {
    const query = vi
      .spyOn(ctx.app.database, 'query')
      .mockRejectedValue(new Error('connection refused'));
    try {
      await new Promise((resolve) => setTimeout(resolve, 1000));
      const ready = await ctx.app.inject({ url: '/readyz' });
      expect({ status: ready.statusCode, body: ready.json<unknown>() }).toEqual({
        status: 503,
        body: { statusCode: 503, error: 'Service Unavailable', message: 'Database unreachable' },
      });
    } finally {
      query.mockRestore();
    }
  });
});
