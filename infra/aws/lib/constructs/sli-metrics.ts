import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { errorBudget, windowSeconds, type Window } from '../../../../slo/objectives';
import { decimal } from '../../../../slo/prometheus';
import {
  sliMetricNames,
  sliNamespace,
  sliPatterns,
  type RequestObjective,
} from '../slo-log-patterns';

export interface SliMetricsProps {
  readonly objective: RequestObjective;
  /** The log group the service writes its request lines to. */
  readonly logGroup: logs.ILogGroup;
  readonly environment: string;
}

/**
 * One objective's SLI on CloudWatch: metric filters count its events and its bad events in
 * the request log lines, one count per line, 0 in a minute with lines but none that match.
 */
export class SliMetrics extends Construct {
  readonly objective: RequestObjective;
  private readonly events: logs.MetricFilter;
  private readonly bad: logs.MetricFilter;

  constructor(scope: Construct, id: string, props: SliMetricsProps) {
    super(scope, id);
    this.objective = props.objective;
    const patterns = sliPatterns(props.objective);
    const names = sliMetricNames(props.objective);
    const filter = (filterId: string, pattern: logs.IFilterPattern, metricName: string) =>
      new logs.MetricFilter(this, filterId, {
        logGroup: props.logGroup,
        filterPattern: pattern,
        metricNamespace: sliNamespace(props.environment),
        metricName,
        metricValue: '1',
        // A zero where lines came in but none matched: a window with traffic and no failure
        // reads 0 bad events, not no data.
        defaultValue: 0,
        unit: cloudwatch.Unit.COUNT,
      });
    this.events = filter('Events', patterns.events, names.events);
    this.bad = filter('BadEvents', patterns.bad, names.bad);
  }

  /** Bad events counted over the window. */
  badEvents(window: Window): cloudwatch.Metric {
    return this.bad.metric({ statistic: 'Sum', period: periodOf(window) });
  }

  /**
   * The share of bad events over the window divided by the error budget: 1 spends the budget
   * exactly over the SLO period. 0 without traffic, so a quiet journey never alarms.
   */
  burnRate(window: Window): cloudwatch.MathExpression {
    const budget = decimal(errorBudget(this.objective));
    return this.ratio(window, (bad, events) => `FILL(${bad}, 0) / ${events} / ${budget}`, {
      label: `burn rate over ${window}`,
    });
  }

  /** The share of bad events over the window, in percent, for people to read. */
  errorPercent(window: Window): cloudwatch.MathExpression {
    return this.ratio(window, (bad, events) => `100 * FILL(${bad}, 0) / ${events}`, {
      label: `% bad over ${window}`,
    });
  }

  private ratio(
    window: Window,
    of: (bad: string, events: string) => string,
    { label }: { label: string },
  ) {
    const period = periodOf(window);
    // Ids per window: a graph may show several windows, and ids must differ within it.
    const [bad, events] = [`bad${window}`, `events${window}`];
    return new cloudwatch.MathExpression({
      expression: `IF(${events} > 0, ${of(bad, events)}, 0)`,
      usingMetrics: {
        [events]: this.events.metric({ statistic: 'Sum', period }),
        [bad]: this.bad.metric({ statistic: 'Sum', period }),
      },
      period,
      label,
    });
  }
}

const periodOf = (window: Window) => Duration.seconds(windowSeconds(window));
