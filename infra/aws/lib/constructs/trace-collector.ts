import { RemovalPolicy, Size, Validations } from 'aws-cdk-lib';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';

/** AWS Distro for OpenTelemetry's collector, pinned: a new version is a reviewed change. */
export const COLLECTOR_IMAGE = 'public.ecr.aws/aws-observability/aws-otel-collector:v0.49.0';
/**
 * The image's own config for ECS: OTLP in on 4317 (gRPC) and 4318 (HTTP), traces out to
 * X-Ray, nothing else (aws-otel-collector's config/ecs/ecs-xray.yaml, copied to /etc/ecs/).
 */
export const COLLECTOR_CONFIG = '/etc/ecs/ecs-xray.yaml';
const OTLP_HTTP = 'http://localhost:4318';

export interface TraceCollectorProps {
  readonly definition: ecs.FargateTaskDefinition;
  /** The app container: it sends its spans to the collector. */
  readonly app: ecs.ContainerDefinition;
  /** The share of traces kept, 0 to 1. */
  readonly samplingRatio: number;
  /** `deployment.environment.name` of every span. */
  readonly environment: string;
  readonly logRetention: logs.RetentionDays;
}

/**
 * Traces to X-Ray: an ADOT collector beside the app in each task, receiving OTLP on
 * localhost. It is not essential: if it stops, ECS restarts it and the app keeps serving,
 * dropping the spans it cannot send meanwhile. X-Ray takes OTLP's W3C trace ids as they are.
 */
export class TraceCollector extends Construct {
  readonly container: ecs.ContainerDefinition;

  constructor(scope: Construct, id: string, props: TraceCollectorProps) {
    super(scope, id);
    const logGroup = new logs.LogGroup(this, 'Logs', {
      retention: props.logRetention,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    // It runs as a non-root user and listens above port 1024: no Linux capability needed.
    const linux = new ecs.LinuxParameters(this, 'Linux');
    linux.dropCapabilities(ecs.Capability.ALL);
    this.container = props.definition.addContainer('otel-collector', {
      image: ecs.ContainerImage.fromRegistry(COLLECTOR_IMAGE),
      command: [`--config=${COLLECTOR_CONFIG}`],
      essential: false,
      enableRestartPolicy: true,
      // The image's own non-root user (aoc), named here so the promise is visible.
      user: '4317:4317',
      linuxParameters: linux,
      // It keeps spans in memory only, so nothing needs to be writable.
      readonlyRootFilesystem: true,
      // A small share of the task: the app keeps the rest, and a collector that outgrows its
      // limit is restarted instead of squeezing the app.
      cpu: 64,
      memoryLimitMiB: 256,
      healthCheck: { command: ['CMD', '/healthcheck'] },
      logging: ecs.LogDrivers.awsLogs({
        logGroup,
        streamPrefix: 'otel',
        mode: ecs.AwsLogDriverMode.NON_BLOCKING,
        maxBufferSize: Size.mebibytes(4),
      }),
    });

    // The SDK's standard variables (src/config.ts reads them).
    const environment: Record<string, string> = {
      OTEL_SERVICE_NAME: 'shipshape',
      OTEL_EXPORTER_OTLP_ENDPOINT: OTLP_HTTP,
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf',
      OTEL_TRACES_SAMPLER: 'parentbased_traceidratio',
      OTEL_TRACES_SAMPLER_ARG: String(props.samplingRatio),
      OTEL_RESOURCE_ATTRIBUTES: `deployment.environment.name=${props.environment}`,
    };
    for (const [name, value] of Object.entries(environment)) props.app.addEnvironment(name, value);
    // Started first so the first requests' spans have somewhere to go; START, not HEALTHY,
    // so a collector that never gets healthy cannot keep the app from serving.
    props.app.addContainerDependencies({
      container: this.container,
      condition: ecs.ContainerDependencyCondition.START,
    });

    props.definition.addToTaskRolePolicy(
      new iam.PolicyStatement({
        actions: [
          'xray:PutTraceSegments',
          'xray:PutTelemetryRecords',
          'xray:GetSamplingRules',
          'xray:GetSamplingTargets',
          'xray:GetSamplingStatisticSummaries',
        ],
        resources: ['*'],
      }),
    );
    Validations.of(props.definition.taskRole).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        "X-Ray's trace and sampling actions have no resource to scope to (https://docs.aws.amazon.com/service-authorization/latest/reference/list_awsx-ray.html).",
    });
  }
}
