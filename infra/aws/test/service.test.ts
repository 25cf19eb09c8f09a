import { Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { COLLECTOR_IMAGE } from '../lib/constructs/trace-collector';
import { IMAGE_DIGEST, IMAGE_TAG, environments, resourcesOf, synthesize } from './synthesize';

const { stack, template } = synthesize();
const shared = template('shared');
const sharedStackName = stack('shared').stackName;
/** The shared stack's exports, by name: what `Fn::ImportValue` in another stack resolves to. */
const sharedExports = new Map(
  Object.values(
    (shared.toJSON() as { Outputs?: Record<string, { Value: unknown; Export?: { Name: string } }> })
      .Outputs ?? {},
  ).flatMap((output) => (output.Export ? [[output.Export.Name, output.Value] as const] : [])),
);
const repositories = resourcesOf(shared, 'AWS::ECR::Repository').map(([id]) => id);
const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

interface ContainerDefinition {
  Name: string;
  Image: unknown;
  Command?: string[];
  User: string;
  ReadonlyRootFilesystem: boolean;
  StopTimeout: number;
  Environment: { Name: string; Value: unknown }[];
  Secrets?: { Name: string; ValueFrom: unknown }[];
  MountPoints: { ContainerPath: string; SourceVolume: string; ReadOnly: boolean }[];
  LogConfiguration: { LogDriver: string; Options: Record<string, unknown> };
  LinuxParameters?: { Capabilities?: { Add?: string[]; Drop?: string[] } };
}

describe.each(environments)('$name service', (config) => {
  const service = template(`${config.name}-service`);
  const production = config.name === 'production';
  const taskDefinitions = resourcesOf(service, 'AWS::ECS::TaskDefinition');
  const containerOf = (command: string[] | undefined) => {
    const found = taskDefinitions
      .map(([, definition]) => (definition.ContainerDefinitions as ContainerDefinition[])[0])
      .find((container) => JSON.stringify(container?.Command) === JSON.stringify(command));
    if (found === undefined) throw new Error(`no container with command ${String(command)}`);
    return found;
  };
  const app = containerOf(undefined);
  const migrate = containerOf(['node', 'dist/migrate.js']);
  const environmentOf = (container: ContainerDefinition) =>
    Object.fromEntries(container.Environment.map(({ Name, Value }) => [Name, Value]));

  it('runs the image by the digest the deploy verified, and reports its git SHA', () => {
    for (const container of [app, migrate]) {
      const image = JSON.stringify(container.Image);
      expect(image).toContain(`@${IMAGE_DIGEST}"`);
      expect(image).not.toMatch(/:latest/);
    }
    expect(environmentOf(app).GIT_REVISION).toBe(IMAGE_TAG);
  });

  it('pulls its image from the one ECR repository of the shared stack, and has no repository of its own', () => {
    expect(repositories).toHaveLength(1);
    const [repository] = repositories;
    // <account>.dkr.ecr.<region>.<suffix>/<repository name>@<digest>, every part imported from shared.
    service.allResourcesProperties('AWS::ECS::TaskDefinition', {
      ContainerDefinitions: Match.arrayWith([
        Match.objectLike({
          Image: {
            'Fn::Join': [
              '',
              Match.arrayWith([
                '/',
                { 'Fn::ImportValue': Match.stringLikeRegexp(`^${escapeRegExp(sharedStackName)}:`) },
                `@${IMAGE_DIGEST}`,
              ]),
            ],
          },
        }),
      ]),
    });
    // The one other image is the trace collector's, pinned (tracing.test.ts).
    const others = taskDefinitions
      .flatMap(([, definition]) =>
        (definition.ContainerDefinitions as ContainerDefinition[]).slice(1),
      )
      .map((container) => container.Image);
    expect(others).toEqual([COLLECTOR_IMAGE]);
    for (const container of [app, migrate]) {
      const parts = (container.Image as { 'Fn::Join': [string, unknown[]] })['Fn::Join'][1];
      const name = parts[parts.indexOf('/') + 1] as { 'Fn::ImportValue': string };
      expect(sharedExports.get(name['Fn::ImportValue'])).toEqual({ Ref: repository });
      const imports = [...JSON.stringify(container.Image).matchAll(/"Fn::ImportValue":"([^"]+)"/g)];
      expect(imports.length).toBeGreaterThan(0);
      for (const [, exported] of imports)
        expect(JSON.stringify(sharedExports.get(exported ?? '')), exported).toContain(
          `"${repository}"`,
        );
    }
    for (const kind of ['network', 'data', 'service'])
      template(`${config.name}-${kind}`).resourceCountIs('AWS::ECR::Repository', 0);
  });

  it('runs ARM64 Fargate tasks as a non-root user on a read-only root filesystem', () => {
    service.hasResourceProperties('AWS::ECS::TaskDefinition', {
      RequiresCompatibilities: ['FARGATE'],
      RuntimePlatform: { CpuArchitecture: 'ARM64', OperatingSystemFamily: 'LINUX' },
      Cpu: String(config.service.cpu),
      Memory: String(config.service.memoryMiB),
    });
    for (const container of [app, migrate]) {
      expect(container.User).toBe('1000:1000');
      expect(container.ReadonlyRootFilesystem).toBe(true);
    }
    const writable = (container: ContainerDefinition) =>
      container.MountPoints.filter(({ ReadOnly }) => !ReadOnly).map(
        ({ ContainerPath }) => ContainerPath,
      );
    expect(writable(migrate)).toEqual(['/tmp']);
    // ECS Exec's agent writes these three; everything else stays read-only.
    expect(writable(app).sort()).toEqual(
      ['/managed-agents', '/tmp', '/var/lib/amazon/ssm', '/var/log/amazon/ssm'].sort(),
    );
  });

  it('injects every secret from Secrets Manager and none as a plain value', () => {
    expect(app.Secrets?.map((secret) => secret.Name).sort()).toEqual([
      'ADMIN_TOKEN',
      'DATABASE_PASSWORD',
      'REDIS_PASSWORD',
    ]);
    expect(migrate.Secrets?.map((secret) => secret.Name).sort()).toEqual([
      'DATABASE_PASSWORD',
      'REDIS_PASSWORD',
    ]);
    // A reference to a secret's ARN, resolved by ECS at task start: never the value.
    for (const secret of [...(app.Secrets ?? []), ...(migrate.Secrets ?? [])])
      expect(JSON.stringify(secret.ValueFrom)).toMatch(
        /"(Ref|Fn::ImportValue)":"[^"]*(Secret|AuthToken|AdminToken)/,
      );
    for (const container of [app, migrate]) {
      const names = container.Environment.map(({ Name }) => Name);
      expect(names.filter((name) => /PASSWORD|TOKEN|SECRET|KEY$/.test(name))).toEqual([]);
      // Addresses only: no user:password@ in a URL.
      for (const { Value } of container.Environment)
        expect(JSON.stringify(Value)).not.toMatch(/:\/\/[^@"/]*:[^@"/]*@/);
    }
  });

  it('points the app at RDS over TLS and the cache over TLS', () => {
    const environment = environmentOf(app);
    expect(JSON.stringify(environment.DATABASE_URL)).toMatch(
      /postgres:\/\/shipshape@.*DatabaseInstance.*sslmode=no-verify/,
    );
    expect(JSON.stringify(environment.REDIS_URL)).toMatch(/rediss:\/\/.*PrimaryEndPointAddress/);
    expect(environment).toMatchObject({
      NODE_ENV: 'production',
      HOST: '0.0.0.0',
      PORT: '3000',
    });
  });

  it("believes X-Forwarded-For only from the load balancer's own subnets", () => {
    const network = template(`${config.name}-network`);
    // The public subnets, where the load balancer's nodes run (network.test.ts).
    const publicCidrs = resourcesOf(network, 'AWS::EC2::Subnet')
      .filter(([, subnet]) => subnet.MapPublicIpOnLaunch === true)
      .map(([, subnet]) => subnet.CidrBlock);
    expect(publicCidrs).toHaveLength(config.availabilityZones.length);
    const trusted = environmentOf(app).TRUST_PROXY;
    expect(typeof trusted).toBe('string');
    expect(String(trusted).split(',').sort()).toEqual([...publicCidrs].sort());
    // Not the task subnets: a task (or anything else in the VPC) cannot name the client.
    const taskCidrs = resourcesOf(network, 'AWS::EC2::Subnet')
      .filter(([id]) => /TasksSubnet/.test(id))
      .map(([, subnet]) => subnet.CidrBlock);
    expect(taskCidrs.length).toBeGreaterThan(0);
    for (const cidr of taskCidrs) expect(String(trusted)).not.toContain(String(cidr));
  });

  it('drops every Linux capability in every container: the app, the migration, the collector', () => {
    const containers = taskDefinitions.flatMap(
      ([, definition]) => definition.ContainerDefinitions as ContainerDefinition[],
    );
    expect(containers.map(({ Name }) => Name).sort()).toEqual(['app', 'app', 'otel-collector']);
    for (const container of containers)
      expect(container.LinuxParameters?.Capabilities, container.Name).toEqual({ Drop: ['ALL'] });
  });

  it('generates an admin token long enough for the app to accept it in production', () => {
    const [token, ...others] = resourcesOf(service, 'AWS::SecretsManager::Secret').filter(([id]) =>
      /AdminToken/.test(id),
    );
    expect(others).toEqual([]);
    const generated = token?.[1].GenerateSecretString as { PasswordLength: number };
    // The app refuses to start in production without ADMIN_TOKEN of 16+ characters.
    expect(generated.PasswordLength).toBeGreaterThanOrEqual(16);
    expect(JSON.stringify(app.Secrets)).toMatch(/"Name":"ADMIN_TOKEN"/);
  });

  it('drains within the stop timeout, after the load balancer has deregistered the task', () => {
    const environment = environmentOf(app);
    const drainSeconds = Number(environment.SHUTDOWN_DRAIN_MS) / 1000;
    const inFlightSeconds = Number(environment.SHUTDOWN_TIMEOUT_MS) / 1000;
    expect(drainSeconds).toBe(5);
    expect(inFlightSeconds).toBe(10);
    expect(app.StopTimeout).toBe(20);
    expect(app.StopTimeout).toBeGreaterThan(drainSeconds + inFlightSeconds);
    for (const [, group] of resourcesOf(service, 'AWS::ElasticLoadBalancingV2::TargetGroup'))
      expect(group.TargetGroupAttributes).toContainEqual({
        Key: 'deregistration_delay.timeout_seconds',
        Value: '30',
      });
  });

  it('checks the container with Node itself and sends logs to CloudWatch without blocking', () => {
    service.hasResourceProperties('AWS::ECS::TaskDefinition', {
      ContainerDefinitions: Match.arrayWith([
        Match.objectLike({
          Name: 'app',
          HealthCheck: Match.objectLike({ Command: ['CMD', 'node', 'dist/healthcheck.js'] }),
        }),
      ]),
    });
    expect(app.LogConfiguration).toMatchObject({
      LogDriver: 'awslogs',
      Options: { mode: 'non-blocking', 'awslogs-stream-prefix': 'serve' },
    });
    service.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: production ? 90 : 30 });
  });

  it('serves from the private subnets of every AZ with no public address, with ECS Exec on', () => {
    service.hasResourceProperties('AWS::ECS::Service', {
      LaunchType: 'FARGATE',
      EnableExecuteCommand: true,
      AvailabilityZoneRebalancing: 'ENABLED',
      NetworkConfiguration: {
        AwsvpcConfiguration: Match.objectLike({
          AssignPublicIp: 'DISABLED',
          Subnets: config.availabilityZones.map(() =>
            Match.objectLike({ 'Fn::ImportValue': Match.stringLikeRegexp('TasksSubnet') }),
          ),
        }),
      },
    });
  });

  it('never lowers capacity in a deploy, and rolls back on the circuit breaker and on alarms', () => {
    service.hasResourceProperties('AWS::ECS::Service', {
      DesiredCount: Match.absent(),
      DeploymentConfiguration: Match.objectLike({
        MinimumHealthyPercent: 100,
        MaximumPercent: 200,
        DeploymentCircuitBreaker: { Enable: true, Rollback: true },
        Alarms: {
          Enable: true,
          Rollback: true,
          AlarmNames: [
            { Ref: Match.stringLikeRegexp('ErrorRate') },
            { Ref: Match.stringLikeRegexp('LatencyP99') },
          ],
        },
      }),
    });
  });

  if (production)
    it('deploys blue/green with a bake time, shifting traffic through the production listener rule', () => {
      service.hasResourceProperties('AWS::ECS::Service', {
        DeploymentConfiguration: Match.objectLike({
          Strategy: 'BLUE_GREEN',
          BakeTimeInMinutes: 10,
        }),
        LoadBalancers: [
          Match.objectLike({
            ContainerPort: 3000,
            TargetGroupArn: { Ref: Match.stringLikeRegexp('Blue') },
            AdvancedConfiguration: {
              AlternateTargetGroupArn: { Ref: Match.stringLikeRegexp('Green') },
              ProductionListenerRule: { Ref: Match.stringLikeRegexp('ProductionRule') },
              RoleArn: Match.anyValue(),
            },
          }),
        ],
      });
      service.hasResourceProperties('AWS::ElasticLoadBalancingV2::ListenerRule', {
        Actions: [
          {
            Type: 'forward',
            ForwardConfig: {
              TargetGroups: [
                { TargetGroupArn: { Ref: Match.stringLikeRegexp('Blue') }, Weight: 100 },
                { TargetGroupArn: { Ref: Match.stringLikeRegexp('Green') }, Weight: 0 },
              ],
            },
          },
        ],
      });
    });
  else
    it('deploys rolling', () => {
      service.hasResourceProperties('AWS::ECS::Service', {
        DeploymentConfiguration: Match.objectLike({ Strategy: 'ROLLING' }),
      });
      service.resourceCountIs('AWS::ElasticLoadBalancingV2::TargetGroup', 1);
    });

  it('sends only the tasks that pass /readyz traffic', () => {
    const groups = resourcesOf(service, 'AWS::ElasticLoadBalancingV2::TargetGroup');
    expect(groups).toHaveLength(production ? 2 : 1);
    for (const [, group] of groups)
      expect(group).toMatchObject({
        TargetType: 'ip',
        Port: 3000,
        HealthCheckPath: '/readyz',
        Matcher: { HttpCode: '200' },
        HealthyThresholdCount: 2,
        UnhealthyThresholdCount: 2,
      });
  });

  it(`scales between ${config.service.minTasks} and ${config.service.maxTasks} tasks on CPU and on requests per task`, () => {
    service.hasResourceProperties('AWS::ApplicationAutoScaling::ScalableTarget', {
      MinCapacity: config.service.minTasks,
      MaxCapacity: config.service.maxTasks,
      ScalableDimension: 'ecs:service:DesiredCount',
    });
    service.hasResourceProperties('AWS::ApplicationAutoScaling::ScalingPolicy', {
      TargetTrackingScalingPolicyConfiguration: Match.objectLike({
        PredefinedMetricSpecification: { PredefinedMetricType: 'ECSServiceAverageCPUUtilization' },
        TargetValue: 60,
      }),
    });
    const [requests] = resourcesOf(service, 'AWS::ApplicationAutoScaling::ScalingPolicy').filter(
      ([, policy]) => JSON.stringify(policy).includes('RequestCount'),
    );
    const metrics = JSON.stringify(requests?.[1]);
    // Summed over every target group, so blue/green traffic shifts do not read as zero load.
    expect(metrics.match(/"MetricName":"RequestCount"/g)).toHaveLength(production ? 2 : 1);
    expect(metrics).toContain('RunningTaskCount');
    expect(metrics).toContain(`"TargetValue":${config.service.requestsPerTaskPerMinute}`);
  });

  it("gives the task role nothing but the ECS Exec channel and the collector's X-Ray calls", () => {
    const policies = resourcesOf(service, 'AWS::IAM::Policy').filter(([id]) =>
      /AppTaskDefinitionTaskRole/.test(id),
    );
    const actions = policies.flatMap(([, policy]) =>
      (policy.PolicyDocument as { Statement: { Action: string | string[] }[] }).Statement.flatMap(
        ({ Action }) => Action,
      ),
    );
    expect(actions.length).toBeGreaterThan(0);
    for (const action of actions)
      expect(action).toMatch(
        /^(ssmmessages:|logs:(DescribeLogGroups|CreateLogStream|DescribeLogStreams|PutLogEvents)|kms:(Decrypt|GenerateDataKey)|xray:(PutTraceSegments|PutTelemetryRecords|GetSampling(Rules|Targets|StatisticSummaries))$)/,
      );
  });

  it('keeps a migration task definition for long migrations run by hand first', () => {
    expect(environmentOf(migrate).DATABASE_URL).toEqual(environmentOf(app).DATABASE_URL);
    service.hasOutput('MigrateTaskDefinitionArn', Match.anyValue());
    // Its statements may run longer than a serving task's start-up lets them.
    expect(Number(environmentOf(migrate).MIGRATION_STATEMENT_TIMEOUT_MS)).toBe(30 * 60_000);
    expect(environmentOf(app).MIGRATION_STATEMENT_TIMEOUT_MS).toBeUndefined();
  });

  it('runs in a cluster with Container Insights and audited, encrypted ECS Exec sessions', () => {
    service.hasResourceProperties('AWS::ECS::Cluster', {
      ClusterSettings: [{ Name: 'containerInsights', Value: 'enhanced' }],
      Configuration: {
        ExecuteCommandConfiguration: Match.objectLike({
          KmsKeyId: Match.anyValue(),
          Logging: 'OVERRIDE',
          LogConfiguration: Match.objectLike({ CloudWatchLogGroupName: Match.anyValue() }),
        }),
      },
    });
  });
});

describe('the image both environments run', () => {
  const imageOf = (name: string) =>
    resourcesOf(template(`${name}-service`), 'AWS::ECS::TaskDefinition').map(([id, definition]) => [
      id,
      (definition.ContainerDefinitions as { Image: unknown }[])[0]?.Image,
    ]);

  it('is the same image from the same shared repository in staging and production', () => {
    const staging = imageOf('staging');
    expect(staging).toHaveLength(2);
    expect(JSON.stringify(staging)).toContain('Fn::ImportValue');
    expect(imageOf('production')).toEqual(staging);
  });
});
