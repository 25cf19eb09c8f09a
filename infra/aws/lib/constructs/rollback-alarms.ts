import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import { Construct } from 'constructs';
import { runbookLink } from './runbook';

export interface RollbackAlarmsProps {
  readonly loadBalancer: elbv2.ApplicationLoadBalancer;
}

const MINUTE = Duration.minutes(1);

/**
 * The alarms a deployment watches, any of them firing rolls it back. They read the whole
 * load balancer, blue and green alike, minute by minute, so a bad release is caught within
 * minutes. They notify no one: the SLO burn-rate alarms tell people when users are hurt.
 */
export class RollbackAlarms extends Construct {
  readonly alarms: cloudwatch.Alarm[];
  /** 5xx from the targets and from the load balancer itself, as a % of requests. */
  readonly errorRate: cloudwatch.MathExpression;
  readonly p50: cloudwatch.Metric;
  readonly p99: cloudwatch.Metric;

  constructor(scope: Construct, id: string, props: RollbackAlarmsProps) {
    super(scope, id);
    const alb = props.loadBalancer.metrics;
    this.errorRate = new cloudwatch.MathExpression({
      label: '5xx % of requests',
      expression: 'IF(requests > 0, 100 * (FILL(target5xx, 0) + FILL(elb5xx, 0)) / requests, 0)',
      usingMetrics: {
        requests: alb.requestCount({ period: MINUTE }),
        target5xx: alb.httpCodeTarget(elbv2.HttpCodeTarget.TARGET_5XX_COUNT, { period: MINUTE }),
        elb5xx: alb.httpCodeElb(elbv2.HttpCodeElb.ELB_5XX_COUNT, { period: MINUTE }),
      },
      period: MINUTE,
    });
    this.p99 = alb.targetResponseTime({ statistic: 'p99', period: MINUTE });
    this.p50 = alb.targetResponseTime({ statistic: 'p50', period: MINUTE });
    this.alarms = [
      this.alarm(
        'ErrorRate',
        this.errorRate,
        1,
        'More than 1% of requests answered 5xx for 3 of 5 minutes',
      ),
      this.alarm(
        'LatencyP99',
        this.p99,
        1,
        'p99 target response time above 1 s for 3 of 5 minutes',
      ),
    ];
  }

  private alarm(id: string, metric: cloudwatch.IMetric, threshold: number, what: string) {
    return new cloudwatch.Alarm(this, id, {
      metric,
      threshold,
      evaluationPeriods: 5,
      datapointsToAlarm: 3,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      alarmDescription: `${what}. Rolls a running deployment back; notifies no one. ${runbookLink(id)}`,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
  }
}
