import { describe, expect, it } from 'vitest';
import {
  job,
  readWorkflow,
  runScripts,
  stepWithId,
  stepsUsing,
  type Job,
  type Step,
} from './workflow-files.js';

const ci = readWorkflow('ci.yml');
const release = readWorkflow('release.yml');
const deploy = readWorkflow('deploy.yml');

/** The position of the one step `matches` picks; none or several fail the test that asked. */
function indexOf(found: Job, what: string, matches: (step: Step) => boolean): number {
  const indices = (found.steps ?? []).flatMap((step, index) => (matches(step) ? [index] : []));
  expect(indices, what).toHaveLength(1);
  return indices[0] ?? -1;
}
const using = (action: string) => (step: Step) => step.uses?.startsWith(`${action}@`) === true;
const running = (command: string) => (step: Step) => step.run?.includes(command) === true;

describe('deploy.yml verifies the image before it deploys it', () => {
  const checks = [
    ['staging', '${{ steps.image.outputs.digest }}'],
    ['production', '${{ needs.staging.outputs.digest }}'],
  ] as const;

  it.each(checks)(
    '%s: digest from ECR, ECR login, cosign, verification, and only then cdk deploy',
    (stage, digest) => {
      const found = job(deploy, stage);
      const order = [
        indexOf(found, 'ECR digest', running('scripts/ecr-image-digest.sh')),
        indexOf(found, 'ECR login', using('aws-actions/amazon-ecr-login')),
        indexOf(found, 'cosign', using('sigstore/cosign-installer')),
        indexOf(found, 'verification', (step) => step.id === 'verify'),
        indexOf(found, 'cdk deploy', running(`npm run deploy:${stage}`)),
        indexOf(found, 'smoke test', running('npm run smoke:remote')),
      ];
      expect(order).toEqual([...order].sort((a, b) => a - b));
      // The very digest that was checked in ECR, not a tag: a tag names what ECR says now.
      const verify = stepWithId(found.steps, 'verify');
      expect(verify.env).toEqual({ DIGEST: digest });
      expect(verify.run).toBe(
        'scripts/verify-image.sh "$ECR_REPOSITORY_URI" "$SHA" "$DIGEST" "$GITHUB_REPOSITORY"',
      );
    },
  );

  it('installs the cosign the release signs with, pinned the same', () => {
    const pin = stepsUsing(job(release, 'image'), 'sigstore/cosign-installer')[0]?.uses;
    expect(pin).toMatch(/@[0-9a-f]{40}$/);
    for (const [stage] of checks) {
      expect(stepsUsing(job(deploy, stage), 'sigstore/cosign-installer')[0]?.uses).toBe(pin);
    }
  });
});

describe('release.yml scans the image before it signs it', () => {
  const image = job(release, 'image');
  const scans = stepsUsing(image, 'aquasecurity/trivy-action');

  it('scans both platforms it built, by digest, failing on fixable HIGH and CRITICAL', () => {
    expect(scans.map((step) => step.env)).toEqual([
      { TRIVY_PLATFORM: 'linux/amd64' },
      { TRIVY_PLATFORM: 'linux/arm64' },
    ]);
    for (const scan of scans) {
      expect(scan.with).toEqual({
        'image-ref': '${{ vars.ECR_REPOSITORY_URI }}@${{ steps.digest.outputs.digest }}',
        scanners: 'vuln',
        severity: 'HIGH,CRITICAL',
        'ignore-unfixed': true,
        'exit-code': '1',
      });
    }
  });

  it('scans after the digest is known and before the signature, so a failed scan signs nothing', () => {
    const steps = image.steps ?? [];
    const digest = steps.findIndex((step) => step.id === 'digest');
    const sign = indexOf(image, 'signing', running('cosign sign'));
    for (const scan of scans) {
      expect(steps.indexOf(scan)).toBeGreaterThan(digest);
      expect(steps.indexOf(scan)).toBeLessThan(sign);
    }
  });

  it('prints the command that promotes the digest on Kubernetes', () => {
    expect(runScripts(image)).toContain(
      'kustomize edit set image shipshape=ghcr.io/${GITHUB_REPOSITORY,,}:$SHA@$DIGEST',
    );
  });
});

describe('ci.yml gates on the dependencies', () => {
  const found = job(ci, 'dependencies');

  it('checks registry signatures and production advisories after a clean install', () => {
    const install = indexOf(found, 'npm ci', running('npm ci'));
    const signatures = indexOf(found, 'signatures', (step) => step.run === 'npm audit signatures');
    const advisories = indexOf(
      found,
      'advisories',
      (step) => step.run === 'npm audit --audit-level=high --omit=dev',
    );
    expect(install).toBeLessThan(signatures);
    expect(signatures).toBeLessThan(advisories);
  });

  it('runs beside the other jobs, blocking none of them, with no extra permission', () => {
    expect(found.needs).toBeUndefined();
    expect(found.permissions).toBeUndefined();
    for (const other of Object.values(ci.jobs))
      expect(other.needs ?? []).not.toContain('dependencies');
  });
});
