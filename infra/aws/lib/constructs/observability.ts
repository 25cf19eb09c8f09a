import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as ecs from 'aws-cdk-lib/aws-ecs';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import type * as rds from 'aws-cdk-lib/aws-rds';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';

export interface ObservabilityProps {
  readonly loadBalancer: elbv2.ApplicationLoadBalancer;
  readonly targetGroups: readonly elbv2.ApplicationTargetGroup[];
  readonly service: ecs.FargateService;
  readonly database: rds.DatabaseInstance;
  /** PostgreSQL's max_connections on the instance class. */
  readonly databaseMaxConnections: number;
  readonly cacheNodeIds: readonly string[];
  readonly alarmEmails: readonly string[];
}

const MINUTE = Duration.minutes(1);
const GiB = 1024 ** 3;

/**
 * Alarms to one SNS topic and a dashboard of the same metrics. The 5xx-rate and p99 alarms
 * also roll deployments back, so they read the whole load balancer: blue and green alike.
 */
export class Observability extends Construct {
  readonly topic: sns.Topic;
  /** Alarms a deployment watches; any of them firing rolls it back. */
  readonly deploymentAlarms: cloudwatch.Alarm[];
  readonly alarms: cloudwatch.Alarm[] = [];

  constructor(scope: Construct, id: string, props: ObservabilityProps) {
    super(scope, id);
    const key = new kms.Key(this, 'TopicKey', {
      description: 'Encrypts shipshape alarm notifications',
      enableKeyRotation: true,
    });
    // CloudWatch publishes to an encrypted topic only if the key lets it.
    key.grant(
      new iam.ServicePrincipal('cloudwatch.amazonaws.com'),
      'kms:Decrypt',
      'kms:GenerateDataKey*',
    );
    this.topic = new sns.Topic(this, 'Alarms', { masterKey: key, enforceSSL: true });
    for (const email of props.alarmEmails)
      this.topic.addSubscription(new subscriptions.EmailSubscription(email));

    const alb = props.loadBalancer.metrics;
    const errorRate = new cloudwatch.MathExpression({
      label: '5xx % of requests',
      expression: 'IF(requests > 0, 100 * (FILL(target5xx, 0) + FILL(elb5xx, 0)) / requests, 0)',
      usingMetrics: {
        requests: alb.requestCount({ period: MINUTE }),
        target5xx: alb.httpCodeTarget(elbv2.HttpCodeTarget.TARGET_5XX_COUNT, { period: MINUTE }),
        elb5xx: alb.httpCodeElb(elbv2.HttpCodeElb.ELB_5XX_COUNT, { period: MINUTE }),
      },
      period: MINUTE,
    });
    const p99 = alb.targetResponseTime({ statistic: 'p99', period: MINUTE });
    const p50 = alb.targetResponseTime({ statistic: 'p50', period: MINUTE });
    this.deploymentAlarms = [
      this.alarm(
        'ErrorRate',
        errorRate,
        1,
        'More than 1% of requests answered 5xx for 3 of 5 minutes',
        5,
        3,
      ),
      this.alarm(
        'LatencyP99',
        p99,
        1,
        'p99 target response time above 1 s for 3 of 5 minutes',
        5,
        3,
      ),
    ];

    for (const [index, group] of props.targetGroups.entries())
      this.alarm(
        `UnhealthyTargets${index === 0 ? '' : index + 1}`,
        group.metrics.unhealthyHostCount({ statistic: 'Maximum', period: MINUTE }),
        1,
        'A task failed /readyz for 5 minutes',
        5,
        5,
        cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      );
    const cpu = props.service.metricCpuUtilization({ period: MINUTE });
    const memory = props.service.metricMemoryUtilization({ period: MINUTE });
    this.alarm(
      'ServiceCpu',
      cpu,
      80,
      'Tasks above 80% CPU for 10 minutes: autoscaling is at its maximum or too slow',
      10,
      10,
    );
    this.alarm('ServiceMemory', memory, 80, 'Tasks above 80% memory for 10 minutes', 10, 10);

    const db = props.database;
    const dbCpu = db.metricCPUUtilization({ period: MINUTE });
    const dbStorage = db.metricFreeStorageSpace({ period: MINUTE });
    const dbConnections = db.metricDatabaseConnections({ period: MINUTE });
    this.alarm('DatabaseCpu', dbCpu, 80, 'RDS above 80% CPU for 10 minutes', 10, 10);
    this.alarm(
      'DatabaseFreeStorage',
      dbStorage,
      2 * GiB,
      'RDS free storage below 2 GiB (storage autoscaling at its maximum?)',
      5,
      5,
      cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
    );
    this.alarm(
      'DatabaseConnections',
      dbConnections,
      Math.floor(0.8 * props.databaseMaxConnections),
      'RDS connections above 80% of max_connections',
      5,
      5,
    );

    const cacheCpu = props.cacheNodeIds.map((node) =>
      this.cacheMetric('EngineCPUUtilization', node, 'Average'),
    );
    const evictions = props.cacheNodeIds.map((node) => this.cacheMetric('Evictions', node, 'Sum'));
    for (const [index, metric] of cacheCpu.entries())
      this.alarm(
        `CacheCpu${index + 1}`,
        metric,
        80,
        'Valkey engine CPU above 80% for 10 minutes',
        10,
        10,
      );
    for (const [index, metric] of evictions.entries())
      this.alarm(
        `CacheEvictions${index + 1}`,
        metric,
        0,
        'Valkey evicted keys: the node is too small for the cached pages',
        5,
        5,
      );

    new cloudwatch.Dashboard(this, 'Dashboard', {
      defaultInterval: Duration.hours(3),
      widgets: [
        [
          graph('Requests and 5xx', [alb.requestCount({ period: MINUTE })], [errorRate]),
          graph('Latency (target response time)', [p50, p99]),
          graph(
            'Healthy and unhealthy targets',
            props.targetGroups.flatMap((group) => [
              group.metrics.healthyHostCount({ period: MINUTE }),
              group.metrics.unhealthyHostCount({ period: MINUTE }),
            ]),
          ),
        ],
        [
          graph('Service CPU and memory %', [cpu, memory]),
          graph('Database CPU % and connections', [dbCpu], [dbConnections]),
          graph('Database free storage (bytes)', [dbStorage]),
        ],
        [
          graph('Cache engine CPU %', cacheCpu),
          graph('Cache evictions', evictions),
          new cloudwatch.AlarmStatusWidget({
            title: 'Alarms',
            alarms: this.alarms,
            width: 8,
            height: 6,
          }),
        ],
      ],
    });
  }

  private alarm(
    id: string,
    metric: cloudwatch.IMetric,
    threshold: number,
    description: string,
    evaluationPeriods: number,
    datapointsToAlarm: number,
    comparisonOperator = cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
  ): cloudwatch.Alarm {
    const alarm = new cloudwatch.Alarm(this, id, {
      metric,
      threshold,
      evaluationPeriods,
      datapointsToAlarm,
      comparisonOperator,
      alarmDescription: description,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    alarm.addAlarmAction(new actions.SnsAction(this.topic));
    alarm.addOkAction(new actions.SnsAction(this.topic));
    this.alarms.push(alarm);
    return alarm;
  }

  private cacheMetric(metricName: string, cacheClusterId: string, statistic: string) {
    return new cloudwatch.Metric({
      namespace: 'AWS/ElastiCache',
      metricName,
      dimensionsMap: { CacheClusterId: cacheClusterId },
      statistic,
      period: MINUTE,
    });
  }
}

function graph(title: string, left: cloudwatch.IMetric[], right: cloudwatch.IMetric[] = []) {
  return new cloudwatch.GraphWidget({ title, left, right, width: 8, height: 6 });
}
