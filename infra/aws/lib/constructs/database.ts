import { Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as rds from 'aws-cdk-lib/aws-rds';
import { Construct } from 'constructs';
import type { EnvironmentConfig } from '../../config/types';
import { POSTGRES_PORT } from './traffic-rules';

export interface DatabaseProps {
  readonly vpc: ec2.IVpc;
  readonly securityGroup: ec2.ISecurityGroup;
  readonly settings: EnvironmentConfig['database'];
}

export const DATABASE_NAME = 'shipshape';
export const DATABASE_USER = 'shipshape';

/** RDS PostgreSQL, the system of record: encrypted, private, backed up, credentials in Secrets Manager. */
export class Database extends Construct {
  readonly instance: rds.DatabaseInstance;

  constructor(scope: Construct, id: string, props: DatabaseProps) {
    super(scope, id);
    const { settings } = props;
    const engine = rds.DatabaseInstanceEngine.postgres({
      version: rds.PostgresEngineVersion.VER_18,
    });
    const parameters = new rds.ParameterGroup(this, 'Parameters', {
      engine,
      description: 'shipshape: TLS only, slow statements logged',
      parameters: { 'rds.force_ssl': '1', log_min_duration_statement: '500' },
    });
    this.instance = new rds.DatabaseInstance(this, 'Instance', {
      engine,
      parameterGroup: parameters,
      instanceType: new ec2.InstanceType(settings.instanceType),
      vpc: props.vpc,
      vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_ISOLATED },
      securityGroups: [props.securityGroup],
      port: POSTGRES_PORT,
      databaseName: DATABASE_NAME,
      credentials: rds.Credentials.fromGeneratedSecret(DATABASE_USER),
      storageType: rds.StorageType.GP3,
      allocatedStorage: settings.allocatedStorageGiB,
      maxAllocatedStorage: settings.maxAllocatedStorageGiB,
      storageEncrypted: true,
      multiAz: settings.multiAz,
      deletionProtection: settings.deletionProtection,
      backupRetention: settings.backupRetention,
      preferredBackupWindow: '02:00-03:00',
      preferredMaintenanceWindow: 'sun:03:30-sun:04:30',
      // Deleting the stack leaves a final snapshot, never nothing.
      removalPolicy: RemovalPolicy.SNAPSHOT,
      autoMinorVersionUpgrade: true,
      monitoringInterval: Duration.seconds(60),
      cloudwatchLogsExports: ['postgresql', 'upgrade'],
      cloudwatchLogsRetention: logs.RetentionDays.ONE_MONTH,
    });

    const acknowledge = (id: string, reason: string) =>
      Validations.of(this.instance).acknowledge({ id, reason });
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
    this.acknowledgeLogRetentionFunction();
    Validations.of(this.instance).acknowledge({
      id: 'AwsSolutions-RDS11',
      reason:
        'The default port: only the tasks security group reaches it, and another number hides nothing from them.',
    });
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
