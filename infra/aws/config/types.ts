import type { Duration } from 'aws-cdk-lib';
import type { RetentionDays } from 'aws-cdk-lib/aws-logs';

/** How HTTPS reaches the load balancer: an existing certificate, or one made in a Route 53 zone. */
export type DomainConfig =
  | { readonly certificateArn: string; readonly domainName?: undefined }
  | {
      readonly domainName: string;
      /** The public hosted zone that validates the certificate and holds the alias record. */
      readonly hostedZone: { readonly id: string; readonly name: string };
      readonly certificateArn?: undefined;
    };

/** The subscriptions of one alarm topic. */
export interface Subscribers {
  /** Each confirms once, from the e-mail SNS sends, before anything reaches it. */
  readonly emails: readonly string[];
  /** HTTPS endpoints that take SNS notifications, e.g. an incident tool's CloudWatch integration URL. */
  readonly httpsEndpoints: readonly string[];
}

/** Everything that differs between staging and production; the code is the same. */
export interface EnvironmentConfig {
  readonly name: 'staging' | 'production';
  readonly region: string;
  /** Named explicitly so synth needs no AWS lookup; production spans 3, staging may use 2. */
  readonly availabilityZones: readonly string[];
  readonly natGateways: number;
  readonly domain: DomainConfig;
  /**
   * Who hears about alarms: `page` (wakes someone now) and `ticket` (working hours), each its
   * own SNS topic. Production must have someone on `page`; synth fails without.
   */
  readonly alarms: { readonly page: Subscribers; readonly ticket: Subscribers };
  /** Traces go to X-Ray through a collector in each task; this share of them is kept. */
  readonly tracing: { readonly samplingRatio: number };
  readonly database: {
    readonly instanceType: string;
    readonly multiAz: boolean;
    readonly deletionProtection: boolean;
    readonly backupRetention: Duration;
    readonly allocatedStorageGiB: number;
    readonly maxAllocatedStorageGiB: number;
    /** PostgreSQL's max_connections on this instance class, for the connections alarm. */
    readonly maxConnections: number;
  };
  readonly cache: {
    readonly nodeType: string;
    /** 1 is a single node; 2 or more adds replicas in other AZs with automatic failover. */
    readonly nodes: number;
  };
  readonly service: {
    readonly cpu: number;
    readonly memoryMiB: number;
    readonly minTasks: number;
    readonly maxTasks: number;
    /** Rolling in staging; ECS built-in blue/green with a bake time in production. */
    readonly deployment:
      | { readonly strategy: 'rolling' }
      | { readonly strategy: 'blue-green'; readonly bakeTime: Duration };
    readonly databasePoolMax: number;
    /** The app's per-client limit (RATE_LIMIT_MAX per minute); WAF blocks floods at twice it. */
    readonly requestsPerMinutePerClient: number;
    /** What request-count autoscaling aims at, per running task. */
    readonly requestsPerTaskPerMinute: number;
    readonly logRetention: RetentionDays;
  };
}

/** The GitHub repository whose workflows may deploy, through OIDC. */
export interface PipelineConfig {
  readonly githubOwner: string;
  readonly githubRepository: string;
  readonly region: string;
}
