/**
 * The Grafana SLO dashboard, built from the objectives. It reads only the series the SLO
 * recording rules write (slo/prometheus.ts), so it shows exactly what the alerts evaluate.
 */
import {
  BURN_RATE_ALERTS,
  JOURNEYS,
  MINIMUM_BAD_EVENTS,
  OBJECTIVES,
  SLO_PERIOD_DAYS,
  errorBudget,
  type BurnRateAlert,
  type Journey,
  type Objective,
  type Window,
} from './objectives.js';
import { decimal } from './prometheus.js';

const DATASOURCE = { type: 'prometheus', uid: 'prometheus' };
const WIDTH = 24;

/**
 * Marks every deploy: a revision that was not running five minutes earlier (in that
 * namespace, so a promotion to production of the SHA staging runs is marked too). Grafana
 * draws a region while the query is non-empty, from the first replica of the new revision.
 * The offset must stay longer than the step Grafana picks for a long range (at most 11,000
 * points: 5 minutes lasts up to 38 days), or a deploy could fall between two steps.
 */
const BUILDS = 'count by (namespace, revision, version) (shipshape_build_info{job="shipshape"})';
export const DEPLOY_ANNOTATION = {
  name: 'Deploys',
  datasource: DATASOURCE,
  enable: true,
  iconColor: 'purple',
  target: {
    refId: 'Anno',
    expr: `${BUILDS} unless ${BUILDS.replace('}', '} offset 5m')}`,
    interval: '1m',
  },
  titleFormat: 'Deploy',
  textFormat: 'version {{version}}, revision {{revision}}',
  tagKeys: 'namespace',
  useValueForTime: false,
};

// Kubernetes: one Prometheus may watch staging and production. Compose's series have no
// namespace, which `=~".*"` (All) matches too.
const NAMESPACE_VARIABLE = {
  name: 'namespace',
  label: 'Namespace',
  type: 'query',
  datasource: DATASOURCE,
  query: 'label_values(slo:objective:ratio, namespace)',
  definition: 'label_values(slo:objective:ratio, namespace)',
  refresh: 2,
  includeAll: true,
  allValue: '.*',
  multi: false,
  current: { text: 'All', value: '$__all' },
  sort: 1,
};

interface GridPos {
  x: number;
  y: number;
  w: number;
  h: number;
}
interface Query {
  expr: string;
  legendFormat: string;
}

const of = (objective: Objective) => `{slo="${objective.name}", namespace=~"$namespace"}`;
const percent = (ratio: number) => `${decimal(100 * ratio)}%`;
const steps = (...values: [string, number | null][]) => ({
  mode: 'absolute',
  steps: values.map(([color, value]) => ({ color, value })),
});

function panel(
  type: 'stat' | 'timeseries',
  title: string,
  description: string,
  gridPos: GridPos,
  queries: Query[],
  defaults: object,
  options: object,
) {
  return {
    type,
    title,
    description,
    datasource: DATASOURCE,
    gridPos,
    targets: queries.map((query, i) => ({
      refId: String.fromCharCode(65 + i),
      datasource: DATASOURCE,
      ...query,
    })),
    fieldConfig: { defaults, overrides: [] },
    options,
  };
}

const stat = (
  title: string,
  description: string,
  gridPos: GridPos,
  query: Query,
  defaults: object,
) =>
  panel('stat', title, description, gridPos, [query], defaults, {
    reduceOptions: { calcs: ['lastNotNull'] },
    colorMode: 'value',
    graphMode: 'none',
  });

const timeseries = (
  title: string,
  description: string,
  gridPos: GridPos,
  queries: Query[],
  defaults: object,
) =>
  panel('timeseries', title, description, gridPos, queries, defaults, {
    legend: { displayMode: 'list', placement: 'bottom' },
    tooltip: { mode: 'multi' },
  });

const SLI_NAMES = { availability: 'Availability', latency: 'Latency' };

