import { describe, expect, it } from 'vitest';
import { OBJECTIVES, type Objective } from '../../../slo/objectives';
import {
  isRequestObjective,
  sliMetricNames,
  sliNamespace,
  sliPatterns,
  type RequestObjective,
} from '../lib/slo-log-patterns';

const requestObjectives = OBJECTIVES.filter(isRequestObjective);
const text = (objective: RequestObjective) => {
  const { events, bad } = sliPatterns(objective);
  return { events: events.logPatternString, bad: bad.logPatternString };
};
const routeClause = (method: string, route: string) =>
  `(($.method = "${method}") && ($.route = "${route}"))`;

describe('the SLI filter patterns, from slo/objectives.ts', () => {
  it('covers every objective but the event-delay ones, which have no request lines', () => {
    const skipped = OBJECTIVES.filter((objective) => !isRequestObjective(objective));
    expect(skipped.map(({ indicator }) => indicator.kind)).toEqual(['event-delay']);
    expect(requestObjectives.length + skipped.length).toBe(OBJECTIVES.length);
    expect(requestObjectives.map(({ indicator }) => indicator.kind).sort()).toEqual(
      expect.arrayContaining(['availability', 'latency']),
    );
  });

  it.each(requestObjectives)(
    '$name counts request lines on each of its routes, and no other',
    (objective) => {
      for (const pattern of Object.values(text(objective))) {
        expect(pattern).toMatch(/^\{ .* \}$/);
        expect(pattern).toContain('($.msg = "request completed")');
        for (const { method, route } of objective.indicator.routes)
          expect(pattern).toContain(routeClause(method, route));
        // One clause per route, joined by "or": nothing but its routes matches.
        expect(pattern.match(/\$\.route = /g)).toHaveLength(objective.indicator.routes.length);
        expect(pattern.match(/ \|\| /g) ?? []).toHaveLength(objective.indicator.routes.length - 1);
      }
    },
  );

  it.each(requestObjectives)(
    '$name stays within the 1,024 characters a filter pattern may have',
    (objective) => {
      // https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_PutMetricFilter.html
      for (const pattern of Object.values(text(objective)))
        expect(pattern.length).toBeLessThanOrEqual(1024);
    },
  );

  it('counts a 5xx as bad for availability, and every line as an event', () => {
    for (const objective of requestObjectives.filter(({ sli }) => sli === 'availability')) {
      const { events, bad } = text(objective);
      expect(events).not.toContain('statusCode');
      expect(bad).toBe(events.replace(/ \}$/, ' && ($.statusCode >= 500) }'));
    }
  });

  it('counts answered lines for latency, bad above the threshold in milliseconds', () => {
    const latency = requestObjectives.filter(
      (
        objective,
      ): objective is RequestObjective & {
        indicator: { kind: 'latency'; thresholdSeconds: number };
      } => objective.indicator.kind === 'latency',
    );
    expect(latency.length).toBeGreaterThan(0);
    for (const objective of latency) {
      const { events, bad } = text(objective);
      expect(events).toMatch(/&& \(\$\.statusCode < 500\) \}$/);
      const ms = Math.round(objective.indicator.thresholdSeconds * 1000);
      expect(bad).toBe(events.replace(/ \}$/, ` && ($.durationMs > ${ms}) }`));
    }
  });

  it('writes the threshold in whole milliseconds, without binary noise', () => {
    const objective: Objective = {
      name: 'noise-latency',
      journey: 'read-items',
      sli: 'latency',
      target: 0.99,
      description: 'test',
      indicator: {
        kind: 'latency',
        routes: [{ method: 'GET', route: '/x' }],
        thresholdSeconds: 0.1,
      },
    };
    if (!isRequestObjective(objective)) throw new Error('a latency objective has routes');
    expect(text(objective).bad).toContain('($.durationMs > 100)');
    // 0.1 * 3 is 0.30000000000000004, and times 1000 not quite 300.
    const noisy = 0.1 * 3;
    expect(noisy * 1000).not.toBe(300);
    const withNoise = {
      ...objective,
      indicator: { ...objective.indicator, thresholdSeconds: noisy },
    };
    expect(text(withNoise).bad).toContain('($.durationMs > 300)');
  });

  it('names the metrics after the objective, in a namespace of the environment', () => {
    expect(sliNamespace('staging')).toBe('shipshape/staging/slo');
    expect(sliNamespace('production')).not.toBe(sliNamespace('staging'));
    const names = requestObjectives.flatMap((objective) =>
      Object.values(sliMetricNames(objective)),
    );
    expect(new Set(names).size).toBe(2 * requestObjectives.length);
  });
});
