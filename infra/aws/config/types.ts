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
    /**
     * PostgreSQL's max_connections, set in the parameter group (a static parameter: it takes
     * effect at the next reboot). At most the instance class's memory-derived default; the
     * connection budget and the connections alarm are computed from it.
     */
    readonly maxConnections: number;
    /** A daily AWS Backup snapshot with a copy in a second region; production must have one. */
    readonly backupPlan?: BackupPlanConfig;
    /** Brings up an instance restored from a backup, beside or instead of the current one. */
    readonly restore?: RestoreConfig;
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

/** AWS Backup for the database: what it keeps here and what it copies to another region. */
export interface BackupPlanConfig {
  /** How long each daily recovery point stays in this region's vault. */
  readonly retention: Duration;
  readonly copy: {
    /** Another region, so losing this one loses no backup. */
    readonly region: string;
    /** The vault the copy stack makes there; restores in that region start from it. */
    readonly vaultName: string;
    readonly retention: Duration;
  };
}

/**
 * Where a restored instance comes from (exactly one of a snapshot, or an instance at a point in
 * time) and how far the cutover to it has gone (docs/operations.md: restore and cut over).
 */
export interface RestoreConfig {
  /** A DB snapshot's identifier, or its ARN when it is shared from another account. */
  readonly fromSnapshot?: string;
  /** The instance whose automated backups and logs are replayed (point-in-time recovery). */
  readonly fromInstance?: string;
  /** With `fromInstance`: the UTC time to restore to, like 2026-01-31T23:45:00Z. */
  readonly restoreTime?: string;
  /** With `fromInstance`: the latest time it can be restored to (about five minutes ago). */
  readonly latestRestorableTime?: boolean;
  /** The instance the service connects to: the original until the restored one is verified. */
  readonly serve: 'original' | 'restored';
  /** Removes the original instance (a final snapshot is kept); only once the restored one serves. */
  readonly retireOriginal: boolean;
}

/** The GitHub repository whose workflows may deploy, through OIDC. */
export interface PipelineConfig {
  readonly githubOwner: string;
  readonly githubRepository: string;
  readonly region: string;
}
