import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import type { Construct } from 'constructs';
import type { EnvironmentConfig } from '../../config/types';
import { Cache } from '../constructs/cache';
import { Database } from '../constructs/database';
import { DatabaseBackup } from '../constructs/database-backup';
import type { TrafficRules } from '../constructs/traffic-rules';

export interface DataStackProps extends StackProps {
  readonly config: EnvironmentConfig;
  readonly vpc: ec2.IVpc;
  readonly traffic: TrafficRules;
}

/** The stateful part, apart from the service so a service change can never replace it. */
export class DataStack extends Stack {
  readonly database: Database;
  readonly cache: Cache;
  readonly backup: DatabaseBackup | undefined;

  constructor(scope: Construct, id: string, props: DataStackProps) {
    super(scope, id, { ...props, terminationProtection: true });
    this.database = new Database(this, 'Database', {
      vpc: props.vpc,
      securityGroup: props.traffic.database,
      settings: props.config.database,
    });
    const { backupPlan } = props.config.database;
    this.backup =
      backupPlan === undefined
        ? undefined
        : new DatabaseBackup(this, 'Backup', {
            instances: this.database.instances,
            plan: backupPlan,
          });
    this.cache = new Cache(this, 'Cache', {
      vpc: props.vpc,
      securityGroup: props.traffic.cache,
      settings: props.config.cache,
    });
    new CfnOutput(this, 'DatabaseSecretArn', {
      value: this.database.instance.secret?.secretArn ?? '',
    });
    const restored = this.database.restored;
    if (restored !== undefined) {
      // What the cutover checks before the service moves to it (docs/operations.md).
      new CfnOutput(this, 'RestoredDatabaseEndpoint', {
        value: restored.dbInstanceEndpointAddress,
      });
      new CfnOutput(this, 'RestoredDatabaseSecretArn', { value: restored.secret?.secretArn ?? '' });
    }
    new CfnOutput(this, 'CacheAuthTokenArn', { value: this.cache.authToken.secretArn });
  }
}
