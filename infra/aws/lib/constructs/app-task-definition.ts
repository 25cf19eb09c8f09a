import { Duration, RemovalPolicy, Size, Validations } from 'aws-cdk-lib';
import type * as ecr from 'aws-cdk-lib/aws-ecr';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import type { EnvironmentConfig } from '../../config/types';
import { DATABASE_NAME, DATABASE_USER } from './database';
import { TraceCollector } from './trace-collector';

export const APP_PORT = 3000;

export interface AppTaskDefinitionProps {
  /** `serve` runs the service; `migrate` applies pending migrations and exits. */
  readonly role: 'serve' | 'migrate';
  readonly repository: ecr.IRepository;
  /** The git SHA the image was built from: /status reports it. */
  readonly imageTag: string;
  /** The bytes to run, verified before the deploy; the tag when unset (synth, tests). */
  readonly imageDigest?: string | undefined;
  readonly settings: EnvironmentConfig['service'];
  /** The load balancer's addresses (CIDRs): the only X-Forwarded-For the app believes. */
  readonly trustedProxies: readonly string[];
  readonly database: {
    readonly host: string;
    readonly port: string;
    readonly secret: secretsmanager.ISecret;
  };
  readonly cache: {
    readonly host: string;
    readonly port: string;
    readonly authToken: secretsmanager.ISecret;
  };
  /** Only the serving task gets it: the migration never answers PUT /reset. */
  readonly adminToken?: secretsmanager.ISecret;
  /** Traces to X-Ray through a collector beside the app; unset, the task traces nothing. */
  readonly tracing?: { readonly samplingRatio: number; readonly environment: string };
}

// After SIGTERM the app stays ready-looking for SHUTDOWN_DRAIN_MS (ALB nodes may still be
// converging on the deregistration), then gives in-flight requests SHUTDOWN_TIMEOUT_MS.
// The stop timeout covers both plus a margin before ECS sends SIGKILL.
const DRAIN = Duration.seconds(5);
const IN_FLIGHT = Duration.seconds(10);
const STOP_TIMEOUT = Duration.seconds(DRAIN.toSeconds() + IN_FLIGHT.toSeconds() + 5);

/**
 * The task the image runs in: ARM64, non-root, read-only root filesystem with a scratch
 * /tmp, secrets injected by ECS from Secrets Manager, JSON logs to CloudWatch, and with
 * tracing on a collector beside the app.
 */
