import { Duration, Names, Stack, Validations } from 'aws-cdk-lib';
import * as appscaling from 'aws-cdk-lib/aws-applicationautoscaling';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import type { EnvironmentConfig } from '../../config/types';
import { AppTaskDefinition, APP_PORT, type AppTaskDefinitionProps } from './app-task-definition';

export interface AppServiceProps extends Pick<
  AppTaskDefinitionProps,
  'repository' | 'imageTag' | 'imageDigest' | 'settings' | 'trustedProxies' | 'database' | 'cache'
> {
  readonly vpc: ec2.IVpc;
  readonly securityGroup: ec2.ISecurityGroup;
  readonly loadBalancer: elbv2.ApplicationLoadBalancer;
  readonly listener: elbv2.ApplicationListener;
  /** Tracing of the serving task; the migration task traces nothing. */
  readonly tracing: NonNullable<AppTaskDefinitionProps['tracing']>;
}

// ECS deregisters a task from the load balancer and waits this long *before* SIGTERM, so
// requests stop arriving first. Requests last well under a second; an SSE stream still open
// at the end is cut and the browser's EventSource reconnects to another task.
const DEREGISTRATION_DELAY = Duration.seconds(30);

/**
 * The Fargate service behind the load balancer: deploys that never lower capacity and roll
 * back by themselves, ECS Exec instead of bastions, autoscaling on CPU and on requests.
 */
export class AppService extends Construct {
  readonly cluster: ecs.Cluster;
  readonly service: ecs.FargateService;
  readonly targetGroups: elbv2.ApplicationTargetGroup[];
  readonly task: AppTaskDefinition;
  readonly migrate: AppTaskDefinition;

