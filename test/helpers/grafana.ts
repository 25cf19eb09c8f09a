import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { PROMETHEUS_DIR } from './prometheus.js';

/** The dashboards compose's Grafana provisions (every JSON file there), and Kubernetes ships. */
export const DASHBOARDS_DIR = new URL('../../deploy/compose/grafana/dashboards/', import.meta.url);
export const dashboardFiles = () =>
  readdirSync(DASHBOARDS_DIR)
    .filter((file) => file.endsWith('.json'))
    .sort();

interface DataSource {
  type: string;
  uid: string;
}
export interface Target {
  expr: string;
  legendFormat?: string;
  datasource: DataSource;
}
export interface Panel {
  id: number;
  type: string;
  title: string;
  gridPos: { x: number; y: number; w: number; h: number };
  targets?: Target[];
  panels?: Panel[];
  fieldConfig?: {
    defaults: {
      unit?: string;
      thresholds?: { steps: { color: string; value: number | null }[] };
      custom?: { thresholdsStyle?: { mode: string } };
    };
  };
}
export interface Annotation {
  name: string;
  datasource: DataSource;
  target: { expr: string };
}
export interface Dashboard {
  uid: string;
  title: string;
  description: string;
  panels: Panel[];
  annotations: { list: Annotation[] };
  templating: { list: { name: string; query: string; allValue?: string }[] };
}

export const readDashboard = (file: string) =>
  JSON.parse(readFileSync(new URL(file, DASHBOARDS_DIR), 'utf8')) as Dashboard;

/** Every panel, those inside a collapsed row too. */
export const panelsOf = (dashboard: Dashboard): Panel[] =>
  dashboard.panels.flatMap((panel) => [panel, ...(panel.panels ?? [])]);

/** Every query the dashboard sends: its panels' and its annotations'. */
export function queriesOf(
  dashboard: Dashboard,
): { where: string; expr: string; datasource: DataSource }[] {
  return [
    ...panelsOf(dashboard).flatMap((panel) =>
      (panel.targets ?? []).map((target) => ({ where: panel.title, ...target })),
    ),
    ...dashboard.annotations.list.map((annotation) => ({
      where: `annotation ${annotation.name}`,
      expr: annotation.target.expr,
      datasource: annotation.datasource,
    })),
  ];
}

/** What Grafana puts in before a query reaches Prometheus (the namespace variable: All). */
export const withGrafanaVariables = (expr: string) =>
  expr
    .replaceAll('$__rate_interval', '1m')
    .replaceAll('$__range', '1h')
    .replaceAll('$namespace', '.*');

/** The series the SLO recording rules of the compose stack (and the PrometheusRule) write. */
export function recordedSeries(): Set<string> {
  const { groups } = parse(readFileSync(join(PROMETHEUS_DIR, 'slo-rules.yml'), 'utf8')) as {
    groups: { rules: { record?: string }[] }[];
  };
  return new Set(groups.flatMap((group) => group.rules.flatMap((rule) => rule.record ?? [])));
}
