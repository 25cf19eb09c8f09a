import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import { Construct } from 'constructs';
import { errorBudget } from '../../../../slo/objectives';
import { decimal } from '../../../../slo/prometheus';
import type { CauseAlarms } from './cause-alarms';
import { CANARY_EVERY, type JourneyCanary } from './journey-canary';
import type { RollbackAlarms } from './rollback-alarms';
import type { SliMetrics } from './sli-metrics';

export interface ServiceDashboardProps {
  readonly loadBalancer: elbv2.ApplicationLoadBalancer;
  readonly targetGroups: readonly elbv2.ApplicationTargetGroup[];
  readonly rollback: RollbackAlarms;
  readonly causes: CauseAlarms;
  readonly slis: readonly SliMetrics[];
  readonly canary: JourneyCanary;
  /** Every alarm that notifies someone. */
  readonly alarms: readonly cloudwatch.IAlarm[];
}

const MINUTE = Duration.minutes(1);

/**
 * One dashboard: the SLOs and the outside probe first (are users served?), then the load
 * balancer, the tasks, the database and the cache (why not?), and the alarms' states.
 */
export class ServiceDashboard extends Construct {
  constructor(scope: Construct, id: string, props: ServiceDashboardProps) {
    super(scope, id);
    const { rollback, causes } = props;
    const alb = props.loadBalancer.metrics;
    new cloudwatch.Dashboard(this, 'Dashboard', {
      defaultInterval: Duration.hours(3),
      widgets: [
        ...rowsOf([...props.slis.map(sloGraph), canaryGraph(props.canary)], 4),
        [
          graph('Requests and 5xx', [alb.requestCount({ period: MINUTE })], [rollback.errorRate]),
          graph('Latency (target response time)', [rollback.p50, rollback.p99]),
          graph(
            'Healthy and unhealthy targets',
            props.targetGroups.flatMap((group) => [
              group.metrics.healthyHostCount({ period: MINUTE }),
              group.metrics.unhealthyHostCount({ period: MINUTE }),
            ]),
          ),
        ],
        [
          graph('Service CPU and memory %', [causes.cpu, causes.memory]),
          graph('Database CPU % and connections', [causes.dbCpu], [causes.dbConnections]),
          graph('Database free storage (bytes)', [causes.dbStorage]),
        ],
        [
          graph('Cache engine CPU %', causes.cacheCpu),
          graph('Cache evictions', causes.evictions),
          new cloudwatch.AlarmStatusWidget({
            title: 'Alarms',
            alarms: [...props.alarms],
            width: 8,
            height: 6,
          }),
        ],
      ],
    });
  }
}

/**
 * An objective's share of bad events over 1 h and over 1 d against its error budget, over
 * the last week: the budget line is what a whole month may average.
 */
function sloGraph(sli: SliMetrics) {
  const budget = 100 * errorBudget(sli.objective);
  return new cloudwatch.GraphWidget({
    title: `${sli.objective.name}: % bad vs budget`,
    left: [sli.errorPercent('1h'), sli.errorPercent('1d')],
    leftAnnotations: [{ value: budget, label: `budget ${decimal(budget)}%`, color: '#d62728' }],
    start: '-P7D',
    width: 6,
    height: 6,
  });
}

function canaryGraph(canary: JourneyCanary) {
  return new cloudwatch.GraphWidget({
    title: 'Outside probe: birthday journey success %',
    left: [canary.canary.metricSuccessPercent({ period: CANARY_EVERY })],
    leftYAxis: { min: 0, max: 100 },
    width: 6,
    height: 6,
  });
}

function rowsOf(widgets: cloudwatch.IWidget[], perRow: number): cloudwatch.IWidget[][] {
  const rows: cloudwatch.IWidget[][] = [];
  for (let start = 0; start < widgets.length; start += perRow)
    rows.push(widgets.slice(start, start + perRow));
  return rows;
}

function graph(title: string, left: cloudwatch.IMetric[], right: cloudwatch.IMetric[] = []) {
  return new cloudwatch.GraphWidget({ title, left, right, width: 8, height: 6 });
}
