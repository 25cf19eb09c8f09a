import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import type * as ecr from 'aws-cdk-lib/aws-ecr';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import type { Construct } from 'constructs';
import type { EnvironmentConfig } from '../../config/types';
import { AppService } from '../constructs/app-service';
import { Observability } from '../constructs/observability';
import { PublicEntrance } from '../constructs/public-entrance';
import type { TrafficRules } from '../constructs/traffic-rules';
import type { DataStack } from './data-stack';

export interface ServiceStackProps extends StackProps {
  readonly config: EnvironmentConfig;
  readonly vpc: ec2.IVpc;
  readonly traffic: TrafficRules;
  readonly data: DataStack;
  readonly repository: ecr.IRepository;
  readonly imageTag: string;
  readonly imageDigest?: string | undefined;
}

/** The stateless part: load balancer and firewall, the Fargate service, alarms, probe, dashboard. */
export class ServiceStack extends Stack {
  readonly entrance: PublicEntrance;
  readonly app: AppService;
  readonly observability: Observability;

  constructor(scope: Construct, id: string, props: ServiceStackProps) {
    super(scope, id, props);
    const { config, data } = props;
    this.entrance = new PublicEntrance(this, 'Entrance', {
      vpc: props.vpc,
      securityGroup: props.traffic.loadBalancer,
      domain: config.domain,
      appRequestsPerMinutePerClient: config.service.requestsPerMinutePerClient,
      deletionProtection: config.name === 'production',
    });
    const databaseSecret = data.database.instance.secret;
    if (databaseSecret === undefined) throw new Error('the database has no generated secret');
    this.app = new AppService(this, 'App', {
      vpc: props.vpc,
      securityGroup: props.traffic.tasks,
      loadBalancer: this.entrance.loadBalancer,
      listener: this.entrance.httpsListener,
      repository: props.repository,
      imageTag: props.imageTag,
      imageDigest: props.imageDigest,
      settings: config.service,
      trustedProxies: this.entrance.nodeCidrs,
      database: {
        host: data.database.instance.dbInstanceEndpointAddress,
        port: data.database.instance.dbInstanceEndpointPort,
        secret: databaseSecret,
      },
      cache: {
        host: data.cache.replicationGroup.attrPrimaryEndPointAddress,
        port: data.cache.replicationGroup.attrPrimaryEndPointPort,
        authToken: data.cache.authToken,
      },
      tracing: { samplingRatio: config.tracing.samplingRatio, environment: config.name },
    });
    this.observability = new Observability(this, 'Observability', {
      environment: config.name,
      subscribers: config.alarms,
      logGroup: this.app.task.logGroup,
      url: this.entrance.url,
      loadBalancer: this.entrance.loadBalancer,
      targetGroups: this.app.targetGroups,
      service: this.app.service,
      database: data.database.instance,
      databaseMaxConnections: config.database.maxConnections,
      cacheNodeIds: data.cache.nodeIds,
    });
    this.app.service.enableDeploymentAlarms(
      this.observability.deploymentAlarms.map((alarm) => alarm.alarmName),
      { behavior: ecs.AlarmBehavior.ROLLBACK_ON_ALARM },
    );
    // CDK notes (INFO) that alarm names by reference could form a cycle: these alarms read
    // the load balancer, not the service, so none does.

    const privateSubnets = props.vpc.selectSubnets({
      subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS,
    });
    new CfnOutput(this, 'Url', { value: this.entrance.url });
    new CfnOutput(this, 'ClusterName', { value: this.app.cluster.clusterName });
    new CfnOutput(this, 'ServiceName', { value: this.app.service.serviceName });
    new CfnOutput(this, 'MigrateTaskDefinitionArn', {
      value: this.app.migrate.definition.taskDefinitionArn,
    });
    new CfnOutput(this, 'TaskSubnetIds', { value: privateSubnets.subnetIds.join(',') });
    new CfnOutput(this, 'TaskSecurityGroupId', { value: props.traffic.tasks.securityGroupId });
    new CfnOutput(this, 'PageTopicArn', { value: this.observability.topics.page.topicArn });
    new CfnOutput(this, 'TicketTopicArn', { value: this.observability.topics.ticket.topicArn });
  }
}
