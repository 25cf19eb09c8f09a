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

/** What a subnet is, read from its route table's default route: IGW, NAT, or none. */
type SubnetKind = 'public' | 'private' | 'isolated';

describe.each(environments)('$name availability zones', (config) => {
  const network = template(`${config.name}-network`);
  const production = config.name === 'production';
  const refOf = (value: unknown) => (value as { Ref?: string } | undefined)?.Ref;
  const subnets = resourcesOf(network, 'AWS::EC2::Subnet');
  const zoneOfSubnet = new Map(
    subnets.map(([id, subnet]) => [id, String(subnet.AvailabilityZone)]),
  );
  const routeTableOf = new Map(
    resourcesOf(network, 'AWS::EC2::SubnetRouteTableAssociation').map(([, association]) => [
      refOf(association.SubnetId),
      refOf(association.RouteTableId),
    ]),
  );
  const defaultRouteOf = new Map(
    resourcesOf(network, 'AWS::EC2::Route')
      .filter(([, route]) => route.DestinationCidrBlock === '0.0.0.0/0')
      .map(([, route]) => [refOf(route.RouteTableId), route]),
  );
  const natGateways = resourcesOf(network, 'AWS::EC2::NatGateway');
  const zoneOfNat = new Map(
    natGateways.map(([id, nat]) => [id, zoneOfSubnet.get(refOf(nat.SubnetId) ?? '')]),
  );
  const defaultRoute = (subnet: string) => defaultRouteOf.get(routeTableOf.get(subnet));
  const kindOf = (subnet: string): SubnetKind => {
    const route = defaultRoute(subnet);
    if (route?.GatewayId !== undefined) return 'public';
    if (route?.NatGatewayId !== undefined) return 'private';
    return 'isolated';
  };
  const zones = new Set(zoneOfSubnet.values());
  const privateSubnets = subnets.map(([id]) => id).filter((id) => kindOf(id) === 'private');

  it(
    production
      ? 'spans exactly 3 AZs, so it survives losing one'
      : 'spans at least 2 AZs, like production does',
    () => {
      if (production) expect(zones.size).toBe(3);
      else expect(zones.size).toBeGreaterThanOrEqual(2);
    },
  );

  it('has one public, one private and one isolated subnet in every AZ', () => {
    const layout = [...zones].sort().map((zone) => ({
      zone,
      kinds: subnets
        .filter(([id]) => zoneOfSubnet.get(id) === zone)
        .map(([id]) => kindOf(id))
        .sort(),
    }));
    expect(layout).toEqual(
      [...zones].sort().map((zone) => ({ zone, kinds: ['isolated', 'private', 'public'] })),
    );
  });

  it('puts its NAT gateways in public subnets, where the internet gateway is', () => {
    expect(natGateways.length).toBeGreaterThan(0);
    for (const [, nat] of natGateways) expect(kindOf(refOf(nat.SubnetId) ?? '')).toBe('public');
  });

  if (production)
    it("gives every AZ its own NAT gateway, so losing one AZ does not cut the others' egress", () => {
      network.resourceCountIs('AWS::EC2::NatGateway', 3);
      expect(new Set(zoneOfNat.values())).toEqual(zones);
      expect(privateSubnets).toHaveLength(3);
      for (const subnet of privateSubnets) {
        const nat = refOf(defaultRoute(subnet)?.NatGatewayId) ?? '';
        expect(zoneOfNat.get(nat), `NAT of ${subnet}`).toBe(zoneOfSubnet.get(subnet));
      }
    });
  else
    it('shares one NAT gateway between its AZs to save cost, and every private subnet uses it', () => {
      network.resourceCountIs('AWS::EC2::NatGateway', 1);
      const [[nat] = ['']] = natGateways;
      expect(privateSubnets.length).toBeGreaterThanOrEqual(2);
      for (const subnet of privateSubnets)
        expect(refOf(defaultRoute(subnet)?.NatGatewayId), `NAT of ${subnet}`).toBe(nat);
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

  /** CDK's placeholder for "no egress": a rule no packet can match (ICMP type 252 to 255.255.255.255). */
  const isNoTrafficPlaceholder = (entry: Record<string, unknown>) =>
    entry.CidrIp === '255.255.255.255/32' &&
    entry.IpProtocol === 'icmp' &&
    entry.FromPort === 252 &&
    entry.ToPort === 86;
  /** Every egress rule in every stack of the environment, inline or standalone. */
  const egress: Record<string, unknown>[] = stacks
    .flatMap((stack) => [
      ...resourcesOf(stack, 'AWS::EC2::SecurityGroup').flatMap(([id, group]) =>
        ((group.SecurityGroupEgress as Record<string, unknown>[] | undefined) ?? []).map(
          (rule) => ({ group: id, ...rule }),
        ),
      ),
      ...resourcesOf(stack, 'AWS::EC2::SecurityGroupEgress').map(([, rule]) => ({
        ...rule,
        group: idOf(rule.GroupId),
      })),
    ])
    .filter((entry) => !isNoTrafficPlaceholder(entry));
  const destinationOf = (entry: Record<string, unknown>): string => {
    if (typeof entry.CidrIp === 'string') return entry.CidrIp;
    if (typeof entry.CidrIpv6 === 'string') return entry.CidrIpv6;
    if (entry.DestinationPrefixListId !== undefined)
      return `prefix list ${JSON.stringify(entry.DestinationPrefixListId)}`;
    return idOf(entry.DestinationSecurityGroupId) ?? 'unknown';
  };
  const outbound = (entry: Record<string, unknown>) =>
    `${String(entry.group)} -> ${destinationOf(entry)}:${String(entry.IpProtocol)}/${String(entry.FromPort)}-${String(entry.ToPort)}`;
  const outboundFrom = (group: string) =>
    egress
      .filter((entry) => entry.group === group)
      .map(outbound)
      .sort();

  const loadBalancerOutbound = [`${loadBalancer} -> ${tasks}:tcp/3000-3000`];
  const tasksOutbound = [
    `${tasks} -> ${database}:tcp/5432-5432`,
    `${tasks} -> ${cache}:tcp/6379-6379`,
    `${tasks} -> 0.0.0.0/0:tcp/443-443`,
  ].sort();

  it("lets the load balancer send only to the tasks' app port: requests and health checks", () => {
    expect(outboundFrom(loadBalancer)).toEqual(loadBalancerOutbound);
  });

  it('lets the tasks send only to PostgreSQL on 5432, Valkey on 6379, and HTTPS on 443 for the AWS APIs through NAT', () => {
    expect(outboundFrom(tasks)).toEqual(tasksOutbound);
  });

  it('lets no other group send anything out, in any stack: the database and the cache answer only', () => {
    expect(egress.map(outbound).sort()).toEqual([...loadBalancerOutbound, ...tasksOutbound].sort());
  });

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
