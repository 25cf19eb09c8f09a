import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as ecs from 'aws-cdk-lib/aws-ecs';
import type * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import type * as rds from 'aws-cdk-lib/aws-rds';
import { Construct } from 'constructs';
import type { AlarmTopics } from './alarm-topics';
import { runbookLink } from './runbook';

export interface CauseAlarmsProps {
  readonly targetGroups: readonly elbv2.ApplicationTargetGroup[];
  readonly service: ecs.FargateService;
  readonly database: rds.IDatabaseInstance;
  /** PostgreSQL's max_connections, as the parameter group sets it from config. */
  readonly databaseMaxConnections: number;
  readonly cacheNodeIds: readonly string[];
  readonly topics: AlarmTopics;
}

const MINUTE = Duration.minutes(1);
const GiB = 1024 ** 3;
const { GREATER_THAN_OR_EQUAL_TO_THRESHOLD, LESS_THAN_THRESHOLD } = cloudwatch.ComparisonOperator;

/**
 * Alarms on causes: a resource running out or a task failing its checks. Each opens a ticket:
 * worth a look in working hours, and if users are hurt already, an SLO alarm pages.
 */
export class CauseAlarms extends Construct {
  readonly alarms: cloudwatch.Alarm[] = [];
  readonly cpu: cloudwatch.Metric;
  readonly memory: cloudwatch.Metric;
  readonly dbCpu: cloudwatch.Metric;
  readonly dbStorage: cloudwatch.Metric;
  readonly dbConnections: cloudwatch.Metric;
  readonly cacheCpu: cloudwatch.Metric[];
  readonly evictions: cloudwatch.Metric[];

  constructor(
    scope: Construct,
    id: string,
    private readonly props: CauseAlarmsProps,
  ) {
    super(scope, id);
    for (const [index, group] of props.targetGroups.entries())
      this.alarm(
        `UnhealthyTargets${index === 0 ? '' : index + 1}`,
        group.metrics.unhealthyHostCount({ statistic: 'Maximum', period: MINUTE }),
        { threshold: 1, minutes: 5, operator: GREATER_THAN_OR_EQUAL_TO_THRESHOLD },
        'A task failed /readyz for 5 minutes',
      );
    this.cpu = props.service.metricCpuUtilization({ period: MINUTE });
    this.memory = props.service.metricMemoryUtilization({ period: MINUTE });
    this.alarm(
      'ServiceCpu',
      this.cpu,
      { threshold: 80, minutes: 10 },
      'Tasks above 80% CPU for 10 minutes: autoscaling is at its maximum or too slow',
    );
    this.alarm(
      'ServiceMemory',
      this.memory,
      { threshold: 80, minutes: 10 },
      'Tasks above 80% memory for 10 minutes',
    );

    const db = props.database;
    this.dbCpu = db.metricCPUUtilization({ period: MINUTE });
    this.dbStorage = db.metricFreeStorageSpace({ period: MINUTE });
    this.dbConnections = db.metricDatabaseConnections({ period: MINUTE });
    this.alarm(
      'DatabaseCpu',
      this.dbCpu,
      { threshold: 80, minutes: 10 },
      'RDS above 80% CPU for 10 minutes',
    );
    this.alarm(
      'DatabaseFreeStorage',
      this.dbStorage,
      { threshold: 2 * GiB, minutes: 5, operator: LESS_THAN_THRESHOLD },
      'RDS free storage below 2 GiB (storage autoscaling at its maximum?)',
    );
    this.alarm(
      'DatabaseConnections',
      this.dbConnections,
      { threshold: Math.floor(0.8 * props.databaseMaxConnections), minutes: 5 },
      'RDS connections above 80% of max_connections',
    );

    this.cacheCpu = props.cacheNodeIds.map((node) => cacheMetric('EngineCPUUtilization', node));
    this.evictions = props.cacheNodeIds.map((node) => cacheMetric('Evictions', node, 'Sum'));
    for (const [index, metric] of this.cacheCpu.entries())
      this.alarm(
        `CacheCpu${index + 1}`,
        metric,
        { threshold: 80, minutes: 10 },
        'Valkey engine CPU above 80% for 10 minutes',
      );
    for (const [index, metric] of this.evictions.entries())
      this.alarm(
        `CacheEvictions${index + 1}`,
        metric,
        { threshold: 0, minutes: 5 },
        'Valkey evicted keys: the node is too small for the cached pages',
      );
  }

  /** An alarm breaching every minute of its window, to the ticket topic. */
  private alarm(
    id: string,
    metric: cloudwatch.IMetric,
    rule: { threshold: number; minutes: number; operator?: cloudwatch.ComparisonOperator },
    what: string,
  ) {
    const alarm = new cloudwatch.Alarm(this, id, {
      metric,
      threshold: rule.threshold,
      evaluationPeriods: rule.minutes,
      datapointsToAlarm: rule.minutes,
      comparisonOperator: rule.operator ?? cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      // The runbook section is per kind: UnhealthyTargets2 and CacheCpu1 share theirs.
      alarmDescription: `${what}. ${runbookLink(id.replace(/\d+$/, ''))}`,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    this.props.topics.notify(alarm, 'ticket');
    this.alarms.push(alarm);
    return alarm;
  }
}

function cacheMetric(metricName: string, cacheClusterId: string, statistic = 'Average') {
  return new cloudwatch.Metric({
    namespace: 'AWS/ElastiCache',
    metricName,
    dimensionsMap: { CacheClusterId: cacheClusterId },
    statistic,
    period: MINUTE,
  });
}
