/**
 * The service level objectives: the one definition from which the Prometheus rules, the
 * PrometheusRule, the Grafana SLO dashboard, the CloudWatch alarms' inputs and the tables in
 * docs/slo.md are generated (`npm run slo`). Why each number is what it is: docs/slo.md.
 */

/** The days every objective is measured over. */
export const SLO_PERIOD_DAYS = 30;

/** A route as the service's metrics and log lines name it: method and route pattern. */
export interface Route {
  readonly method: 'GET' | 'POST' | 'PUT';
  readonly route: string;
}

/**
 * What counts as an event and which events are bad:
 * - `availability`: HTTP requests to the routes; bad = a 5xx (a shed 503 included; a 4xx or
 *   429 is the client's and counts as good).
 * - `latency`: the same requests that did not fail; bad = slower than the threshold.
 * - `event-delay`: counter changes reaching a replica's open streams; bad = later than the
 *   threshold after the change was made.
 */
export type Indicator =
  | { readonly kind: 'availability'; readonly routes: readonly Route[] }
  | {
      readonly kind: 'latency';
      readonly routes: readonly Route[];
      /** Must be a bucket bound of http_request_duration_seconds. */
      readonly thresholdSeconds: number;
    }
  | {
      readonly kind: 'event-delay';
      /** Must be a bucket bound of counter_event_delay_seconds. */
      readonly thresholdSeconds: number;
    };

export interface Objective {
  /** Unique, kebab-case: `<journey>-<sli>`; the `slo` label of every generated series. */
  readonly name: string;
  readonly journey: Journey;
  readonly sli: 'availability' | 'latency';
  /** Share of good events over SLO_PERIOD_DAYS, e.g. 0.999. */
  readonly target: number;
  readonly indicator: Indicator;
  /** One line for people: what a good event is. */
  readonly description: string;
}

export type Journey = 'read-items' | 'buy-a-camera' | 'birthdays' | 'live-updates';

export const JOURNEYS: Record<Journey, string> = {
  'read-items': 'Read items',
  'buy-a-camera': 'Buy a camera',
  birthdays: 'Save and read a birthday',
  'live-updates': 'Live updates',
};

const readItems: Route[] = [
  { method: 'GET', route: '/items' },
  { method: 'GET', route: '/items/:id' },
];
const buyACamera: Route[] = [
  { method: 'GET', route: '/counter' },
  { method: 'POST', route: '/decrement' },
];
const birthdays: Route[] = [
  { method: 'PUT', route: '/hello/:username' },
  { method: 'GET', route: '/hello/:username' },
];
const liveUpdates: Route[] = [{ method: 'GET', route: '/counter/events' }];

export const OBJECTIVES: readonly Objective[] = [
  {
    name: 'read-items-availability',
    journey: 'read-items',
    sli: 'availability',
    target: 0.999,
    indicator: { kind: 'availability', routes: readItems },
    description: 'GET /items and GET /items/:id answer without a 5xx',
  },
  {
    name: 'read-items-latency',
    journey: 'read-items',
    sli: 'latency',
    target: 0.99,
    indicator: { kind: 'latency', routes: readItems, thresholdSeconds: 0.1 },
    description: 'GET /items and GET /items/:id answer within 100 ms',
  },
  {
    name: 'buy-a-camera-availability',
    journey: 'buy-a-camera',
    sli: 'availability',
    target: 0.999,
    indicator: { kind: 'availability', routes: buyACamera },
    description: 'GET /counter and POST /decrement answer without a 5xx (409 sold out is good)',
  },
  {
    name: 'buy-a-camera-latency',
    journey: 'buy-a-camera',
    sli: 'latency',
    target: 0.99,
    indicator: { kind: 'latency', routes: buyACamera, thresholdSeconds: 0.25 },
    description: 'GET /counter and POST /decrement answer within 250 ms',
  },
  {
    name: 'birthdays-availability',
    journey: 'birthdays',
    sli: 'availability',
    target: 0.999,
    indicator: { kind: 'availability', routes: birthdays },
    description: 'PUT and GET /hello/:username answer without a 5xx',
  },
  {
    name: 'birthdays-latency',
    journey: 'birthdays',
    sli: 'latency',
    target: 0.99,
    indicator: { kind: 'latency', routes: birthdays, thresholdSeconds: 0.25 },
    description: 'PUT and GET /hello/:username answer within 250 ms',
  },
  {
    name: 'live-updates-availability',
    journey: 'live-updates',
    sli: 'availability',
    target: 0.999,
    indicator: { kind: 'availability', routes: liveUpdates },
    description: 'GET /counter/events opens its stream without a 5xx',
  },
  {
    name: 'live-updates-latency',
    journey: 'live-updates',
    sli: 'latency',
    target: 0.99,
    indicator: { kind: 'event-delay', thresholdSeconds: 1 },
    description: 'a committed counter change reaches the open streams of every replica within 1 s',
  },
];

/**
 * Multi-window, multi-burn-rate alerting (The SRE Workbook, "Alerting on SLOs", approach 6):
 * an alert fires while both its long and its short window burn faster than `burnRate` times
 * the rate that spends the budget exactly over the period. The short window makes it clear
 * soon after the burning stops.
 */
export interface BurnRateAlert {
  readonly severity: 'page' | 'ticket';
  readonly burnRate: number;
  readonly longWindow: Window;
  readonly shortWindow: Window;
}

/** Every window the rules record, as Prometheus durations. */
export type Window = '5m' | '30m' | '1h' | '2h' | '6h' | '1d';

export const BURN_RATE_ALERTS: readonly BurnRateAlert[] = [
  // 2 % of a 30-day budget in one hour.
  { severity: 'page', burnRate: 14.4, longWindow: '1h', shortWindow: '5m' },
  // 5 % in six hours.
  { severity: 'page', burnRate: 6, longWindow: '6h', shortWindow: '30m' },
  // 10 % in a day. (The workbook's other ticket, 1x over 3 days, needs a window longer than
  // CloudWatch's one-day alarm period; 3x over a day is the same on every target.)
  { severity: 'ticket', burnRate: 3, longWindow: '1d', shortWindow: '2h' },
];

/**
 * A journey must have failed at least this many times in the long window before it alerts:
 * on a route that sees a request a minute, a handful of bad requests is a large ratio but
 * not yet a pattern worth waking anyone for.
 */
export const MINIMUM_BAD_EVENTS = 10;

/** Seconds in a window. */
export function windowSeconds(window: Window): number {
  const value = Number.parseInt(window, 10);
  const unit = window.slice(-1);
  return value * { m: 60, h: 3600, d: 86_400 }[unit as 'm' | 'h' | 'd'];
}

/** The share of events allowed to be bad. */
export function errorBudget(objective: Objective): number {
  return 1 - objective.target;
}

/** The alert name of an objective's burn-rate alerts (one per severity). */
export function alertName(objective: Objective): string {
  const pascal = objective.name
    .split('-')
    .map((word) => word.charAt(0).toUpperCase() + word.slice(1))
    .join('');
  return `Shipshape${pascal}BudgetBurn`;
}
