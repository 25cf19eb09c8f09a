import {
  BURN_RATE_ALERTS,
  JOURNEYS,
  MINIMUM_BAD_EVENTS,
  OBJECTIVES,
  SLO_PERIOD_DAYS,
  alertName,
  errorBudget,
  windowSeconds,
  type Objective,
} from './objectives.js';
import { decimal } from './prometheus.js';

export const BEGIN = '<!-- Generated from slo/objectives.ts by `npm run slo`: from here -->';
export const END = '<!-- to here. -->';

const PERIOD_MINUTES = SLO_PERIOD_DAYS * 24 * 60;

function duration(minutes: number): string {
  if (minutes < 120) return `${decimal(Number(minutes.toFixed(1)))} min`;
  const hours = minutes / 60;
  return hours < 48
    ? `${decimal(Number(hours.toFixed(1)))} h`
    : `${decimal(Number((hours / 24).toFixed(1)))} days`;
}

function indicator(objective: Objective): string {
  const { indicator } = objective;
  switch (indicator.kind) {
    case 'availability':
      return 'not a 5xx';
    case 'latency':
      return `answered within ${decimal(indicator.thresholdSeconds * 1000)} ms`;
    case 'event-delay':
      return `on every replica's streams within ${decimal(indicator.thresholdSeconds * 1000)} ms`;
  }
}

function events(objective: Objective): string {
  const { indicator } = objective;
  if (indicator.kind === 'event-delay') return 'counter changes';
  return indicator.routes.map((route) => `\`${route.method} ${route.route}\``).join(', ');
}

/** The objectives and the alerts, as the Markdown tables of docs/slo.md. */
export function sloTables(): string {
  const objectives = OBJECTIVES.map((objective) => {
    const budget = errorBudget(objective);
    return `| ${JOURNEYS[objective.journey]} | ${objective.sli} | ${events(objective)} | ${indicator(objective)} | ${decimal(100 * objective.target)}% | ${duration(budget * PERIOD_MINUTES)} | ${decimal(budget * 1_000_000)} | [${alertName(objective)}](runbooks.md#${alertName(objective).toLowerCase()}) |`;
  });
  const alerts = BURN_RATE_ALERTS.map((alert) => {
    const share = (alert.burnRate * windowSeconds(alert.longWindow)) / (SLO_PERIOD_DAYS * 86_400);
    return `| ${alert.severity} | ${decimal(alert.burnRate)}× | ${alert.longWindow} | ${alert.shortWindow} | ${decimal(100 * share)}% | ${duration(PERIOD_MINUTES / alert.burnRate)} |`;
  });
  return `${BEGIN}

| journey | SLI | events | good when | target (${SLO_PERIOD_DAYS} days) | budget, as time all bad | budget per million events | alert |
| --- | --- | --- | --- | ---: | ---: | ---: | --- |
${objectives.join('\n')}

| severity | burn rate | long window | short window | budget spent when it fires | budget gone at that rate in |
| --- | ---: | --- | --- | ---: | ---: |
${alerts.join('\n')}

Each alert also needs ${MINIMUM_BAD_EVENTS} bad events in its long window.

${END}`;
}

/** docs/slo.md with its generated part written anew between the markers. */
export function withSloTables(document: string): string {
  const from = document.indexOf(BEGIN);
  const to = document.indexOf(END);
  if (from === -1 || to < from) throw new Error(`docs/slo.md needs the markers ${BEGIN} … ${END}`);
  return document.slice(0, from) + sloTables() + document.slice(to + END.length);
}
