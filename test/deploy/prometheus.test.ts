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
const rulesOf = (file: string) =>
  (parse(read(file)) as { groups: { rules: AlertRule[] }[] }).groups.flatMap(
    (group) => group.rules,
  );
const rules = rulesOf('alerts.yml');

describe.runIf(promtoolAvailable)('promtool on the committed files', () => {
  it('accepts prometheus.yml and the rule file it loads', () => {
    expect(promtool(['check', 'config', 'prometheus.yml'])).toEqual({
      status: 0,
      output: expect.stringMatching(/SUCCESS: 2 rule files found[\s\S]*is valid/) as string,
    });
  });

  it('accepts alerts.yml', () => {
    expect(promtool(['check', 'rules', 'alerts.yml'])).toEqual({
      status: 0,
      output: expect.stringContaining(`SUCCESS: ${rules.length} rules found`) as string,
    });
  });

  it('accepts the generated SLO rules', () => {
    expect(promtool(['check', 'rules', 'slo-rules.yml'])).toEqual({
      status: 0,
      output: expect.stringContaining(
        `SUCCESS: ${rulesOf('slo-rules.yml').length} rules found`,
      ) as string,
    });
  });

  it('passes the unit tests of every cause alert (promtool test rules)', () => {
    expect(promtool(['test', 'rules', 'alerts.test.yml'])).toEqual({
      status: 0,
      output: expect.stringContaining('SUCCESS') as string,
    });
  });
});

describe('cause alert rules', () => {
  it('cover a service down, readiness, scrapes, the Redis fallback and the sold-out counter', () => {
    expect(rules.map((rule) => rule.alert).sort()).toEqual([
      'ShipshapeRedisFallbackActive',
      'ShipshapeReplicaDown',
      'ShipshapeReplicaNotReady',
      'ShipshapeServiceDown',
      'ShipshapeSoldOut',
    ]);
  });

  it('each wait a while before firing and open a ticket; only a service down pages', () => {
    for (const rule of rules) {
      expect(rule.for, rule.alert).toMatch(/^\d+m$/);
      expect(rule.labels.severity, rule.alert).toBe(
        rule.alert === 'ShipshapeServiceDown' ? 'page' : 'ticket',
      );
      expect(Object.keys(rule.annotations).sort(), rule.alert).toEqual([
        'description',
        'runbook_url',
        'summary',
      ]);
    }
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
    expect(config.rule_files).toEqual(['alerts.yml', 'slo-rules.yml']);
    const job = config.scrape_configs.find((scrape) => scrape.job_name === 'shipshape');
    expect(job?.dns_sd_configs).toEqual([
      { names: ['app'], type: 'A', port: 3000, refresh_interval: '15s' },
    ]);
  });
});
