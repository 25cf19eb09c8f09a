import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { OBJECTIVES, alertName } from '../../slo/objectives.js';
import { STORIES } from '../../slo/rule-tests.js';
import {
  PROMETHEUS_DIR,
  exportedMetricsText,
  promtool,
  promtoolAvailable,
  selectedMetrics,
} from '../helpers/prometheus.js';

interface Rule {
  record?: string;
  alert?: string;
  expr: string;
  labels?: Record<string, string>;
}
const rules = (
  parse(readFileSync(join(PROMETHEUS_DIR, 'slo-rules.yml'), 'utf8')) as {
    groups: { rules: Rule[] }[];
  }
).groups.flatMap((group) => group.rules);

describe.runIf(promtoolAvailable)('the SLO alerts, told the same stories', () => {
  it(
    'page on a fast burn, open a ticket on a slow one, and stay quiet for blips, quiet journeys and no traffic',
    () => {
      expect(promtool(['test', 'rules', 'slo-rules.test.yml'], PROMETHEUS_DIR, 200_000)).toEqual({
        status: 0,
        output: expect.stringContaining('SUCCESS') as string,
      });
    },
    // A day and more of samples per story, evaluated every five minutes: about a minute.
    240_000,
  );
});

describe('the SLO rules', () => {
  it('give every objective a page and a ticket alert', () => {
    for (const objective of OBJECTIVES) {
      const alerts = rules.filter((rule) => rule.alert === alertName(objective));
      expect(alerts.map((rule) => rule.labels?.severity).sort(), objective.name).toEqual([
        'page',
        'ticket',
      ]);
    }
    expect(STORIES.length).toBeGreaterThanOrEqual(5);
  });

  it('read only metrics the app exports, at latency thresholds that are bucket bounds', async () => {
    const text = await exportedMetricsText();
    // Recorded series, or series the app exports (with a sample, or at least a TYPE line).
    const recorded = new Set(rules.flatMap((rule) => rule.record ?? []));
    for (const rule of rules)
      for (const metric of selectedMetrics(rule.expr)) {
        if (recorded.has(metric)) continue;
        const family = metric.replace(/_(bucket|count|sum)$/, '');
        expect(text, `${rule.record ?? rule.alert}: ${metric}`).toMatch(
          new RegExp(`^# TYPE ${family} `, 'm'),
        );
      }
    for (const objective of OBJECTIVES) {
      const indicator = objective.indicator;
      if (indicator.kind === 'availability') continue;
      const histogram =
        indicator.kind === 'latency'
          ? 'http_request_duration_seconds'
          : 'counter_event_delay_seconds';
      expect(text, objective.name).toMatch(
        new RegExp(`^${histogram}_bucket\\{le="${indicator.thresholdSeconds}"`, 'm'),
      );
    }
  });
});
