import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import {
  CANARY_EVERY,
  CANARY_REQUESTS_PER_RUN,
  CANARY_USERNAME,
} from '../lib/constructs/journey-canary';
import { environments, logBucketProperties, resourcesOf, synthesize } from './synthesize';

const { template } = synthesize();

interface Rule {
  Name: string;
  Statement: {
    RateBasedStatement?: { Limit: number; EvaluationWindowSec: number };
    ByteMatchStatement?: { SearchString: string };
    OrStatement?: { Statements: { ByteMatchStatement: { SearchString: string } }[] };
  };
}

describe.each(environments)('$name outside probe', (config) => {
  const service = template(`${config.name}-service`);
  const [[, canary] = ['', {}]] = resourcesOf(service, 'AWS::Synthetics::Canary');
  const url =
    config.domain.domainName === undefined ? undefined : `https://${config.domain.domainName}`;

  it('walks the birthday journey through the public entrance every few minutes', () => {
    expect(canary).toMatchObject({
      RuntimeVersion: 'syn-nodejs-puppeteer-13.0',
      Schedule: { Expression: `rate(${CANARY_EVERY.toMinutes()} minutes)` },
      StartCanaryAfterCreation: true,
      Code: { Handler: 'index.handler', S3Key: expect.stringMatching(/\.zip$/) as unknown },
      RunConfig: {
        EnvironmentVariables: {
          BASE_URL: url,
          CANARY_USERNAME,
          REQUEST_TIMEOUT_MS: expect.stringMatching(/^\d+$/) as unknown,
        },
      },
    });
    // The script is a file in the repository, not a string in the template.
    expect(existsSync(join(__dirname, '..', 'canary', 'index.js'))).toBe(true);
    expect(JSON.stringify(canary)).not.toContain('Script');
    expect(CANARY_USERNAME).toMatch(/^\p{L}{1,64}$/u);
  });

  it('pages when 2 of its last 3 runs failed, and when it stops running', () => {
    const [[topic] = ['']] = resourcesOf(service, 'AWS::SNS::Topic').filter(([id]) =>
      id.includes('TopicsPage'),
    );
    service.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'CloudWatchSynthetics',
      MetricName: 'SuccessPercent',
      Dimensions: [{ Name: 'CanaryName', Value: { Ref: Match.stringLikeRegexp('ProbeCanary') } }],
      Period: CANARY_EVERY.toSeconds(),
      Threshold: 100,
      ComparisonOperator: 'LessThanThreshold',
      EvaluationPeriods: 3,
      DatapointsToAlarm: 2,
      TreatMissingData: 'breaching',
      AlarmActions: [{ Ref: topic }],
      OKActions: [{ Ref: topic }],
      AlarmDescription: Match.stringLikeRegexp('docs/runbooks.md#journeycanary$'),
    });
  });

  it('keeps its reports in an encrypted, private, TLS-only bucket that forgets them', () => {
    const location = JSON.stringify(canary.ArtifactS3Location);
    const [[id, bucket] = ['', {}]] = resourcesOf(service, 'AWS::S3::Bucket').filter(([bucketId]) =>
      location.includes(bucketId),
    );
    expect(bucket).toMatchObject(logBucketProperties(30));
    service.hasResourceProperties('AWS::S3::BucketPolicy', {
      Bucket: { Ref: id },
      PolicyDocument: Match.objectLike({
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: 'Deny',
            Condition: { Bool: { 'aws:SecureTransport': 'false' } },
          }),
        ]),
      }),
    });
  });

  it('is let through by the firewall: far under the rate limit, on a public path', () => {
    const [[, acl] = ['', {}]] = resourcesOf(service, 'AWS::WAFv2::WebACL');
    const rules = acl.Rules as Rule[];
    const rate = rules.find(({ Name }) => Name === 'RatePerIp')?.Statement.RateBasedStatement;
    if (rate === undefined) throw new Error('no rate rule');
    const perWindow =
      (CANARY_REQUESTS_PER_RUN * rate.EvaluationWindowSec) / CANARY_EVERY.toSeconds();
    // Even all of one minute's runs from one address stay a small share of the limit.
    expect(Math.max(perWindow, CANARY_REQUESTS_PER_RUN)).toBeLessThan(rate.Limit / 100);
    const internal = rules.find(({ Name }) => Name === 'InternalPaths')?.Statement;
    const prefixes = (internal?.OrStatement?.Statements ?? []).map(
      ({ ByteMatchStatement }) => ByteMatchStatement.SearchString,
    );
    expect(prefixes.length).toBeGreaterThan(0);
    for (const prefix of prefixes)
      expect(`/hello/${CANARY_USERNAME}`.startsWith(prefix)).toBe(false);
    // The common rule set blocks requests without a User-Agent; the journey sends one.
    expect(JSON.stringify(rules)).toContain('AWSManagedRulesCommonRuleSet');
  });
});
