import { RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import type { EnvironmentConfig } from '../../config/types';
import { TrafficRules } from '../constructs/traffic-rules';

export interface NetworkStackProps extends StackProps {
  readonly config: EnvironmentConfig;
  readonly appPort: number;
}

/** The VPC: public subnets for the load balancer only, private for tasks, isolated for data. */
export class NetworkStack extends Stack {
  readonly vpc: ec2.Vpc;
  readonly traffic: TrafficRules;

  constructor(scope: Construct, id: string, props: NetworkStackProps) {
    super(scope, id, props);
    const flowLogs = new logs.LogGroup(this, 'FlowLogs', {
      retention: logs.RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.vpc = new ec2.Vpc(this, 'Vpc', {
      ipAddresses: ec2.IpAddresses.cidr('10.0.0.0/16'),
      availabilityZones: [...props.config.availabilityZones],
      natGateways: props.config.natGateways,
      subnetConfiguration: [
        { name: 'LoadBalancer', subnetType: ec2.SubnetType.PUBLIC, cidrMask: 24 },
        { name: 'Tasks', subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS, cidrMask: 20 },
        { name: 'Data', subnetType: ec2.SubnetType.PRIVATE_ISOLATED, cidrMask: 24 },
      ],
      restrictDefaultSecurityGroup: true,
      flowLogs: {
        All: {
          destination: ec2.FlowLogDestination.toCloudWatchLogs(flowLogs),
          trafficType: ec2.FlowLogTrafficType.ALL,
        },
      },
      // Image layers come from S3: a free gateway endpoint keeps them off the NAT bill.
      gatewayEndpoints: { S3: { service: ec2.GatewayVpcEndpointAwsService.S3 } },
    });
    this.traffic = new TrafficRules(this, 'Traffic', { vpc: this.vpc, appPort: props.appPort });
  }
}
