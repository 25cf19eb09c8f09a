import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { App, Stack, Validations } from 'aws-cdk-lib';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { describe, expect, it } from 'vitest';
import { buildApp } from './synthesize';

interface Report {
  pluginReports: {
    pluginName: string;
    violations: { ruleName: string; violatingConstructs: { constructPath: string }[] }[];
  }[];
}

/** Synthesizes with cdk-nag's AwsSolutions pack and returns every unacknowledged finding. */
function findings(app: App): string[] {
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  try {
    app.synth();
  } catch {
    // A failed validation throws; the report below says what failed.
  }
  const reportFile = join(app.outdir, 'validation-report.json');
  if (!existsSync(reportFile)) throw new Error('synthesis wrote no validation report');
  const report = JSON.parse(readFileSync(reportFile, 'utf8')) as Report;
  return report.pluginReports.flatMap(({ violations }) =>
    violations.flatMap(({ ruleName, violatingConstructs }) =>
      violatingConstructs.map(({ constructPath }) => `${ruleName} at ${constructPath}`),
    ),
  );
}

describe('cdk-nag AwsSolutions', () => {
  it('finds what it should on a careless stack (the check is live)', () => {
    const app = new App();
    new s3.Bucket(new Stack(app, 'careless'), 'Bucket');
    expect(findings(app)).toEqual(
      expect.arrayContaining([expect.stringMatching(/^AwsSolutions-S1 at careless\/Bucket/)]),
    );
  });

  const { app } = buildApp();
  const result = findings(app);

  it('reports no unacknowledged finding on either environment', () => {
    expect(result).toEqual([]);
  });

  it('has a written reason next to every acknowledgment, on one resource, never a whole stack', () => {
    const acknowledged = app.node
      .findAll()
      .flatMap((node: IConstruct) =>
        node.node.metadata
          .filter((entry) => entry.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
          .flatMap((entry) => Object.entries(entry.data as Record<string, string>))
          .map(([id, reason]) => ({ node, id, reason })),
      )
      .filter(({ id }) => id.includes('AwsSolutions-'));
    expect(acknowledged.length).toBeGreaterThan(0);
    for (const { node, id, reason } of acknowledged) {
      expect(Stack.isStack(node), `${id} acknowledged on a whole stack`).toBe(false);
      expect(reason.length, `${id} at ${node.node.path}`).toBeGreaterThan(40);
    }
  });
});
