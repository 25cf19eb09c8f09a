import { Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { Construct } from 'constructs';

export interface TrafficRulesProps {
  readonly vpc: ec2.IVpc;
  readonly appPort: number;
}

export const POSTGRES_PORT = 5432;
export const REDIS_PORT = 6379;

/**
 * Every network path in one place: internet → load balancer → tasks → database and cache,
 * and nothing else. No group allows all outbound traffic by default.
 */
export class TrafficRules extends Construct {
  readonly loadBalancer: ec2.SecurityGroup;
  readonly tasks: ec2.SecurityGroup;
  readonly database: ec2.SecurityGroup;
  readonly cache: ec2.SecurityGroup;

  constructor(scope: Construct, id: string, props: TrafficRulesProps) {
    super(scope, id);
    const group = (name: string, description: string) =>
      new ec2.SecurityGroup(this, name, { vpc: props.vpc, description, allowAllOutbound: false });
    this.loadBalancer = group('LoadBalancer', 'The public load balancer: HTTPS and HTTP in');
    this.tasks = group('Tasks', 'shipshape tasks: only the load balancer reaches them');
    this.database = group('Database', 'PostgreSQL: only the tasks reach it');
    this.cache = group('Cache', 'Valkey: only the tasks reach it');

    this.loadBalancer.addIngressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(443), 'HTTPS');
    this.loadBalancer.addIngressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(80), 'HTTP, redirected');
    Validations.of(this.loadBalancer).acknowledge({
      id: 'AwsSolutions-EC23',
      reason: 'The public entrance: 443, and 80 only to redirect to it. WAF filters what comes in.',
    });
    const appPort = ec2.Port.tcp(props.appPort);
    this.loadBalancer.connections.allowTo(this.tasks, appPort, 'requests and health checks');
    this.tasks.connections.allowTo(this.database, ec2.Port.tcp(POSTGRES_PORT), 'SQL');
    this.tasks.connections.allowTo(this.cache, ec2.Port.tcp(REDIS_PORT), 'cache');
    // Through NAT (and the S3 gateway endpoint): ECR, Secrets Manager, CloudWatch Logs, and
    // SSM for ECS Exec. Fargate pulls images and secrets over the task's own network.
    this.tasks.addEgressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(443), 'AWS APIs');
  }
}
