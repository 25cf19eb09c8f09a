import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import {
  PROMETHEUS_DIR,
  exportedMetricNames,
  promtool,
  promtoolAvailable,
  selectedMetrics,
} from '../helpers/prometheus.js';

interface AlertRule {
  alert: string;
  expr: string;
  for: string;
  labels: { severity: string };
  annotations: Record<string, string>;
}
interface AlertTest {
  alert_rule_test: { alertname: string; exp_alerts: unknown[] }[];
}

const read = (file: string) => readFileSync(join(PROMETHEUS_DIR, file), 'utf8');
const rules = (parse(read('alerts.yml')) as { groups: { rules: AlertRule[] }[] }).groups.flatMap(
  (group) => group.rules,
);

describe.runIf(promtoolAvailable)('promtool on the committed files', () => {
  it('accepts prometheus.yml and the rule file it loads', () => {
    expect(promtool(['check', 'config', 'prometheus.yml'])).toEqual({
      status: 0,
      output: expect.stringMatching(/SUCCESS: 1 rule files found[\s\S]*is valid/) as string,
    });
  });

  it('accepts alerts.yml', () => {
    expect(promtool(['check', 'rules', 'alerts.yml'])).toEqual({
      status: 0,
      output: expect.stringContaining(`SUCCESS: ${rules.length} rules found`) as string,
    });
  });

  it('passes the unit tests of every alert (promtool test rules)', () => {
    expect(promtool(['test', 'rules', 'alerts.test.yml'])).toEqual({
      status: 0,
      output: expect.stringContaining('SUCCESS') as string,
    });
  });
});

describe('alert rules', () => {
  it('cover errors, latency, readiness, the Redis fallback and the sold-out counter', () => {
    expect(rules.map((rule) => rule.alert).sort()).toEqual([
      'ShipshapeHighErrorRate',
      'ShipshapeHighLatency',
      'ShipshapeRedisFallbackActive',
      'ShipshapeReplicaDown',
      'ShipshapeReplicaNotReady',
      'ShipshapeSoldOut',
    ]);
  });

  it('each wait a while before firing, say how bad it is and link the runbook', () => {
    const operations = readFileSync(new URL('../../docs/operations.md', import.meta.url), 'utf8');
    for (const rule of rules) {
      expect(rule.for, rule.alert).toMatch(/^\d+m$/);
      expect(['page', 'warning', 'info'], rule.alert).toContain(rule.labels.severity);
      expect(Object.keys(rule.annotations).sort(), rule.alert).toEqual([
        'description',
        'runbook',
        'summary',
      ]);
      expect(rule.annotations.runbook).toBe('docs/operations.md#alerts');
      // The runbook names each alert, so the page someone is sent to says what to do.
      expect(operations, rule.alert).toContain(rule.alert);
    }
    expect(operations).toMatch(/^## Alerts$/m);
  });

  it('each have a unit test in which they fire', () => {
    const tests = (parse(read('alerts.test.yml')) as { tests: AlertTest[] }).tests;
    const firing = new Set(
      tests
        .flatMap((test) => test.alert_rule_test)
        .filter((check) => check.exp_alerts.length > 0)
        .map((check) => check.alertname),
    );
    expect([...firing].sort()).toEqual(rules.map((rule) => rule.alert).sort());
  });

  it('only read metrics the app really exports', async () => {
    const exported = await exportedMetricNames();
    for (const rule of rules) {
      const metrics = selectedMetrics(rule.expr);
      expect(metrics.length, rule.alert).toBeGreaterThan(0);
      for (const metric of metrics) expect(exported, `${rule.alert}: ${metric}`).toContain(metric);
      expect(rule.expr, rule.alert).not.toMatch(/\{(?![^}]*job="shipshape")/);
    }
  });
});

describe('prometheus.yml', () => {
  it("scrapes every replica of compose's app service, on the app's port", () => {
    const config = parse(read('prometheus.yml')) as {
      rule_files: string[];
      scrape_configs: { job_name: string; dns_sd_configs?: unknown[] }[];
    };
    expect(config.rule_files).toEqual(['alerts.yml']);
    const job = config.scrape_configs.find((scrape) => scrape.job_name === 'shipshape');
    expect(job?.dns_sd_configs).toEqual([
      { names: ['app'], type: 'A', port: 3000, refresh_interval: '15s' },
    ]);
  });
});
