import { Duration, Token } from 'aws-cdk-lib';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as route53 from 'aws-cdk-lib/aws-route53';
import * as targets from 'aws-cdk-lib/aws-route53-targets';
import { Construct } from 'constructs';
import type { DomainConfig } from '../../config/types';
import { Firewall } from './firewall';
import { createLogBucket } from './log-bucket';

export interface PublicEntranceProps {
  readonly vpc: ec2.IVpc;
  readonly securityGroup: ec2.ISecurityGroup;
  readonly domain: DomainConfig;
  /** The app's own per-client limit; WAF blocks at twice that, for floods only. */
  readonly appRequestsPerMinutePerClient: number;
  readonly deletionProtection: boolean;
}

/**
 * The only public part: an HTTPS Application Load Balancer in the public subnets, HTTP
 * redirected to HTTPS, WAF in front, access logs kept in S3. The service adds its targets.
 */
export class PublicEntrance extends Construct {
  readonly loadBalancer: elbv2.ApplicationLoadBalancer;
  readonly httpsListener: elbv2.ApplicationListener;
  readonly url: string;
  /**
   * The CIDRs of the subnets the load balancer's nodes run in: the addresses its requests
   * reach the tasks from, and so the only ones whose X-Forwarded-For the app believes.
   */
  readonly nodeCidrs: readonly string[];

  constructor(scope: Construct, id: string, props: PublicEntranceProps) {
    super(scope, id);
    const placement = { subnetType: ec2.SubnetType.PUBLIC };
    this.nodeCidrs = props.vpc
      .selectSubnets(placement)
      .subnets.map((subnet) => subnet.ipv4CidrBlock);
    if (this.nodeCidrs.length === 0 || this.nodeCidrs.some((cidr) => Token.isUnresolved(cidr)))
      throw new Error("the load balancer's subnets need CIDRs known at synth time");
    this.loadBalancer = new elbv2.ApplicationLoadBalancer(this, 'LoadBalancer', {
      vpc: props.vpc,
      internetFacing: true,
      vpcSubnets: placement,
      securityGroup: props.securityGroup,
      dropInvalidHeaderFields: true,
      deletionProtection: props.deletionProtection,
      // Above the app's longest request; SSE streams send a comment well inside it. Its
      // connections to the tasks idle out after this too, so it stays below the app's
      // HTTP_KEEP_ALIVE_TIMEOUT_MS: the load balancer, not the app, closes an idle one
      // (test/deploy/proxy-timeouts.test.ts).
      idleTimeout: Duration.seconds(60),
    });

    const accessLogs = createLogBucket(this, 'AccessLogs', {
      days: 90,
      why: 'This bucket holds access logs itself; logging its reads to another bucket only moves the question.',
    });
    this.loadBalancer.logAccessLogs(accessLogs, 'alb');

    const { certificate, url } = this.certificateAndName(props.domain);
    this.url = url;
    this.httpsListener = this.loadBalancer.addListener('Https', {
      port: 443,
      protocol: elbv2.ApplicationProtocol.HTTPS,
      certificates: [certificate],
      sslPolicy: elbv2.SslPolicy.RECOMMENDED_TLS,
      // The network stack's security group already opens 443 and 80, and nothing else.
      open: false,
    });
    this.loadBalancer.addListener('Http', {
      port: 80,
      open: false,
      defaultAction: elbv2.ListenerAction.redirect({
        protocol: 'HTTPS',
        port: '443',
        permanent: true,
      }),
    });

    new Firewall(this, 'Firewall', {
      resourceArn: this.loadBalancer.loadBalancerArn,
      requestsPerMinutePerIp: 2 * props.appRequestsPerMinutePerClient,
      internalPathPrefixes: ['/metrics', '/admin'],
    });
  }

  private certificateAndName(domain: DomainConfig): { certificate: acm.ICertificate; url: string } {
    if (domain.certificateArn !== undefined)
      return {
        certificate: acm.Certificate.fromCertificateArn(this, 'Certificate', domain.certificateArn),
        url: `https://${this.loadBalancer.loadBalancerDnsName}`,
      };
    const zone = route53.HostedZone.fromHostedZoneAttributes(this, 'Zone', {
      hostedZoneId: domain.hostedZone.id,
      zoneName: domain.hostedZone.name,
    });
    new route53.ARecord(this, 'Alias', {
      zone,
      recordName: domain.domainName,
      target: route53.RecordTarget.fromAlias(new targets.LoadBalancerTarget(this.loadBalancer)),
    });
    const certificate = new acm.Certificate(this, 'Certificate', {
      domainName: domain.domainName,
      validation: acm.CertificateValidation.fromDns(zone),
    });
    return { certificate, url: `https://${domain.domainName}` };
  }
}
