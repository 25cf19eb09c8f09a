/**
 * promtool unit tests of the SLO alerts (`promtool test rules slo-rules.test.yml`): the same
 * traffic stories are told to every objective, and each says when which alert must fire.
 * The stories are written in shares of bad events, so they hold for any target.
 */
import { OBJECTIVES, alertName, errorBudget, type Objective } from './objectives.js';
import { decimal, labelsOf, sloRuleGroups, type AlertingRule } from './prometheus.js';

/** A stretch of minutes with a steady traffic. */
interface Phase {
  readonly minutes: number;
  readonly eventsPerMinute: number;
  /** Bad events per event; a function of the budget, so a story means the same everywhere. */
  readonly badShare: (budget: number) => number;
}
type Severity = 'page' | 'ticket';
/** Minutes from the start, and the alerts firing then, where the objective's SLI says. */
interface Check {
  readonly at: number;
  readonly availability: readonly Severity[];
  readonly latency: readonly Severity[];
}
interface Story {
  readonly name: string;
  readonly phases: readonly Phase[];
  readonly checks: readonly Check[];
}

const HOUR = 60;
const DAY = 24 * HOUR;
const steady = (minutes: number, eventsPerMinute: number, share: number): Phase => ({
  minutes,
  eventsPerMinute,
  badShare: () => share,
});
// Enough that every share below is a whole number of events: promtool's series notation adds
// steps in floating point, and a count that ends a hair lower looks like a counter reset.
const BUSY = 10_000;
const healthy = (minutes: number, eventsPerMinute = BUSY) => steady(minutes, eventsPerMinute, 0);
const burning = (minutes: number, burnRate: number): Phase => ({
  minutes,
  eventsPerMinute: BUSY,
  badShare: (budget) => burnRate * budget,
});
const same = (at: number, ...firing: Severity[]): Check => ({
  at,
  availability: firing,
  latency: firing,
});

// Each story but the last starts with a day of healthy traffic, as a running service has:
// the long windows would otherwise see only the story.
export const STORIES: readonly Story[] = [
  {
    name: 'every request fails: a page within 10 minutes',
    phases: [healthy(DAY), steady(HOUR, BUSY, 1)],
    checks: [
      same(DAY - 5),
      // A 99.9% SLO has spent 7x its daily share by now, a 99% SLO not yet 3x: no ticket yet.
      { at: DAY + 10, availability: ['page', 'ticket'], latency: ['page'] },
      same(DAY + HOUR, 'page', 'ticket'),
    ],
  },
  {
    name: '10x the sustainable burn for hours: a page through the 6 h window, not the 1 h one',
    phases: [healthy(DAY), burning(9 * HOUR, 10)],
    checks: [
      same(DAY + 3 * HOUR),
      same(DAY + 4 * HOUR, 'page'),
      same(DAY + 9 * HOUR, 'page', 'ticket'),
    ],
  },
  {
    name: '4.5x the sustainable burn for a day: a ticket, never a page',
    phases: [healthy(DAY), burning(18 * HOUR, 4.5)],
    checks: [
      same(DAY + HOUR),
      same(DAY + 6 * HOUR),
      same(DAY + 12 * HOUR),
      same(DAY + 17 * HOUR, 'ticket'),
    ],
  },
  {
    name: 'a blip (10% of requests bad for 5 minutes) is inside the budget: nothing',
    phases: [healthy(DAY), steady(5, BUSY, 0.1), healthy(3 * HOUR)],
    checks: [DAY + 5, DAY + 10, DAY + HOUR, DAY + 3 * HOUR].map((at) => same(at)),
  },
  {
    name: 'a quiet journey: 9 requests in a row fail, at 1 a minute, under the minimum: nothing',
    phases: [healthy(DAY, 1), steady(9, 1, 1), healthy(HOUR, 1)],
    checks: [DAY + 5, DAY + 10, DAY + 30].map((at) => same(at)),
  },
  {
    name: 'the traffic stops: nothing',
    phases: [healthy(DAY), healthy(3 * HOUR, 0)],
    checks: [DAY + 10, DAY + HOUR, DAY + 3 * HOUR].map((at) => same(at)),
  },
  {
    name: 'no traffic at all: nothing',
    phases: [healthy(3 * HOUR, 0)],
    checks: [10, HOUR, 3 * HOUR].map((at) => same(at)),
  },
];