export class AppTaskDefinition extends Construct {
  readonly definition: ecs.FargateTaskDefinition;
  readonly container: ecs.ContainerDefinition;
  readonly logGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: AppTaskDefinitionProps) {
    super(scope, id);
    const { settings } = props;
    this.logGroup = new logs.LogGroup(this, 'Logs', {
      retention: settings.logRetention,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.definition = new ecs.FargateTaskDefinition(this, 'Definition', {
      cpu: settings.cpu,
      memoryLimitMiB: settings.memoryMiB,
      runtimePlatform: {
        cpuArchitecture: ecs.CpuArchitecture.ARM64,
        operatingSystemFamily: ecs.OperatingSystemFamily.LINUX,
      },
      volumes: Object.keys(scratchPaths(props.role)).map((name) => ({ name })),
    });
    const serving = props.role === 'serve';
    // A non-root process on ports above 1024 needs no Linux capability.
    const linux = new ecs.LinuxParameters(this, 'Linux');
    linux.dropCapabilities(ecs.Capability.ALL);
    this.container = this.definition.addContainer('app', {
      image: ecs.ContainerImage.fromEcrRepository(
        props.repository,
        props.imageDigest ?? props.imageTag,
      ),
      command: serving ? undefined : ['node', 'dist/migrate.js'],
      essential: true,
      user: '1000:1000',
      readonlyRootFilesystem: true,
      portMappings: serving ? [{ containerPort: APP_PORT, name: 'http' }] : [],
      environment: {
        NODE_ENV: 'production',
        HOST: '0.0.0.0',
        PORT: String(APP_PORT),
        LOG_LEVEL: 'info',
        // TLS to RDS, not CA-verified (the image has no RDS CA bundle yet): docs/decisions.md.
        DATABASE_URL: `postgres://${DATABASE_USER}@${props.database.host}:${props.database.port}/${DATABASE_NAME}?sslmode=no-verify`,
        DATABASE_POOL_MAX: String(settings.databasePoolMax),
        REDIS_URL: `rediss://${props.cache.host}:${props.cache.port}`,
        // The ALB is the one proxy in front: it appends the address it saw, and only an
        // address of its own subnets may say who the client is.
        TRUST_PROXY: props.trustedProxies.join(','),
        RATE_LIMIT_MAX: String(settings.requestsPerMinutePerClient),
        RATE_LIMIT_WINDOW_MS: '60000',
        SHUTDOWN_DRAIN_MS: String(DRAIN.toMilliseconds()),
        SHUTDOWN_TIMEOUT_MS: String(IN_FLIGHT.toMilliseconds()),
        GIT_REVISION: props.imageTag,
        // A long migration (an index built concurrently) gets 30 minutes a statement here,
        // against the 10 a serving task's start-up allows (docs/operations.md, Migrations).
        ...(serving ? {} : { MIGRATION_STATEMENT_TIMEOUT_MS: String(30 * 60_000) }),
      },
      secrets: {
        DATABASE_PASSWORD: ecs.Secret.fromSecretsManager(props.database.secret, 'password'),
        REDIS_PASSWORD: ecs.Secret.fromSecretsManager(props.cache.authToken),
        ...(props.adminToken
          ? { ADMIN_TOKEN: ecs.Secret.fromSecretsManager(props.adminToken) }
          : {}),
      },
      logging: ecs.LogDrivers.awsLogs({
        logGroup: this.logGroup,
        streamPrefix: props.role,
        // A slow CloudWatch must never block the event loop; a full buffer drops lines instead.
        mode: ecs.AwsLogDriverMode.NON_BLOCKING,
        maxBufferSize: Size.mebibytes(25),
      }),
      healthCheck: serving
        ? {
            command: ['CMD', 'node', 'dist/healthcheck.js'],
            interval: Duration.seconds(10),
            timeout: Duration.seconds(5),
            retries: 3,
            startPeriod: Duration.seconds(30),
          }
        : undefined,
      stopTimeout: STOP_TIMEOUT,
      linuxParameters: linux,
    });
    if (props.tracing)
      new TraceCollector(this, 'Tracing', {
        definition: this.definition,
        app: this.container,
        ...props.tracing,
        logRetention: settings.logRetention,
      });
    this.container.addMountPoints(
      ...Object.entries(scratchPaths(props.role)).map(([sourceVolume, containerPath]) => ({
        sourceVolume,
        containerPath,
        readOnly: false,
      })),
    );

    Validations.of(this.definition).acknowledge({
      id: 'AwsSolutions-ECS2',
      reason:
        'Plain values are addresses, ports and tuning only; every secret is injected from Secrets Manager (tested).',
    });
    Validations.of(this.definition).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        "ecr:GetAuthorizationToken (execution role) and ECS Exec's ssmmessages channel (task role) have no resource to scope to.",
    });
  }
}

/**
 * The only writable paths on the read-only root: /tmp, and for the serving task the three
 * the ECS Exec (SSM) agent writes to, which AWS documents as needing a writable root
 * (containers-roadmap#1359 has these mounts as the working alternative).
 */
function scratchPaths(role: AppTaskDefinitionProps['role']): Record<string, string> {
  const tmp = { tmp: '/tmp' };
  if (role === 'migrate') return tmp;
  return {
    ...tmp,
    'exec-agents': '/managed-agents',
    'exec-state': '/var/lib/amazon/ssm',
    'exec-logs': '/var/log/amazon/ssm',
  };
}
