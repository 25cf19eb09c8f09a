import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { OBJECTIVES } from '../../slo/objectives.js';
import { DEPLOY_ANNOTATION } from '../../slo/grafana.js';
import {
  dashboardFiles,
  queriesOf,
  readDashboard,
  recordedSeries,
  withGrafanaVariables,
} from '../helpers/grafana.js';
import { exportedMetricNames, promtool, promtoolAvailable } from '../helpers/prometheus.js';

const GRAFANA = new URL('../../deploy/compose/grafana/', import.meta.url);
const read = (path: string) => readFileSync(new URL(path, GRAFANA), 'utf8');

const dashboards = dashboardFiles().map((file) => ({ file, dashboard: readDashboard(file) }));
const promqlOf = (file: string) =>
  queriesOf(readDashboard(file)).filter((query) => query.datasource.type === 'prometheus');

/** Checks PromQL with promtool, which parses it in rule files: each query becomes a rule. */
function promtoolCheck(exprs: string[]) {
  const rules = exprs.map((expr, i) => ({ record: `dashboard:query_${i}`, expr }));
  const dir = mkdtempSync(join(tmpdir(), 'shipshape-dashboard-'));
  try {
    writeFileSync(join(dir, 'queries.yml'), stringify({ groups: [{ name: 'dashboard', rules }] }));
    expect(promtool(['check', 'rules', 'queries.yml'], dir)).toEqual({
      status: 0,
      output: expect.stringContaining(`SUCCESS: ${rules.length} rules found`) as string,
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('Grafana provisioning', () => {
  it('provides the Prometheus, Loki and Tempo of the compose stack under the uids panels use', () => {
    const { datasources } = parse(read('provisioning/datasources/datasources.yaml')) as {
      datasources: { uid: string; type: string; url: string }[];
    };
    expect(datasources.map(({ uid, type, url }) => ({ uid, type, url }))).toEqual([
      { uid: 'prometheus', type: 'prometheus', url: 'http://prometheus:9090' },
      { uid: 'loki', type: 'loki', url: 'http://loki:3100' },
      { uid: 'tempo', type: 'tempo', url: 'http://tempo:3200' },
    ]);
    const uids = new Set(datasources.map((source) => source.uid));
    for (const { dashboard } of dashboards)
      for (const query of queriesOf(dashboard))
        expect(uids, query.where).toContain(query.datasource.uid);
  });

  it('links traces both ways: log line and exemplar to trace, span to its log lines', () => {
    const { datasources } = parse(read('provisioning/datasources/datasources.yaml')) as {
      datasources: { uid: string; jsonData?: Record<string, unknown> }[];
    };
    const byUid = Object.fromEntries(datasources.map((source) => [source.uid, source.jsonData]));
    expect(byUid.prometheus?.exemplarTraceIdDestinations).toEqual([
      { name: 'trace_id', datasourceUid: 'tempo' },
    ]);
    const [field] = byUid.loki?.derivedFields as { matcherRegex: string; datasourceUid: string }[];
    expect(field?.datasourceUid).toBe('tempo');
    // A request line as the app writes it with tracing on (test/process/tracing.test.ts).
    const line = JSON.stringify({
      requestId: 'r',
      trace_id: 'a'.repeat(32),
      span_id: 'b'.repeat(16),
    });
    expect(new RegExp(field?.matcherRegex ?? '').exec(line)?.[1]).toBe('a'.repeat(32));
    expect(byUid.tempo?.tracesToLogsV2).toMatchObject({
      datasourceUid: 'loki',
      query: '{service="app"} |= "$${__trace.traceId}"',
    });
  });

  it('loads both dashboards, each under its own uid', () => {
    expect(dashboards.map(({ file, dashboard }) => [file, dashboard.uid])).toEqual([
      ['shipshape-slo.json', 'shipshape-slo'],
      ['shipshape.json', 'shipshape'],
    ]);
  });
});

describe.each(dashboards.map(({ file }) => file))('the dashboard %s', (file) => {
  const dashboard = readDashboard(file);
  const promql = promqlOf(file);
  let exported: Set<string>;
  beforeAll(async () => {
    exported = await exportedMetricNames();
  });

  it('reads only series the app exports, for its job, or the SLO rules record, for one SLO', () => {
    const recorded = recordedSeries();
    const slos = OBJECTIVES.map((objective) => objective.name);
    for (const { where, expr } of promql) {
      const selectors = [...expr.matchAll(/([a-zA-Z_:][a-zA-Z0-9_:]*)\{([^}]*)\}/g)];
      expect(selectors.length, where).toBeGreaterThan(0);
      for (const [, metric = '', matchers = ''] of selectors) {
        if (recorded.has(metric)) {
          expect(slos, `${where}: ${metric}`).toContain(/slo="([^"]+)"/.exec(matchers)?.[1]);
        } else {
          expect(exported, `${where}: ${metric}`).toContain(metric);
          expect(matchers, `${where}: ${metric}`).toMatch(/job="shipshape"/);
        }
      }
    }
  });

  it.runIf(promtoolAvailable)('has only queries Prometheus can parse', () => {
    promtoolCheck(promql.map((query) => withGrafanaVariables(query.expr)));
  });

  it('marks every deploy, the same way as the other dashboard', () => {
    expect(dashboard.annotations.list).toEqual([DEPLOY_ANNOTATION]);
  });
});

describe.runIf(promtoolAvailable)('the deploy markers', () => {
  it('show a revision for 5 minutes from its first replica, in each namespace, rollbacks too', () => {
    const build = (labels: string) => `shipshape_build_info{job="shipshape", ${labels}}`;
    const test = {
      rule_files: ['none.yml'],
      evaluation_interval: '1m',
      tests: [
        {
          interval: '1m',
          input_series: [
            // Compose: a deployed at 0, replaced by b at 10 min, rolled back to a at 20 min.
            { series: build('revision="a", version="1"'), values: '1x11 stale _x7 1x10' },
            { series: build('revision="b", version="2"'), values: '_x9 1x10 stale' },
            // One Prometheus, two namespaces: production gets c 10 min after staging.
            { series: build('namespace="staging", revision="c", version="3"'), values: '1x30' },
            {
              series: build('namespace="production", revision="c", version="3"'),
              values: '_x19 1x10',
            },
          ],
          promql_expr_test: [
            [8, []],
            [9, ['revision="b", version="2"']],
            [13, ['revision="b", version="2"']],
            [14, []],
            [19, ['namespace="production", revision="c", version="3"']],
            [
              23,
              ['namespace="production", revision="c", version="3"', 'revision="a", version="1"'],
            ],
            [24, ['revision="a", version="1"']],
            [25, []],
          ].map(([minute, marked]) => ({
            expr: DEPLOY_ANNOTATION.target.expr,
            eval_time: `${String(minute)}m`,
            exp_samples: (marked as string[]).map((labels) => ({
              labels: `{${labels}}`,
              value: 1,
            })),
          })),
        },
      ],
    };
    const dir = mkdtempSync(join(tmpdir(), 'shipshape-deploys-'));
    try {
      writeFileSync(join(dir, 'none.yml'), stringify({ groups: [] }));
      writeFileSync(join(dir, 'deploys.test.yml'), stringify(test));
      expect(promtool(['test', 'rules', 'deploys.test.yml'], dir)).toEqual({
        status: 0,
        output: expect.stringContaining('SUCCESS') as string,
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('the shipshape dashboard', () => {
  const queries = queriesOf(readDashboard('shipshape.json'));

  it('shows rate, errors, p50/p99 per route, cache, pool, event loop and sales', () => {
    const promql = queries.filter((query) => query.datasource.type === 'prometheus');
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
      expect(promql.map((query) => query.expr).join('\n')).toMatch(needed);
    }
    const logql = queries.filter((query) => query.datasource.type === 'loki');
    expect(logql.map((query) => query.expr)).toEqual([
      '{service="app", level=~"warn|error|fatal"}',
    ]);
  });
});
