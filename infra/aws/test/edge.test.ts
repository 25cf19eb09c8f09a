import { Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { staging } from '../config/staging';
import { environments, logBucketProperties, resourcesOf, synthesize } from './synthesize';

const { template } = synthesize();

describe.each(environments)('$name load balancer', (config) => {
  const service = template(`${config.name}-service`);
  const listeners = resourcesOf(service, 'AWS::ElasticLoadBalancingV2::Listener');
  const listenerOn = (port: number) =>
    listeners.find(([, listener]) => listener.Port === port)?.[1];

  const [[, loadBalancer] = ['', {}]] = resourcesOf(
    service,
    'AWS::ElasticLoadBalancingV2::LoadBalancer',
  );
  const attributes = Object.fromEntries(
    (loadBalancer.LoadBalancerAttributes as { Key: string; Value: unknown }[]).map(
      ({ Key, Value }) => [Key, Value],
    ),
  );

  it('is internet-facing in the public subnets only', () => {
    service.hasResourceProperties('AWS::ElasticLoadBalancingV2::LoadBalancer', {
      Scheme: 'internet-facing',
      Type: 'application',
      Subnets: config.availabilityZones.map(() =>
        Match.objectLike({ 'Fn::ImportValue': Match.stringLikeRegexp('LoadBalancerSubnet') }),
      ),
    });
    expect(attributes).toMatchObject({
      'routing.http.drop_invalid_header_fields.enabled': 'true',
      'deletion_protection.enabled': String(config.name === 'production'),
    });
  });

  it('serves HTTPS with a modern TLS policy and redirects HTTP to it', () => {
    expect(listeners).toHaveLength(2);
    expect(listenerOn(443)).toMatchObject({
      Protocol: 'HTTPS',
      SslPolicy: 'ELBSecurityPolicy-TLS13-1-2-2021-06',
      Certificates: [{ CertificateArn: expect.anything() as unknown }],
    });
    expect(listenerOn(80)).toMatchObject({
      Protocol: 'HTTP',
      DefaultActions: [
        {
          Type: 'redirect',
          RedirectConfig: { Protocol: 'HTTPS', Port: '443', StatusCode: 'HTTP_301' },
        },
      ],
    });
  });

  it('only forwards on the HTTPS listener, as ECS blue/green requires', () => {
    const https = JSON.stringify(listenerOn(443));
    const rules = resourcesOf(service, 'AWS::ElasticLoadBalancingV2::ListenerRule');
    const types = [https, ...rules.map(([, rule]) => JSON.stringify(rule))].flatMap((text) =>
      [...text.matchAll(/"Type":"([a-z-]+)"/g)].map((match) => match[1]),
    );
    expect(new Set(types)).toEqual(new Set(['forward']));
  });

  it('gets a DNS-validated certificate and an alias record in the configured zone', () => {
    if (config.domain.domainName === undefined) throw new Error('expected a domain in this config');
    service.hasResourceProperties('AWS::CertificateManager::Certificate', {
      DomainName: config.domain.domainName,
      ValidationMethod: 'DNS',
    });
    service.hasResourceProperties('AWS::Route53::RecordSet', {
      Name: `${config.domain.domainName}.`,
      Type: 'A',
      HostedZoneId: config.domain.hostedZone.id,
      AliasTarget: Match.anyValue(),
    });
  });

  it('writes access logs to an encrypted, private, TLS-only bucket that forgets after 90 days', () => {
    expect(attributes['access_logs.s3.enabled']).toBe('true');
    expect(attributes['access_logs.s3.bucket']).toEqual({
      Ref: expect.stringMatching(/AccessLogs/) as unknown,
    });
    service.hasResourceProperties('AWS::S3::Bucket', logBucketProperties(90));
    service.hasResourceProperties('AWS::S3::BucketPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: 'Deny',
            Condition: { Bool: { 'aws:SecureTransport': 'false' } },
          }),
        ]),
      },
    });
  });
});