  constructor(scope: Construct, id: string, props: AppServiceProps) {
    super(scope, id);
    const { settings } = props;
    const execKey = new kms.Key(this, 'ExecSessionKey', {
      description: 'Encrypts ECS Exec sessions into shipshape tasks',
      enableKeyRotation: true,
    });
    const execLogs = new logs.LogGroup(this, 'ExecSessions', {
      retention: logs.RetentionDays.ONE_YEAR,
    });
    this.cluster = new ecs.Cluster(this, 'Cluster', {
      vpc: props.vpc,
      containerInsightsV2: ecs.ContainerInsights.ENHANCED,
      executeCommandConfiguration: {
        kmsKey: execKey,
        logging: ecs.ExecuteCommandLogging.OVERRIDE,
        logConfiguration: { cloudWatchLogGroup: execLogs },
      },
    });

    const taskSettings = {
      repository: props.repository,
      imageTag: props.imageTag,
      imageDigest: props.imageDigest,
      settings,
      trustedProxies: props.trustedProxies,
      database: props.database,
      cache: props.cache,
    };
    const adminToken = new secretsmanager.Secret(this, 'AdminToken', {
      description: 'Bearer token for PUT /reset (ADMIN_TOKEN)',
      generateSecretString: { passwordLength: 48, excludePunctuation: true },
    });
    Validations.of(adminToken).acknowledge({
      id: 'AwsSolutions-SMG4',
      reason:
        'Tasks read it at start; rotate it by hand followed by a redeploy (docs/operations.md).',
    });
    this.task = new AppTaskDefinition(this, 'Task', {
      ...taskSettings,
      role: 'serve',
      adminToken,
      tracing: props.tracing,
    });
    // Migrations run at start-up under an advisory lock; this is for a long one run first by hand.
    this.migrate = new AppTaskDefinition(this, 'Migrate', { ...taskSettings, role: 'migrate' });

    const stack = Stack.of(this);
    const execLogsId: unknown = stack.resolve(
      stack.getLogicalId(execLogs.node.defaultChild as logs.CfnLogGroup),
    );
    Validations.of(this.task.definition).acknowledge({
      id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:logs:${stack.region}:<AWS::AccountId>:log-group:<${String(execLogsId)}>:*]`,
      reason:
        'ECS Exec writes session logs as streams of its own log group; the wildcard is the stream name.',
    });

    const blueGreen = settings.deployment.strategy === 'blue-green';
    this.service = new ecs.FargateService(this, 'Service', {
      cluster: this.cluster,
      taskDefinition: this.task.definition,
      // No desired count: CloudFormation would reset an autoscaled service to it on every
      // deploy, lowering capacity under load. Autoscaling's minimum sets the floor instead.
      vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
      securityGroups: [props.securityGroup],
      assignPublicIp: false,
      // Fargate spreads a service's tasks over the subnets' AZs; rebalancing restores the
      // spread after an AZ comes back.
      availabilityZoneRebalancing: ecs.AvailabilityZoneRebalancing.ENABLED,
      minHealthyPercent: 100,
      maxHealthyPercent: 200,
      circuitBreaker: { enable: true, rollback: true },
      deploymentStrategy: blueGreen
        ? ecs.DeploymentStrategy.BLUE_GREEN
        : ecs.DeploymentStrategy.ROLLING,
      bakeTime:
        settings.deployment.strategy === 'blue-green' ? settings.deployment.bakeTime : undefined,
      // Migrations run before /readyz turns 200; the ALB waits for that, this only spares
      // the container health check from killing a task that is still migrating.
      healthCheckGracePeriod: Duration.seconds(60),
      enableExecuteCommand: true,
      propagateTags: ecs.PropagatedTagSource.SERVICE,
    });

    const targetGroup = (name: string) =>
      new elbv2.ApplicationTargetGroup(this, name, {
        vpc: props.vpc,
        targetType: elbv2.TargetType.IP,
        protocol: elbv2.ApplicationProtocol.HTTP,
        port: APP_PORT,
        deregistrationDelay: DEREGISTRATION_DELAY,
        healthCheck: {
          path: '/readyz',
          healthyHttpCodes: '200',
          interval: Duration.seconds(10),
          timeout: Duration.seconds(5),
          healthyThresholdCount: 2,
          unhealthyThresholdCount: 2,
        },
      });
    const blue = targetGroup('Blue');
    this.targetGroups = [blue];
    props.listener.addAction('Default', { action: elbv2.ListenerAction.forward([blue]) });
    if (blueGreen) {
      const greenGroup = targetGroup('Green');
      this.targetGroups.push(greenGroup);
      // ECS shifts production traffic by rewriting this rule's weights, then bakes.
      const production = new elbv2.ApplicationListenerRule(this, 'ProductionRule', {
        listener: props.listener,
        priority: 1,
        conditions: [elbv2.ListenerCondition.pathPatterns(['/*'])],
        action: elbv2.ListenerAction.weightedForward([
          { targetGroup: blue, weight: 100 },
          { targetGroup: greenGroup, weight: 0 },
        ]),
      });
      const green = new ecs.AlternateTarget('Green', {
        alternateTargetGroup: greenGroup,
        productionListener: ecs.ListenerRuleConfiguration.applicationListenerRule(production),
      });
      this.service
        .loadBalancerTarget({
          containerName: this.task.container.containerName,
          containerPort: APP_PORT,
          alternateTarget: green,
        })
        .attachToApplicationTargetGroup(blue);
      const greenRole = this.service.node.tryFindChild('GreenRole');
      if (greenRole)
        Validations.of(greenRole).acknowledge({
          id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/AmazonECSInfrastructureRolePolicyForLoadBalancers]',
          reason:
            'ECS blue/green rewrites the listener rule through the AWS-managed policy made for it.',
        });
    } else {
      this.service.attachToApplicationTargetGroup(blue);
    }

    this.scaleOnCpuAndRequests(
      settings,
      settings.requestsPerTaskPerMinute,
      props.loadBalancer.loadBalancerFullName,
    );
  }

  /**
   * Target tracking on CPU, and on requests per running task summed over both target
   * groups: blue/green moves traffic between them, so one group's count alone would read
   * zero after every other deploy and scale the service in under load.
   */
  private scaleOnCpuAndRequests(
    settings: EnvironmentConfig['service'],
    requestsPerTask: number,
    loadBalancerFullName: string,
  ) {
    const scaling = new appscaling.ScalableTarget(this, 'Scaling', {
      serviceNamespace: appscaling.ServiceNamespace.ECS,
      resourceId: `service/${this.cluster.clusterName}/${this.service.serviceName}`,
      scalableDimension: 'ecs:service:DesiredCount',
      minCapacity: settings.minTasks,
      maxCapacity: settings.maxTasks,
    });
    scaling.scaleToTrackMetric('Cpu', {
      predefinedMetric: appscaling.PredefinedMetric.ECS_SERVICE_AVERAGE_CPU_UTILIZATION,
      targetValue: 60,
      scaleOutCooldown: Duration.seconds(60),
      scaleInCooldown: Duration.minutes(5),
    });
    const requestQueries = this.targetGroups.map((group, index) => ({
      id: `requests${index}`,
      returnData: false,
      metricStat: {
        metric: {
          namespace: 'AWS/ApplicationELB',
          metricName: 'RequestCount',
          dimensions: [
            { name: 'LoadBalancer', value: loadBalancerFullName },
            { name: 'TargetGroup', value: group.targetGroupFullName },
          ],
        },
        stat: 'Sum',
      },
    }));
    new appscaling.CfnScalingPolicy(this, 'Requests', {
      policyName: `${Names.uniqueId(this)}RequestsPerTask`,
      policyType: 'TargetTrackingScaling',
      scalingTargetId: scaling.scalableTargetId,
      targetTrackingScalingPolicyConfiguration: {
        targetValue: requestsPerTask,
        scaleOutCooldown: 60,
        scaleInCooldown: 300,
        customizedMetricSpecification: {
          metrics: [
            ...requestQueries,
            {
              id: 'tasks',
              returnData: false,
              metricStat: {
                metric: {
                  namespace: 'ECS/ContainerInsights',
                  metricName: 'RunningTaskCount',
                  dimensions: [
                    { name: 'ClusterName', value: this.cluster.clusterName },
                    { name: 'ServiceName', value: this.service.serviceName },
                  ],
                },
                stat: 'Average',
              },
            },
            {
              id: 'perTask',
              label: 'requests per running task per minute',
              returnData: true,
              expression: `(${requestQueries.map((query) => `FILL(${query.id}, 0)`).join(' + ')}) / MAX([tasks, 1])`,
            },
          ],
        },
      },
    });
  }
}
