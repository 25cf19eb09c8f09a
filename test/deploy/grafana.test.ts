import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import {
  exportedMetricNames,
  promtool,
  promtoolAvailable,
  selectedMetrics,
} from '../helpers/prometheus.js';

const GRAFANA = new URL('../../deploy/compose/grafana/', import.meta.url);
const read = (path: string) => readFileSync(new URL(path, GRAFANA), 'utf8');

interface Target {
  expr: string;
  datasource: { type: string; uid: string };
}
interface Panel {
  title: string;
  type: string;
  targets: Target[];
}
const dashboard = JSON.parse(read('dashboards/shipshape.json')) as { uid: string; panels: Panel[] };
const targets = dashboard.panels.flatMap((panel) =>
  panel.targets.map((target) => ({ panel: panel.title, ...target })),
);
const promql = targets.filter((target) => target.datasource.type === 'prometheus');
const logql = targets.filter((target) => target.datasource.type === 'loki');

// Grafana fills these in before a query reaches Prometheus.
const withGrafanaVariables = (expr: string) =>
  expr.replaceAll('$__rate_interval', '1m').replaceAll('$__range', '1h');

describe('Grafana provisioning', () => {
  it('provides the Prometheus and Loki of the compose stack under the uids panels use', () => {
    const { datasources } = parse(read('provisioning/datasources/datasources.yaml')) as {
      datasources: { uid: string; type: string; url: string }[];
    };
    expect(datasources.map(({ uid, type, url }) => ({ uid, type, url }))).toEqual([
      { uid: 'prometheus', type: 'prometheus', url: 'http://prometheus:9090' },
      { uid: 'loki', type: 'loki', url: 'http://loki:3100' },
    ]);
    const uids = new Set(datasources.map((source) => source.uid));
    for (const target of targets) expect(uids, target.panel).toContain(target.datasource.uid);
  });
});

describe('the shipshape dashboard', () => {
  it('shows rate, errors, p50/p99 per route, cache, pool, event loop and sales', () => {
    const queries = promql.map((target) => target.expr).join('\n');
    for (const needed of [
      /sum by \(route\) \(rate\(http_requests_total/,
      /http_requests_total\{[^}]*status_code=~"5\.\."/,
      /histogram_quantile\(0\.5, sum by \(le, route\)/,
      /histogram_quantile\(0\.99, sum by \(le, route\)/,
      /cache_lookups_total\{[^}]*result="hit"/,
      /db_pool_connections/,
      /nodejs_eventloop_lag_p99_seconds/,
      /increase\(cameras_sold_total/,
    ]) {
      expect(queries).toMatch(needed);
    }
    expect(logql.map((target) => target.expr)).toEqual([
      '{service="app", level=~"warn|error|fatal"}',
    ]);
  });

  it('only queries metrics the app really exports, always for its own job', async () => {
    const exported = await exportedMetricNames();
    for (const { panel, expr } of promql) {
      expect(selectedMetrics(expr).length, panel).toBeGreaterThan(0);
      for (const metric of selectedMetrics(expr)) expect(exported, panel).toContain(metric);
      expect(expr, panel).not.toMatch(/\{(?![^}]*job="shipshape")/);
    }
  });

  it.runIf(promtoolAvailable)('has only queries Prometheus can parse', () => {
    // promtool parses PromQL in rule files: each query becomes a recording rule.
    const rules = promql.map((target, i) => ({
      record: `dashboard:query_${i}`,
      expr: withGrafanaVariables(target.expr),
    }));
    const dir = mkdtempSync(join(tmpdir(), 'shipshape-dashboard-'));
    try {
      writeFileSync(
        join(dir, 'queries.yml'),
        stringify({ groups: [{ name: 'dashboard', rules }] }),
      );
      expect(promtool(['check', 'rules', 'queries.yml'], dir)).toEqual({
        status: 0,
        output: expect.stringContaining(`SUCCESS: ${rules.length} rules found`) as string,
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