/** The panels of one objective, from height `y` down; 16 rows high. */
function objectivePanels(objective: Objective, y: number) {
  const name = SLI_NAMES[objective.sli];
  const target = percent(objective.target);
  const budget = decimal(errorBudget(objective));
  const period = `${SLO_PERIOD_DAYS} days`;
  const http = objective.indicator.kind !== 'event-delay';
  const width = Math.floor(WIDTH / BURN_RATE_ALERTS.length);
  const burnRate = (alert: BurnRateAlert, i: number) => {
    const windows: Window[] = [alert.longWindow, alert.shortWindow];
    return timeseries(
      `${name}: burn rate over ${windows.join(' and ')} (${alert.severity} above ${decimal(alert.burnRate)}x)`,
      `How many times faster than "exactly the budget in ${period}" the budget is being spent. ` +
        `The ${alert.severity} fires while both lines are above the threshold (and the ` +
        `${alert.longWindow} saw at least ${MINIMUM_BAD_EVENTS} bad events).`,
      { x: width * i, y: y + 8, w: width, h: 8 },
      windows.map((window) => ({
        expr: `slo:sli_error:ratio_rate${window}${of(objective)} / ${budget}`,
        legendFormat: `${window} {{namespace}}`,
      })),
      {
        unit: 'suffix:x',
        min: 0,
        thresholds: steps(['green', null], ['red', alert.burnRate]),
        custom: { thresholdsStyle: { mode: 'dashed' } },
      },
    );
  };
  return [
    stat(
      `${name}: SLI over ${period} (target ${target})`,
      `${objective.description}: the share of good events over ${period}, red below ${target}.`,
      { x: 0, y, w: 4, h: 4 },
      {
        expr: `1 - slo:sli_error:ratio_rate${SLO_PERIOD_DAYS}d${of(objective)}`,
        legendFormat: '{{namespace}}',
      },
      {
        unit: 'percentunit',
        decimals: 3,
        thresholds: steps(['red', null], ['green', objective.target]),
      },
    ),
    stat(
      `${name}: error budget left`,
      `The share of the ${period} error budget (${percent(errorBudget(objective))} of events) not yet spent; negative once overspent.`,
      { x: 0, y: y + 4, w: 4, h: 4 },
      { expr: `slo:error_budget_remaining:ratio${of(objective)}`, legendFormat: '{{namespace}}' },
      { unit: 'percentunit', decimals: 1, thresholds: steps(['red', null], ['green', 0]) },
    ),
    timeseries(
      `${name}: error budget left over ${period}`,
      `The budget left over the ${period} before each point: a drop is an incident, a step up is an old one leaving the window.`,
      { x: 4, y, w: 10, h: 8 },
      [
        {
          expr: `slo:error_budget_remaining:ratio${of(objective)}`,
          legendFormat: 'left {{namespace}}',
        },
      ],
      {
        unit: 'percentunit',
        thresholds: steps(['red', null], ['green', 0]),
        custom: { thresholdsStyle: { mode: 'dashed' } },
      },
    ),
    timeseries(
      `${name}: ${http ? 'requests' : 'deliveries'} the SLI counts`,
      `All and bad events per second over 5 minutes: ${objective.description}.`,
      { x: 14, y, w: 10, h: 8 },
      [
        { expr: `slo:events:rate5m${of(objective)}`, legendFormat: 'all {{namespace}}' },
        { expr: `slo:bad_events:rate5m${of(objective)}`, legendFormat: 'bad {{namespace}}' },
      ],
      { unit: http ? 'reqps' : 'eps', min: 0 },
    ),
    ...BURN_RATE_ALERTS.map(burnRate),
  ];
}

/** The dashboard "shipshape SLOs": one row per journey, its objectives in it. */
export function sloDashboard(objectives: readonly Objective[] = OBJECTIVES) {
  const journeys = [...new Set(objectives.map((objective) => objective.journey))];
  let y = 0;
  const panels = journeys.flatMap((journey: Journey) => {
    const row = {
      type: 'row',
      title: JOURNEYS[journey],
      collapsed: false,
      gridPos: { x: 0, y: y++, w: WIDTH, h: 1 },
      panels: [],
    };
    const inRow = objectives
      .filter((objective) => objective.journey === journey)
      .flatMap((objective) => {
        const built = objectivePanels(objective, y);
        y += 16;
        return built;
      });
    return [row, ...inRow];
  });
  return {
    uid: 'shipshape-slo',
    title: 'shipshape SLOs',
    description:
      'Generated from slo/objectives.ts by `npm run slo`: edit that, not this. Each SLO of each ' +
      `journey: its SLI and error budget over ${SLO_PERIOD_DAYS} days, the burn rates its alerts ` +
      'watch, and the traffic it is measured on; deploys are marked.',
    tags: ['shipshape', 'slo'],
    timezone: 'browser',
    editable: false,
    graphTooltip: 1,
    refresh: '1m',
    time: { from: 'now-7d', to: 'now' },
    schemaVersion: 41,
    version: 1,
    templating: { list: [NAMESPACE_VARIABLE] },
    annotations: { list: [DEPLOY_ANNOTATION] },
    panels: panels.map((built, i) => ({ id: i + 1, ...built })),
  };
}
