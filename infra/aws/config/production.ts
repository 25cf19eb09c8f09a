import { Duration } from 'aws-cdk-lib';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { EnvironmentConfig } from './types';

/** Production: three AZs, a standby database, a cache replica, blue/green deploys. */
export const production: EnvironmentConfig = {
  name: 'production',
  region: 'eu-west-1',
  availabilityZones: ['eu-west-1a', 'eu-west-1b', 'eu-west-1c'],
  natGateways: 3,
  domain: {
    domainName: 'shipshape.example.com',
    hostedZone: { id: 'Z0EXAMPLEPRODUCTION', name: 'shipshape.example.com' },
  },
  // Examples: replace them with your pager and your team's address (docs/operations.md).
  alarms: {
    page: { emails: ['oncall@shipshape.example.com'], httpsEndpoints: [] },
    ticket: { emails: ['team@shipshape.example.com'], httpsEndpoints: [] },
  },
  // X-Ray charges per trace kept; at production's traffic a small share still catches every
  // route's slow path. A caller's own sampling decision (traceparent) is followed.
  tracing: { samplingRatio: 0.05 },
  database: {
    instanceType: 'm7g.large',
    multiAz: true,
    deletionProtection: true,
    backupRetention: Duration.days(14),
    allocatedStorageGiB: 50,
    maxAllocatedStorageGiB: 500,
    maxConnections: 800,
    backupPlan: {
      retention: Duration.days(35),
      copy: {
        region: 'eu-central-1',
        vaultName: 'shipshape-production-copies',
        retention: Duration.days(35),
      },
    },
  },
  cache: { nodeType: 'cache.t4g.small', nodes: 2 },
  service: {
    cpu: 512,
    memoryMiB: 1024,
    minTasks: 3,
    maxTasks: 12,
    deployment: { strategy: 'blue-green', bakeTime: Duration.minutes(10) },
    // Every pool, doubled during a deploy, must fit max_connections: config/validate.ts sums it.
    databasePoolMax: 20,
    requestsPerMinutePerClient: 600,
    requestsPerTaskPerMinute: 3000,
    logRetention: RetentionDays.THREE_MONTHS,
  },
};
