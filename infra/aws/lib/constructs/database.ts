import { Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as rds from 'aws-cdk-lib/aws-rds';
import { Construct } from 'constructs';
import type { EnvironmentConfig, RestoreConfig } from '../../config/types';
import { POSTGRES_PORT } from './traffic-rules';

export interface DatabaseProps {
  readonly vpc: ec2.IVpc;
  readonly securityGroup: ec2.ISecurityGroup;
  readonly settings: EnvironmentConfig['database'];
}

export const DATABASE_NAME = 'shipshape';
export const DATABASE_USER = 'shipshape';

/** An instance the service can use: its endpoint, and the secret that holds its password. */
export type ServedInstance = rds.DatabaseInstance | rds.DatabaseInstanceFromSnapshot;

/**
 * RDS PostgreSQL, the system of record: encrypted, private, backed up, credentials in Secrets
 * Manager. With `settings.restore`, a second instance restored from a snapshot or a point in
 * time stands beside the original until the original is retired.
 */
export class Database extends Construct {
  /** The instance the service connects to. */
  readonly instance: ServedInstance;
  /** Every instance this construct keeps: the original, the restored one, or both. */
  readonly instances: readonly ServedInstance[];
  /** The instance restored from a backup, while `settings.restore` is set. */
  readonly restored: ServedInstance | undefined;

  constructor(scope: Construct, id: string, props: DatabaseProps) {
    super(scope, id);
    const { settings } = props;
    const { restore } = settings;
    const engine = rds.DatabaseInstanceEngine.postgres({
      version: rds.PostgresEngineVersion.VER_18,
    });
    const parameters = new rds.ParameterGroup(this, 'Parameters', {
      engine,
      description: 'shipshape: TLS only, slow statements logged',
      parameters: {
        'rds.force_ssl': '1',
        log_min_duration_statement: '500',
        // Explicit, so the connection budget (config/validate.ts) is checked against the real
        // figure, not one RDS derives from the instance class's memory. (The description above
        // stays as it was: changing it would replace the group.)
        max_connections: String(settings.maxConnections),
      },
    });
    const common: rds.DatabaseInstanceSourceProps = {
      engine,
      parameterGroup: parameters,
      instanceType: new ec2.InstanceType(settings.instanceType),
      vpc: props.vpc,
      vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_ISOLATED },
      securityGroups: [props.securityGroup],
      port: POSTGRES_PORT,
      storageType: rds.StorageType.GP3,
      allocatedStorage: settings.allocatedStorageGiB,
      maxAllocatedStorage: settings.maxAllocatedStorageGiB,
      multiAz: settings.multiAz,
      deletionProtection: settings.deletionProtection,
      // Automated backups: point-in-time recovery to any second of this window.
      backupRetention: settings.backupRetention,
      preferredBackupWindow: '02:00-03:00',
      preferredMaintenanceWindow: 'sun:03:30-sun:04:30',
      // Deleting the stack leaves a final snapshot, never nothing.
      removalPolicy: RemovalPolicy.SNAPSHOT,
      autoMinorVersionUpgrade: true,
      monitoringInterval: Duration.seconds(60),
      cloudwatchLogsExports: ['postgresql', 'upgrade'],
      cloudwatchLogsRetention: logs.RetentionDays.ONE_MONTH,
    };
    const original =
      restore?.retireOriginal === true
        ? undefined
        : new rds.DatabaseInstance(this, 'Instance', {
            ...common,
            databaseName: DATABASE_NAME,
            credentials: rds.Credentials.fromGeneratedSecret(DATABASE_USER),
            storageEncrypted: true,
          });
    const restored = restore === undefined ? undefined : this.restore(restore, common);
    this.restored = restored;
    this.instances = [original, restored].filter((instance) => instance !== undefined);
    const served = restore?.serve === 'restored' ? restored : original;
    if (served === undefined) throw new Error('database: no instance left to serve');
    this.instance = served;
    for (const instance of this.instances) this.acknowledge(instance, settings);
    if (original !== undefined && restored !== undefined) this.keepExports(original, restored);
    this.acknowledgeLogRetentionFunction();
  }

  /** A new instance from a snapshot, or from another instance's backups at a point in time. */
  private restore(restore: RestoreConfig, common: rds.DatabaseInstanceSourceProps) {
    if (restore.fromSnapshot !== undefined)
      // Encryption comes from the snapshot; a new password is generated into a new secret.
      return new rds.DatabaseInstanceFromSnapshot(this, 'Restored', {
        ...common,
        snapshotIdentifier: restore.fromSnapshot,
        credentials: rds.SnapshotCredentials.fromGeneratedSecret(DATABASE_USER),
      });
    // aws-cdk-lib has no point-in-time construct: CloudFormation restores when the instance
    // names a source and a time, then sets the new password after the restore.
    const instance = new rds.DatabaseInstance(this, 'Restored', {
      ...common,
      credentials: rds.Credentials.fromGeneratedSecret(DATABASE_USER),
    });
    const resource = instance.node.defaultChild as rds.CfnDBInstance;
    resource.sourceDbInstanceIdentifier = restore.fromInstance;
    resource.restoreTime = restore.restoreTime;
    resource.useLatestRestorableTime = restore.latestRestorableTime;
    // The name, user and encryption come from the source; a restore must not set them.
    for (const property of ['DBName', 'MasterUsername', 'StorageEncrypted'])
      resource.addPropertyDeletionOverride(property);
    Validations.of(resource).acknowledge({
      id: 'CloudFormation-Validate::F3020',
      reason:
        'The rule is for read replicas; with a restore time CloudFormation restores, then sets the password (aws-cloudformation-resource-providers-rds, modifyDbInstanceAfterCreateRequest).',
    });
    return instance;
  }

  /**
   * The service stack imports one instance's endpoint and secret. Switching it to the other
   * must not remove the exports it imports until then, or this stack's update fails.
   */
  private keepExports(...instances: ServedInstance[]) {
    const stack = Stack.of(this);
    for (const instance of instances) {
      stack.exportValue(instance.dbInstanceEndpointAddress);
      stack.exportValue(instance.dbInstanceEndpointPort);
      stack.exportValue(instance.instanceIdentifier);
      if (instance.secret !== undefined) stack.exportValue(instance.secret.secretArn);
    }
  }

  private acknowledge(instance: ServedInstance, settings: EnvironmentConfig['database']) {
    const acknowledge = (id: string, reason: string) =>
      Validations.of(instance).acknowledge({ id, reason });
    acknowledge(
      'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole]',
      'Enhanced monitoring needs exactly the AWS-managed role policy made for it.',
    );
    acknowledge(
      'AwsSolutions-SMG4',
      'Rotation would change the password under running tasks, which read it at start: rotate by hand with a redeploy (docs/operations.md).',
    );
    if (!settings.multiAz)
      acknowledge(
        'AwsSolutions-RDS3',
        'Staging runs one AZ to halve its cost; production is Multi-AZ.',
      );
    if (!settings.deletionProtection)
      acknowledge(
        'AwsSolutions-RDS10',
        'Staging is rebuilt at will; production has deletion protection, and removal leaves a snapshot.',
      );
    acknowledge(
      'AwsSolutions-RDS11',
      'The default port: only the tasks security group reaches it, and another number hides nothing from them.',
    );
  }

  /** CDK's own function that sets retention on the log groups RDS creates for its exports. */
  private acknowledgeLogRetentionFunction() {
    const stack = Stack.of(this);
    const retention = stack.node.children.find((child) => child.node.id.startsWith('LogRetention'));
    if (retention === undefined) return;
    Validations.of(retention).acknowledge({
      id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
      reason: "CDK's log-retention function writes its own logs with the basic execution role.",
    });
    Validations.of(retention).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'It sets retention on log groups RDS names and creates itself, so it cannot be scoped to one ARN.',
    });
  }
}
