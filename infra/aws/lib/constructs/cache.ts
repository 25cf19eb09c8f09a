import { Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as elasticache from 'aws-cdk-lib/aws-elasticache';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import type { EnvironmentConfig } from '../../config/types';
import { REDIS_PORT } from './traffic-rules';

export interface CacheProps {
  readonly vpc: ec2.IVpc;
  readonly securityGroup: ec2.ISecurityGroup;
  readonly settings: EnvironmentConfig['cache'];
}

/**
 * ElastiCache for Valkey (Redis-compatible, open source, cheaper per node): TLS in transit,
 * encrypted at rest, an AUTH token from Secrets Manager, and a replica in another AZ with
 * automatic failover when there are two or more nodes. The app treats it as a cache only.
 */
export class Cache extends Construct {
  readonly replicationGroup: elasticache.CfnReplicationGroup;
  readonly authToken: secretsmanager.Secret;
  /** The node ids CloudWatch reports per-node metrics under. */
  readonly nodeIds: string[];

  constructor(scope: Construct, id: string, props: CacheProps) {
    super(scope, id);
    const { settings } = props;
    const replicated = settings.nodes > 1;
    this.authToken = new secretsmanager.Secret(this, 'AuthToken', {
      description: 'AUTH token of the shipshape cache (REDIS_PASSWORD)',
      // ElastiCache accepts 16–128 printable characters; letters and digits need no escaping.
      generateSecretString: { passwordLength: 64, excludePunctuation: true },
    });
    const subnets = new elasticache.CfnSubnetGroup(this, 'Subnets', {
      description: 'shipshape cache: isolated subnets',
      subnetIds: props.vpc.selectSubnets({ subnetType: ec2.SubnetType.PRIVATE_ISOLATED }).subnetIds,
    });
    const slowLog = new logs.LogGroup(this, 'SlowLog', { retention: logs.RetentionDays.ONE_MONTH });

    this.replicationGroup = new elasticache.CfnReplicationGroup(this, 'ReplicationGroup', {
      replicationGroupDescription: 'shipshape GET /items page cache',
      engine: 'valkey',
      engineVersion: '8.1',
      cacheNodeType: settings.nodeType,
      numCacheClusters: settings.nodes,
      automaticFailoverEnabled: replicated,
      multiAzEnabled: replicated,
      port: REDIS_PORT,
      cacheSubnetGroupName: subnets.ref,
      securityGroupIds: [props.securityGroup.securityGroupId],
      transitEncryptionEnabled: true,
      transitEncryptionMode: 'required',
      atRestEncryptionEnabled: true,
      // A {{resolve:secretsmanager:…}} reference: CloudFormation reads it, the template never holds it.
      authToken: this.authToken.secretValue.unsafeUnwrap(),
      autoMinorVersionUpgrade: true,
      preferredMaintenanceWindow: 'sun:04:30-sun:05:30',
      // The cache is rebuilt from PostgreSQL on demand; a snapshot would restore stale pages.
      snapshotRetentionLimit: 0,
      logDeliveryConfigurations: [
        {
          destinationType: 'cloudwatch-logs',
          destinationDetails: { cloudWatchLogsDetails: { logGroup: slowLog.logGroupName } },
          logFormat: 'json',
          logType: 'slow-log',
        },
      ],
    });
    this.replicationGroup.addResourceDependency(subnets);
    Validations.of(this.authToken).acknowledge({
      id: 'AwsSolutions-SMG4',
      reason:
        'Rotated by hand with the ROTATE/SET auth-token strategy so both tokens work meanwhile (docs/operations.md).',
    });
    if (!replicated)
      Validations.of(this.replicationGroup).acknowledge({
        id: 'AwsSolutions-AEC4',
        reason:
          'Staging runs one cache node; the app fails open to PostgreSQL without it. Production has a replica.',
      });
    this.nodeIds = Array.from(
      { length: settings.nodes },
      (_, index) => `${this.replicationGroup.ref}-${String(index + 1).padStart(3, '0')}`,
    );
  }
}
