import { Duration } from 'aws-cdk-lib';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { EnvironmentConfig } from './types';

/** Staging: the production design at the smallest size that still runs it faithfully. */
export const staging: EnvironmentConfig = {
  name: 'staging',
  region: 'eu-west-1',
  availabilityZones: ['eu-west-1a', 'eu-west-1b'],
  natGateways: 1,
  domain: {
    domainName: 'staging.shipshape.example.com',
    hostedZone: { id: 'Z0EXAMPLESTAGING', name: 'shipshape.example.com' },
  },
  // Staging pages no one; subscribe its topics (PageTopicArn, TicketTopicArn) to try them.
  alarms: { page: { emails: [], httpsEndpoints: [] }, ticket: { emails: [], httpsEndpoints: [] } },
  // Every trace: staging's traffic is small, and a failed check is read from its trace.
  tracing: { samplingRatio: 1 },
  database: {
    instanceType: 't4g.micro',
    multiAz: false,
    deletionProtection: false,
    backupRetention: Duration.days(3),
    allocatedStorageGiB: 20,
    maxAllocatedStorageGiB: 50,
    maxConnections: 80,
  },
  cache: { nodeType: 'cache.t4g.micro', nodes: 1 },
  service: {
    cpu: 512,
    memoryMiB: 1024,
    minTasks: 2,
    maxTasks: 4,
    deployment: { strategy: 'rolling' },
    // Small, so every pool, doubled during a deploy, fits what a t4g.micro's memory allows
    // (config/validate.ts sums it); staging's traffic never fills it.
    databasePoolMax: 6,
    requestsPerMinutePerClient: 600,
    requestsPerTaskPerMinute: 3000,
    logRetention: RetentionDays.ONE_MONTH,
  },
};
