import { Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { environments, resourcesOf, synthesize } from './synthesize';

const { template } = synthesize();

describe.each(environments)('$name network', (config) => {
  const network = template(`${config.name}-network`);

  it('spans the configured AZs with public, private and isolated subnets in each', () => {
    const subnets = resourcesOf(network, 'AWS::EC2::Subnet');
    expect(subnets).toHaveLength(3 * config.availabilityZones.length);
    const zones = new Set(subnets.map(([, subnet]) => subnet.AvailabilityZone));
    expect([...zones].sort()).toEqual([...config.availabilityZones].sort());
    const publicSubnets = subnets.filter(([, subnet]) => subnet.MapPublicIpOnLaunch === true);
    expect(publicSubnets).toHaveLength(config.availabilityZones.length);
  });

  it(`has ${config.natGateways} NAT gateway(s) for the tasks' egress`, () => {
    network.resourceCountIs('AWS::EC2::NatGateway', config.natGateways);
  });

  it('logs every flow of the VPC to CloudWatch', () => {
    network.hasResourceProperties('AWS::EC2::FlowLog', {
      ResourceType: 'VPC',
      TrafficType: 'ALL',
      LogDestinationType: 'cloud-watch-logs',
    });
  });

  it('reaches S3 (image layers) through a gateway endpoint, not NAT', () => {
    network.hasResourceProperties('AWS::EC2::VPCEndpoint', {
      VpcEndpointType: 'Gateway',
      ServiceName: Match.objectLike({ 'Fn::Join': Match.arrayWith([Match.arrayWith(['.s3'])]) }),
    });
  });
});

describe.each(environments)('$name security groups', (config) => {
  const stacks = ['network', 'data', 'service'].map((kind) => template(`${config.name}-${kind}`));
  const network = stacks[0];
  if (network === undefined) throw new Error('no network stack');
  const groupId = (description: RegExp) => {
    const found = resourcesOf(network, 'AWS::EC2::SecurityGroup').find(([, group]) =>
      description.test(String(group.GroupDescription)),
    );
    if (found === undefined) throw new Error(`no security group ${description}`);
    return found[0];
  };
  const loadBalancer = groupId(/load balancer/);
  const tasks = groupId(/tasks/);
  const database = groupId(/PostgreSQL/);
  const cache = groupId(/Valkey/);
  const idOf = (reference: unknown): string | undefined => {
    const getAtt = (reference as { 'Fn::GetAtt'?: [string, string] } | undefined)?.['Fn::GetAtt'];
    const imported = (reference as { 'Fn::ImportValue'?: string } | undefined)?.['Fn::ImportValue'];
    return (
      getAtt?.[0] ??
      (imported
        ? [loadBalancer, tasks, database, cache].find((id) => imported.includes(id))
        : undefined)
    );
  };

  /** Every ingress rule in every stack of the environment, inline or standalone. */
  const ingress: Record<string, unknown>[] = stacks.flatMap((stack) => [
    ...resourcesOf(stack, 'AWS::EC2::SecurityGroup').flatMap(([id, group]) =>
      ((group.SecurityGroupIngress as Record<string, unknown>[] | undefined) ?? []).map((rule) => ({
        group: id,
        ...rule,
      })),
    ),
    ...resourcesOf(stack, 'AWS::EC2::SecurityGroupIngress').map(([, rule]) => ({
      ...rule,
      group: idOf(rule.GroupId),
    })),
  ]);
  const addressOf = (entry: Record<string, unknown>): string => {
    if (typeof entry.CidrIp === 'string') return entry.CidrIp;
    if (typeof entry.CidrIpv6 === 'string') return entry.CidrIpv6;
    return idOf(entry.SourceSecurityGroupId) ?? 'unknown';
  };
  const rule = (entry: Record<string, unknown>) =>
    `${String(entry.group)} <- ${addressOf(entry)}:${String(entry.FromPort)}-${String(entry.ToPort)}`;

  it('lets in exactly internet → load balancer → tasks → database and cache', () => {
    expect(ingress.map(rule).sort()).toEqual(
      [
        `${loadBalancer} <- 0.0.0.0/0:443-443`,
        `${loadBalancer} <- 0.0.0.0/0:80-80`,
        `${tasks} <- ${loadBalancer}:3000-3000`,
        `${database} <- ${tasks}:5432-5432`,
        `${cache} <- ${tasks}:6379-6379`,
      ].sort(),
    );
  });

  it('opens nothing to the internet but the load balancer on 443 and 80', () => {
    const open = ingress.filter(
      (entry) => entry.CidrIp === '0.0.0.0/0' || entry.CidrIpv6 === '::/0',
    );
    expect(
      open.every(
        (entry) => entry.group === loadBalancer && [80, 443].includes(Number(entry.FromPort)),
      ),
    ).toBe(true);
  });

  it('lets the database and the cache send nothing out', () => {
    for (const id of [database, cache]) {
      const egress = (
        network.toJSON() as { Resources: Record<string, { Properties: Record<string, unknown> }> }
      ).Resources[id]?.Properties.SecurityGroupEgress as { CidrIp: string }[];
      // CDK's placeholder for "no egress": a rule no packet can match.
      expect(egress).toEqual([expect.objectContaining({ CidrIp: '255.255.255.255/32' })]);
    }
  });
});
