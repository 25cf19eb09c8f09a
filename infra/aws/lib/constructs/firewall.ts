import * as wafv2 from 'aws-cdk-lib/aws-wafv2';
import { Construct } from 'constructs';

export interface FirewallProps {
  /** The load balancer the web ACL protects. */
  readonly resourceArn: string;
  /** Requests one IP may send per minute before WAF blocks it. */
  readonly requestsPerMinutePerIp: number;
  /** Paths only the VPC may reach (scraped or operated from inside); the edge answers 404. */
  readonly internalPathPrefixes: readonly string[];
}

const NOT_FOUND_BODY = 'not-found';

/**
 * AWS WAF in front of the load balancer: AWS's managed rules for known-bad input and
 * reputation, a per-IP rate limit above the app's own, and internal paths closed.
 */
export class Firewall extends Construct {
  readonly webAcl: wafv2.CfnWebACL;

  constructor(scope: Construct, id: string, props: FirewallProps) {
    super(scope, id);
    const visibility = (metricName: string) => ({
      cloudWatchMetricsEnabled: true,
      metricName,
      sampledRequestsEnabled: true,
    });
    const managed = (
      name: string,
      priority: number,
      ruleActionOverrides?: wafv2.CfnWebACL.RuleActionOverrideProperty[],
    ): wafv2.CfnWebACL.RuleProperty => ({
      name,
      priority,
      overrideAction: { none: {} },
      statement: {
        managedRuleGroupStatement: { vendorName: 'AWS', name, ruleActionOverrides },
      },
      visibilityConfig: visibility(name),
    });

    this.webAcl = new wafv2.CfnWebACL(this, 'WebAcl', {
      scope: 'REGIONAL',
      defaultAction: { allow: {} },
      visibilityConfig: visibility('shipshape-web-acl'),
      customResponseBodies: {
        [NOT_FOUND_BODY]: {
          contentType: 'APPLICATION_JSON',
          // The app's own error shape, so clients see one kind of 404.
          content: JSON.stringify({ statusCode: 404, error: 'Not Found', message: 'Not found' }),
        },
      },
      rules: [
        {
          name: 'InternalPaths',
          priority: 0,
          action: {
            block: { customResponse: { responseCode: 404, customResponseBodyKey: NOT_FOUND_BODY } },
          },
          statement: orOf(props.internalPathPrefixes.map(pathStartsWith)),
          visibilityConfig: visibility('InternalPaths'),
        },
        managed('AWSManagedRulesAmazonIpReputationList', 1),
        managed('AWSManagedRulesKnownBadInputsRuleSet', 2),
        // The app answers bodies over BODY_LIMIT_BYTES (16 KiB) with its own 413; WAF's 8 KiB
        // body rule would block legitimate requests between the two, so it only counts.
        managed('AWSManagedRulesCommonRuleSet', 3, [
          { name: 'SizeRestrictions_BODY', actionToUse: { count: {} } },
        ]),
        {
          name: 'RatePerIp',
          priority: 4,
          action: { block: { customResponse: { responseCode: 429 } } },
          statement: {
            rateBasedStatement: {
              limit: props.requestsPerMinutePerIp,
              evaluationWindowSec: 60,
              aggregateKeyType: 'IP',
            },
          },
          visibilityConfig: visibility('RatePerIp'),
        },
      ],
    });
    new wafv2.CfnWebACLAssociation(this, 'Association', {
      resourceArn: props.resourceArn,
      webAclArn: this.webAcl.attrArn,
    });
  }
}

function pathStartsWith(prefix: string): wafv2.CfnWebACL.StatementProperty {
  return {
    byteMatchStatement: {
      fieldToMatch: { uriPath: {} },
      positionalConstraint: 'STARTS_WITH',
      searchString: prefix,
      // `/%6Detrics` and `//metrics` must not slip past.
      textTransformations: [
        { priority: 0, type: 'URL_DECODE' },
        { priority: 1, type: 'NORMALIZE_PATH' },
        { priority: 2, type: 'LOWERCASE' },
      ],
    },
  };
}

function orOf(statements: wafv2.CfnWebACL.StatementProperty[]): wafv2.CfnWebACL.StatementProperty {
  const [only] = statements;
  if (statements.length === 1 && only) return only;
  return { orStatement: { statements } };
}
