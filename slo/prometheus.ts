import {
  BURN_RATE_ALERTS,
  JOURNEYS,
  MINIMUM_BAD_EVENTS,
  OBJECTIVES,
  SLO_PERIOD_DAYS,
  alertName,
  errorBudget,
  windowSeconds,
  type BurnRateAlert,
  type Objective,
  type Route,
  type Window,
} from './objectives.js';

export interface RecordingRule {
  record: string;
  expr: string;
  labels?: Record<string, string>;
}
export interface AlertingRule {
  alert: string;
  expr: string;
  for?: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}
export interface RuleGroup {
  name: string;
  interval?: string;
  rules: (RecordingRule | AlertingRule)[];
}

/** Where an alert's runbook section is, relative to the repository's root. */
export const RUNBOOKS = 'docs/runbooks.md';
export const runbookUrl = (alert: string) => `${RUNBOOKS}#${alert.toLowerCase()}`;

const WINDOWS: readonly Window[] = ['5m', '30m', '1h', '2h', '6h', '1d'];
const JOB = 'job="shipshape"';
// Kept when present (one Prometheus watching several namespaces), absent in compose.
const BY = 'sum by (namespace)';

/** Prometheus durations print as `1d`, but rule files read best with the period in days. */
const PERIOD = `${SLO_PERIOD_DAYS}d`;

/** Decimal text of a number without binary noise (1 - 0.999 = 0.0010000000000000009). */
export const decimal = (value: number) => String(Number(value.toPrecision(12)));

function selector(metric: string, route: Route, extra: string[] = []): string {
  return `${metric}{${[JOB, `method="${route.method}"`, `route="${route.route}"`, ...extra].join(', ')}}`;
}

/** The rate of several selectors added up: `or` keeps a route with no traffic yet out of it. */
function summedRate(selectors: string[], window: Window): string {
  return `${BY} (${selectors.map((s) => `rate(${s}[${window}])`).join(' or ')})`;
}

/** Per-second rates of all events and of bad events over a window, as PromQL. */
export function eventRates(objective: Objective, window: Window): { events: string; bad: string } {
  const indicator = objective.indicator;
  switch (indicator.kind) {
    case 'availability': {
      const events = summedRate(
        indicator.routes.map((route) => selector('http_requests_total', route)),
        window,
      );
      const failed = summedRate(
        indicator.routes.map((route) =>
          selector('http_requests_total', route, ['status_code=~"5.."']),
        ),
        window,
      );
      // No 5xx series yet means none failed: 0, not an absent SLI.
      return { events, bad: `${failed} or 0 * ${events}` };
    }
    case 'latency': {
      // Failed requests are the availability SLO's; here only the answered ones count.
      const answered = 'status_code!~"5.."';
      const events = summedRate(
        indicator.routes.map((route) =>
          selector('http_request_duration_seconds_count', route, [answered]),
        ),
        window,
      );
      const fast = summedRate(
        indicator.routes.map((route) =>
          selector('http_request_duration_seconds_bucket', route, [
            answered,
            `le="${decimal(indicator.thresholdSeconds)}"`,
          ]),
        ),
        window,
      );
      return { events, bad: `${events} - ${fast}` };
    }
    case 'event-delay': {
      const events = `${BY} (rate(counter_event_delay_seconds_count{${JOB}}[${window}]))`;
      const onTime = `${BY} (rate(counter_event_delay_seconds_bucket{${JOB}, le="${decimal(indicator.thresholdSeconds)}"}[${window}]))`;
      return { events, bad: `${events} - ${onTime}` };
    }
  }
}

export const labelsOf = (objective: Objective) => ({
  slo: objective.name,
  journey: objective.journey,
  sli: objective.sli,
});

const sloSelector = (objective: Objective) => `{slo="${objective.name}"}`;

