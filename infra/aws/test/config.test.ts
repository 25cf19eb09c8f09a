import { Match, Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { production } from '../config/production';
import { staging } from '../config/staging';
import type { EnvironmentConfig } from '../config/types';
import { configProblems } from '../config/validate';
import { buildApp } from './synthesize';

const none = { emails: [], httpsEndpoints: [] };
const withAlarms = (config: EnvironmentConfig, alarms: EnvironmentConfig['alarms']) => ({
  ...config,
  alarms,
});

describe('the environment configs', () => {
  it('are valid as committed', () => {
    expect(configProblems(staging)).toEqual([]);
    expect(configProblems(production)).toEqual([]);
  });

  it('fail the synth of production when no one is subscribed to its pages', () => {
    const unheard = withAlarms(production, { page: none, ticket: production.alarms.ticket });
    expect(configProblems(unheard)).toEqual([
      'alarms.page: production needs at least one e-mail or HTTPS subscriber',
    ]);
    expect(() => buildApp([staging, unheard])).toThrow(
      /infra\/aws\/config\/production\.ts:\n {2}alarms\.page: production needs/,
    );
    // An HTTPS endpoint alone is someone.
    const paged = withAlarms(production, {
      page: { emails: [], httpsEndpoints: ['https://events.example.com/integrations/cloudwatch'] },
      ticket: none,
    });
    expect(configProblems(paged)).toEqual([]);
  });

  it('let staging page no one', () => {
    expect(configProblems(withAlarms(staging, { page: none, ticket: none }))).toEqual([]);
  });

  it('reject addresses and endpoints that cannot be subscribed, naming each', () => {
    const bad = withAlarms(production, {
      page: { emails: ['oncall'], httpsEndpoints: ['http://insecure.example.com/hook'] },
      ticket: { emails: ['team@example.com'], httpsEndpoints: ['not a url'] },
    });
    expect(configProblems(bad)).toEqual([
      'alarms.page.emails: "oncall" is not an address',
      'alarms.page.httpsEndpoints: "http://insecure.example.com/hook" is not an https:// URL',
      'alarms.ticket.httpsEndpoints: "not a url" is not an https:// URL',
    ]);
  });

  it.each([-0.1, 1.5, Number.NaN])('reject a sampling ratio of %s', (samplingRatio) => {
    expect(configProblems({ ...staging, tracing: { samplingRatio } })).toEqual([
      `tracing.samplingRatio: ${samplingRatio} is not between 0 and 1`,
    ]);
  });

  it.each([0, 0.05, 1])('accept a sampling ratio of %s', (samplingRatio) => {
    expect(configProblems({ ...staging, tracing: { samplingRatio } })).toEqual([]);
  });

  it('subscribes HTTPS endpoints as https subscriptions of their topic', () => {
    const url = 'https://events.example.com/integrations/cloudwatch';
    const config = withAlarms(staging, {
      page: { emails: [], httpsEndpoints: [url] },
      ticket: none,
    });
    const built = buildApp([config]).environments.get('staging');
    if (built === undefined) throw new Error('no staging stacks');
    const service = Template.fromStack(built.service);
    service.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'https',
      Endpoint: url,
      TopicArn: { Ref: Match.stringLikeRegexp('TopicsPage') },
    });
  });
});