/** Cumulative good and bad counts, one sample a minute, from the phases. */
function counts(story: Story, budget: number): { good: number[]; bad: number[] } {
  const good = [0];
  const bad = [0];
  for (const phase of story.phases) {
    const badPerMinute = Number((phase.eventsPerMinute * phase.badShare(budget)).toPrecision(12));
    if (!Number.isInteger(badPerMinute))
      throw new Error(`${story.name}: ${badPerMinute} bad a minute`);
    for (let minute = 0; minute < phase.minutes; minute += 1) {
      good.push((good.at(-1) ?? 0) + phase.eventsPerMinute - badPerMinute);
      bad.push((bad.at(-1) ?? 0) + badPerMinute);
    }
  }
  return { good, bad };
}

/** promtool's expanding notation: runs of equal steps as `start+stepxN`. */
export function expand(values: readonly number[]): string {
  const parts: string[] = [];
  let start = 0;
  while (start < values.length) {
    const first = values[start] ?? 0;
    const step = (values[start + 1] ?? first) - first;
    let end = start + 1;
    while (end < values.length && near((values[end] ?? 0) - (values[end - 1] ?? 0), step)) end += 1;
    const n = end - start - 1;
    parts.push(n === 0 ? decimal(first) : `${decimal(first)}+${decimal(step)}x${n}`);
    start = end;
  }
  return parts.join(' ');
}
const near = (a: number, b: number) => Math.abs(a - b) < 1e-9;

/** The series an objective's SLI reads, carrying the story's good and bad events. */
function inputSeries(objective: Objective, good: number[], bad: number[]) {
  const series = (name: string, labels: Record<string, string>, values: number[]) => ({
    series: `${name}{${Object.entries({ job: 'shipshape', instance: 'app-1:3000', ...labels })
      .map(([key, value]) => `${key}="${value}"`)
      .join(', ')}}`,
    values: expand(values),
  });
  const total = good.map((value, i) => value + (bad[i] ?? 0));
  const zero = good.map(() => 0);
  const indicator = objective.indicator;
  if (indicator.kind === 'event-delay') {
    const le = decimal(indicator.thresholdSeconds);
    return [
      series('counter_event_delay_seconds_bucket', { le }, good),
      series('counter_event_delay_seconds_count', {}, total),
    ];
  }
  // Good events on the first route, bad ones on the last: the SLI must add routes up.
  const first = indicator.routes[0];
  const last = indicator.routes.at(-1);
  if (first === undefined || last === undefined) throw new Error(`${objective.name}: no routes`);
  const on = (route: typeof first, status: string) => ({
    method: route.method,
    route: route.route,
    status_code: status,
  });
  if (indicator.kind === 'availability')
    return [
      series('http_requests_total', on(first, '200'), good),
      series('http_requests_total', on(last, '500'), bad),
    ];
  const le = decimal(indicator.thresholdSeconds);
  const slowRoute = { ...on(last, '200') };
  return first === last
    ? [
        series('http_request_duration_seconds_bucket', { ...on(first, '200'), le }, good),
        series('http_request_duration_seconds_count', on(first, '200'), total),
      ]
    : [
        series('http_request_duration_seconds_bucket', { ...on(first, '200'), le }, good),
        series('http_request_duration_seconds_count', on(first, '200'), good),
        series('http_request_duration_seconds_bucket', { ...slowRoute, le }, zero),
        series('http_request_duration_seconds_count', slowRoute, bad),
      ];
}

/**
 * The whole promtool test file, as an object to write as YAML: one test per story, in which
 * every objective's series tell it at once (so none can see another's).
 */
export function sloRuleTests(ruleFile: string) {
  const alerts = sloRuleGroups()
    .flatMap((group) => group.rules)
    .filter((rule): rule is AlertingRule => 'alert' in rule);
  const expected = (objective: Objective, severity: Severity) => {
    const name = alertName(objective);
    const rule = alerts.find((alert) => alert.alert === name && alert.labels.severity === severity);
    if (rule === undefined) throw new Error(`no ${severity} alert for ${objective.name}`);
    return { exp_labels: { severity, ...labelsOf(objective) }, exp_annotations: rule.annotations };
  };
  const tests = STORIES.map((story) => ({
    name: story.name,
    interval: '1m',
    input_series: OBJECTIVES.flatMap((objective) => {
      const { good, bad } = counts(story, errorBudget(objective));
      return inputSeries(objective, good, bad);
    }),
    alert_rule_test: story.checks.flatMap((check) =>
      OBJECTIVES.map((objective) => ({
        eval_time: `${check.at}m`,
        alertname: alertName(objective),
        exp_alerts: check[objective.sli].map((severity) => expected(objective, severity)),
      })),
    ),
  }));
  // Rules every 5 minutes over samples every minute: the shortest window still holds five.
  return { rule_files: [ruleFile], evaluation_interval: '5m', tests };
}
