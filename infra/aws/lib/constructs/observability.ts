import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as ecs from 'aws-cdk-lib/aws-ecs';
import type * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type * as rds from 'aws-cdk-lib/aws-rds';
import { Construct } from 'constructs';
import type { EnvironmentConfig } from '../../config/types';
import { OBJECTIVES } from '../../../../slo/objectives';
import { isRequestObjective } from '../slo-log-patterns';
import { AlarmTopics } from './alarm-topics';
import { CauseAlarms } from './cause-alarms';
import { JourneyCanary } from './journey-canary';
import { RollbackAlarms } from './rollback-alarms';
import { ServiceDashboard } from './service-dashboard';
import { SliMetrics } from './sli-metrics';
import { SloAlarms } from './slo-alarms';

export interface ObservabilityProps {
  readonly environment: EnvironmentConfig['name'];
  readonly subscribers: EnvironmentConfig['alarms'];
  /** The serving task's log group: one JSON line per request. */
  readonly logGroup: logs.ILogGroup;
  /** The public HTTPS entrance the outside probe walks through. */
  readonly url: string;
  readonly loadBalancer: elbv2.ApplicationLoadBalancer;
  readonly targetGroups: readonly elbv2.ApplicationTargetGroup[];
  readonly service: ecs.FargateService;
  readonly database: rds.IDatabaseInstance;
  /** PostgreSQL's max_connections, as the parameter group sets it from config. */
  readonly databaseMaxConnections: number;
  readonly cacheNodeIds: readonly string[];
}

/**
 * What tells people the service is hurting and why: SLO burn-rate alarms per journey and an
 * outside probe page, alarms on causes open tickets, the rollback alarms guard deployments,
 * and one dashboard shows it all.
 */
export class Observability extends Construct {
  readonly topics: AlarmTopics;
  /** Alarms a deployment watches; any of them firing rolls it back. */
  readonly deploymentAlarms: cloudwatch.Alarm[];
  /** Every alarm that notifies someone. */
  readonly alarms: cloudwatch.AlarmBase[];

  constructor(scope: Construct, id: string, props: ObservabilityProps) {
    super(scope, id);
    this.topics = new AlarmTopics(this, 'Topics', props.subscribers);
    const rollback = new RollbackAlarms(this, 'Rollback', { loadBalancer: props.loadBalancer });
    this.deploymentAlarms = rollback.alarms;
    const causes = new CauseAlarms(this, 'Causes', { ...props, topics: this.topics });

    // The event-delay objective is measured by the app's own histogram, which nothing reads
    // on AWS (decision 26): only the objectives of request lines are measured here.
    const slis = OBJECTIVES.filter(isRequestObjective).map(
      (objective) =>
        new SliMetrics(this, `Sli-${objective.name}`, {
          objective,
          logGroup: props.logGroup,
          environment: props.environment,
        }),
    );
    const slos = slis.map(
      (sli) => new SloAlarms(this, `Slo-${sli.objective.name}`, { sli, topics: this.topics }),
    );
    const canary = new JourneyCanary(this, 'Probe', { baseUrl: props.url, topics: this.topics });

    this.alarms = [...slos.flatMap((slo) => slo.composites), canary.alarm, ...causes.alarms];
    new ServiceDashboard(this, 'Dashboard', {
      loadBalancer: props.loadBalancer,
      targetGroups: props.targetGroups,
      rollback,
      causes,
      slis,
      canary,
      alarms: this.alarms,
    });
  }
}
