import { Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { Construct } from 'constructs';
import {
  BURN_RATE_ALERTS,
  JOURNEYS,
  MINIMUM_BAD_EVENTS,
  SLO_PERIOD_DAYS,
  alertName,
  windowSeconds,
  type BurnRateAlert,
  type Window,
} from '../../../../slo/objectives';
import { decimal, runbookUrl } from '../../../../slo/prometheus';
import type { AlarmTopics } from './alarm-topics';
import type { SliMetrics } from './sli-metrics';

export interface SloAlarmsProps {
  readonly sli: SliMetrics;
  readonly topics: AlarmTopics;
}

/**
 * Multi-window, multi-burn-rate alerts on one objective, as slo/prometheus.ts writes them for
 * Prometheus: per entry of BURN_RATE_ALERTS a composite alarm, in ALARM while the long and
 * the short window both burn faster than the entry's rate and the long window has seen
 * MINIMUM_BAD_EVENTS bad events. Pages go to the page topic, tickets to the ticket topic; a
 * ticket holds off while a page of the same objective is firing, as Alertmanager inhibits it.
 */
export class SloAlarms extends Construct {
  readonly composites: cloudwatch.CompositeAlarm[] = [];

  constructor(scope: Construct, id: string, props: SloAlarmsProps) {
    super(scope, id);
    const pages = BURN_RATE_ALERTS.filter((alert) => alert.severity === 'page').map((alert) =>
      this.composite(props, alert),
    );
    const noPage = pages.length === 0 ? [] : [cloudwatch.AlarmRule.not(anyOf(pages))];
    const tickets = BURN_RATE_ALERTS.filter((alert) => alert.severity === 'ticket').map((alert) =>
      this.composite(props, alert, noPage),
    );
    this.composites.push(...pages, ...tickets);
  }

  private composite(
    { sli, topics }: SloAlarmsProps,
    alert: BurnRateAlert,
    extraRules: cloudwatch.IAlarmRule[] = [],
  ) {
    const { objective } = sli;
    const { longWindow: long, shortWindow: short, severity } = alert;
    const id = `${severity === 'page' ? 'Page' : 'Ticket'}${long}${short}`;
    const burning = (window: Window) =>
      this.windowAlarm(`${id}Burn${window}`, sli.burnRate(window), alert.burnRate, {
        description: `${objective.name}: over ${window}, bad events above ${decimal(alert.burnRate)}x the error budget's rate`,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      });
    const enough = this.windowAlarm(`${id}Enough${long}`, sli.badEvents(long), MINIMUM_BAD_EVENTS, {
      description: `${objective.name}: at least ${MINIMUM_BAD_EVENTS} bad events over ${long}`,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    });
    const share = (alert.burnRate * windowSeconds(long)) / (SLO_PERIOD_DAYS * 86_400);
    const composite = new cloudwatch.CompositeAlarm(this, id, {
      // Named after the objective, so the notification says which journey burns.
      compositeAlarmName: `${Stack.of(this).stackName}-${objective.name}-${severity}-${long}`,
      alarmDescription:
        `${JOURNEYS[objective.journey]}: the ${objective.sli} error budget is burning (${severity}). ` +
        `SLO ${objective.name} (${decimal(100 * objective.target)}% over ${SLO_PERIOD_DAYS}d: ` +
        `${objective.description}) spends its error budget at ${decimal(alert.burnRate)}x over ` +
        `${long} and ${short} (${decimal(100 * share)}% of the budget in ${long}). ` +
        `Runbook: ${runbookUrl(alertName(objective))}`,
      alarmRule: cloudwatch.AlarmRule.allOf(
        ...[burning(long), burning(short), enough].map((alarm) =>
          cloudwatch.AlarmRule.fromAlarm(alarm, cloudwatch.AlarmState.ALARM),
        ),
        ...extraRules,
      ),
    });
    topics.notify(composite, severity);
    return composite;
  }

  /**
   * An alarm on one datapoint whose period is the window. CloudWatch allows any multiple of
   * 60 s as a period, up to a day for a total evaluation under an hour's period and up to
   * 7 days above (https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutMetricAlarm.html).
   * Its default, sliding evaluation window moves with every evaluation rather than waiting
   * for the clock's hour or day to end: a 1-hour alarm reads 13:07–14:07, then 13:08–14:08
   * (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/alarm-evaluation-window.html).
   * So the datapoint is the sum over the last 1 h, 6 h or 1 d, re-read each minute, like
   * Prometheus's rate over the same window. No data (no traffic) is not breaching.
   */
  private windowAlarm(
    id: string,
    metric: cloudwatch.IMetric,
    threshold: number,
    options: { description: string; comparisonOperator: cloudwatch.ComparisonOperator },
  ) {
    const alarm = new cloudwatch.Alarm(this, id, {
      metric,
      threshold,
      evaluationPeriods: 1,
      datapointsToAlarm: 1,
      comparisonOperator: options.comparisonOperator,
      alarmDescription: `${options.description} (part of a burn-rate composite; notifies no one itself)`,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    (alarm.node.defaultChild as cloudwatch.CfnAlarm).evaluationWindow = { slidingWindow: {} };
    return alarm;
  }
}

function anyOf(alarms: cloudwatch.IAlarm[]): cloudwatch.IAlarmRule {
  return cloudwatch.AlarmRule.anyOf(
    ...alarms.map((alarm) => cloudwatch.AlarmRule.fromAlarm(alarm, cloudwatch.AlarmState.ALARM)),
  );
}