/** The SLI of every objective over every alerting window, and over the whole period. */
function recordingRules(objective: Objective): RecordingRule[] {
  const labels = labelsOf(objective);
  const of = sloSelector(objective);
  const perWindow = WINDOWS.flatMap((window) => {
    const { events, bad } = eventRates(objective, window);
    return [
      { record: `slo:events:rate${window}`, expr: events, labels },
      { record: `slo:bad_events:rate${window}`, expr: bad, labels },
      {
        record: `slo:sli_error:ratio_rate${window}`,
        expr: `slo:bad_events:rate${window}${of} / slo:events:rate${window}${of}`,
        labels,
      },
    ];
  });
  return [
    ...perWindow,
    // Over the period from the 5-minute rates: a rate over 30 days of raw samples would read
    // every sample of the month on every evaluation. Summing rates weighs each by its traffic.
    {
      record: `slo:sli_error:ratio_rate${PERIOD}`,
      expr: `sum_over_time(slo:bad_events:rate5m${of}[${PERIOD}]) / sum_over_time(slo:events:rate5m${of}[${PERIOD}])`,
      labels,
    },
    {
      record: 'slo:error_budget_remaining:ratio',
      expr: `1 - slo:sli_error:ratio_rate${PERIOD}${of} / ${decimal(errorBudget(objective))}`,
      labels,
    },
    { record: 'slo:objective:ratio', expr: `vector(${decimal(objective.target)})`, labels },
  ];
}

function burnCondition(objective: Objective, alert: BurnRateAlert): string {
  const of = sloSelector(objective);
  const budget = decimal(errorBudget(objective));
  const burning = (window: Window) =>
    `slo:sli_error:ratio_rate${window}${of} / ${budget} > ${decimal(alert.burnRate)}`;
  const long = alert.longWindow;
  return [
    burning(long),
    `and ${burning(alert.shortWindow)}`,
    `and slo:bad_events:rate${long}${of} * ${windowSeconds(long)} >= ${MINIMUM_BAD_EVENTS}`,
  ].join('\n');
}

const budgetShare = (alert: BurnRateAlert) =>
  (alert.burnRate * windowSeconds(alert.longWindow)) / (SLO_PERIOD_DAYS * 86_400);

/** One alert per objective and severity; the conditions of a severity are alternatives. */
function alertingRules(objective: Objective): AlertingRule[] {
  const severities = [...new Set(BURN_RATE_ALERTS.map((alert) => alert.severity))];
  return severities.map((severity) => {
    const alerts = BURN_RATE_ALERTS.filter((alert) => alert.severity === severity);
    const conditions = alerts.map((alert) => burnCondition(objective, alert));
    const windows = alerts
      .map(
        (alert) =>
          `${decimal(alert.burnRate)}x over ${alert.longWindow} and ${alert.shortWindow}` +
          ` (${decimal(100 * budgetShare(alert))}% of the budget in ${alert.longWindow})`,
      )
      .join(', or ');
    return {
      alert: alertName(objective),
      expr:
        conditions.length === 1
          ? `${conditions[0]}\n`
          : `${conditions.map((condition) => `(\n${indent(condition)}\n)`).join('\nor\n')}\n`,
      labels: { severity, ...labelsOf(objective) },
      annotations: {
        summary: `${JOURNEYS[objective.journey]}: the ${objective.sli} error budget is burning (${severity})`,
        description:
          `SLO ${objective.name} (${decimal(100 * objective.target)}% over ${PERIOD}: ` +
          `${objective.description}) spends its error budget at ${windows}.`,
        runbook_url: runbookUrl(alertName(objective)),
      },
    };
  });
}

const indent = (text: string) =>
  text
    .split('\n')
    .map((line) => `  ${line}`)
    .join('\n');

/** Every SLO rule group: the SLIs, then the burn-rate alerts on them. */
export function sloRuleGroups(objectives: readonly Objective[] = OBJECTIVES): RuleGroup[] {
  return [
    { name: 'shipshape-slo-sli', rules: objectives.flatMap(recordingRules) },
    { name: 'shipshape-slo-alerts', rules: objectives.flatMap(alertingRules) },
  ];
}