describe.each(environments)('$name firewall', (config) => {
  const service = template(`${config.name}-service`);
  const [[, acl] = ['', {}]] = resourcesOf(service, 'AWS::WAFv2::WebACL');
  const rules = acl.Rules as {
    Name: string;
    Action?: unknown;
    Statement: Record<string, Record<string, unknown>>;
  }[];
  const rule = (name: string) => {
    const found = rules.find((candidate) => candidate.Name === name);
    if (found === undefined) throw new Error(`no WAF rule ${name}`);
    return found;
  };

  it('protects the load balancer', () => {
    expect(acl.Scope).toBe('REGIONAL');
    service.hasResourceProperties('AWS::WAFv2::WebACLAssociation', {
      ResourceArn: { Ref: Match.stringLikeRegexp('LoadBalancer') },
      WebACLArn: Match.anyValue(),
    });
  });

  it('applies the AWS managed rule groups', () => {
    const managed = rules.flatMap((candidate) => {
      const statement = candidate.Statement.ManagedRuleGroupStatement;
      return statement ? [`${String(statement.VendorName)}/${String(statement.Name)}`] : [];
    });
    expect(managed.sort()).toEqual([
      'AWS/AWSManagedRulesAmazonIpReputationList',
      'AWS/AWSManagedRulesCommonRuleSet',
      'AWS/AWSManagedRulesKnownBadInputsRuleSet',
    ]);
    // The app answers oversized bodies with its own 413; WAF's smaller limit only counts.
    expect(
      rule('AWSManagedRulesCommonRuleSet').Statement.ManagedRuleGroupStatement?.RuleActionOverrides,
    ).toEqual([{ Name: 'SizeRestrictions_BODY', ActionToUse: { Count: {} } }]);
  });

  it("blocks an IP above twice the app's own per-client rate limit", () => {
    const limit = rule('RatePerIp');
    expect(limit.Statement.RateBasedStatement).toEqual({
      Limit: 2 * config.service.requestsPerMinutePerClient,
      EvaluationWindowSec: 60,
      AggregateKeyType: 'IP',
    });
    expect(limit.Action).toEqual({ Block: { CustomResponse: { ResponseCode: 429 } } });
  });

  it('answers 404 itself for /metrics and /admin, however they are spelled', () => {
    const internal = rule('InternalPaths');
    expect(internal.Action).toEqual({
      Block: { CustomResponse: { ResponseCode: 404, CustomResponseBodyKey: 'not-found' } },
    });
    const matches = (
      internal.Statement.OrStatement?.Statements as {
        ByteMatchStatement: Record<string, unknown>;
      }[]
    ).map(({ ByteMatchStatement }) => ByteMatchStatement);
    expect(matches.map((match) => match.SearchString)).toEqual(['/metrics', '/admin']);
    for (const match of matches) {
      expect(match.FieldToMatch).toEqual({ UriPath: {} });
      expect((match.TextTransformations as { Type: string }[]).map(({ Type }) => Type)).toEqual([
        'URL_DECODE',
        'NORMALIZE_PATH',
        'LOWERCASE',
      ]);
    }
    const bodies = acl.CustomResponseBodies as Record<string, { Content: string }>;
    expect(JSON.parse(bodies['not-found']?.Content ?? '{}')).toEqual({
      statusCode: 404,
      error: 'Not Found',
      message: 'Not found',
    });
  });
});

describe('an environment with its own certificate', () => {
  const certificateArn =
    'arn:aws:acm:eu-west-1:111111111111:certificate/00000000-0000-0000-0000-000000000000';
  const { template: own } = synthesize([{ ...staging, domain: { certificateArn } }]);
  const service = own('staging-service');

  it('uses the certificate as given and creates no DNS record', () => {
    service.resourceCountIs('AWS::CertificateManager::Certificate', 0);
    service.resourceCountIs('AWS::Route53::RecordSet', 0);
    service.hasResourceProperties('AWS::ElasticLoadBalancingV2::Listener', {
      Port: 443,
      Certificates: [{ CertificateArn: certificateArn }],
    });
  });
});
