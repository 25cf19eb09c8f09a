import * as logs from 'aws-cdk-lib/aws-logs';
import type { Indicator, Objective, Route } from '../../../slo/objectives';

/** An objective whose events are HTTP requests: the service's `request completed` log lines. */
export type RequestObjective = Objective & {
  readonly indicator: Extract<Indicator, { readonly routes: readonly Route[] }>;
};

/**
 * Whether CloudWatch can measure the objective from the request log lines. `event-delay`
 * objectives are measured by the app's own histogram, which nothing reads on AWS.
 */
export function isRequestObjective(objective: Objective): objective is RequestObjective {
  return 'routes' in objective.indicator;
}

/** The custom metric namespace of an environment's SLIs. */
export const sliNamespace = (environment: string) => `shipshape/${environment}/slo`;

/** The metric names of an objective's events and bad events. */
export const sliMetricNames = (objective: Objective) => ({
  events: `${objective.name}-events`,
  bad: `${objective.name}-bad-events`,
});

/** Milliseconds without binary noise (0.1 s is 100 ms, not 100.00000000000001). */
const milliseconds = (seconds: number) => Number((seconds * 1000).toPrecision(12));

// One line per request, written when it completes (an event stream's when it closes).
const REQUEST_LINE = logs.FilterPattern.stringValue('$.msg', '=', 'request completed');

const onRoute = ({ method, route }: Route) =>
  logs.FilterPattern.all(
    logs.FilterPattern.stringValue('$.method', '=', method),
    logs.FilterPattern.stringValue('$.route', '=', route),
  );

/**
 * The log lines that are the objective's events, and those that are its bad events, as
 * CloudWatch Logs JSON filter patterns: the same events as the Prometheus rules count
 * (slo/prometheus.ts), read from the log lines instead of the metrics.
 */
export function sliPatterns(objective: RequestObjective): {
  events: logs.JsonPattern;
  bad: logs.JsonPattern;
} {
  const { indicator } = objective;
  const requests = [REQUEST_LINE, logs.FilterPattern.any(...indicator.routes.map(onRoute))];
  switch (indicator.kind) {
    case 'availability':
      return {
        events: logs.FilterPattern.all(...requests),
        bad: logs.FilterPattern.all(
          ...requests,
          logs.FilterPattern.numberValue('$.statusCode', '>=', 500),
        ),
      };
    case 'latency': {
      // Failed requests are the availability objective's; here only the answered ones count.
      const answered = [...requests, logs.FilterPattern.numberValue('$.statusCode', '<', 500)];
      return {
        events: logs.FilterPattern.all(...answered),
        bad: logs.FilterPattern.all(
          ...answered,
          logs.FilterPattern.numberValue(
            '$.durationMs',
            '>',
            milliseconds(indicator.thresholdSeconds),
          ),
        ),
      };
    }
  }
}
