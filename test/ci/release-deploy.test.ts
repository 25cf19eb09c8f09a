import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  ROOT,
  job,
  packageScripts,
  readWorkflow,
  runScripts,
  stepWithId,
  stepsUsing,
} from './workflow-files.js';

const release = readWorkflow('release.yml');
const deploy = readWorkflow('deploy.yml');

describe('release.yml', () => {
  const image = job(release, 'image');
  const build = stepWithId(image.steps, 'build');

  it('runs for pushes to main and for version tags', () => {
    expect(release.on).toEqual({ push: { branches: ['main'], tags: ['v*'] } });
  });

  it('builds for linux/amd64 and linux/arm64 with an SBOM and full provenance, and pushes', () => {
    expect(build.with).toMatchObject({
      context: '.',
      platforms: 'linux/amd64,linux/arm64',
      push: true,
      sbom: true,
      provenance: 'mode=max',
      tags: '${{ steps.meta.outputs.tags }}',
    });
    expect(stepsUsing(image, 'docker/setup-qemu-action')).toHaveLength(1);
    expect(stepsUsing(image, 'docker/setup-buildx-action')).toHaveLength(1);
  });

  it('passes every build argument the Dockerfile declares', () => {
    const dockerfile = readFileSync(`${ROOT}Dockerfile`, 'utf8');
    const declared = [...dockerfile.matchAll(/^ARG (\w+)/gm)].map((match) => match[1]);
    const passed = String(build.with?.['build-args'])
      .trim()
      .split('\n')
      .map((line) => line.split('=')[0]);
    // BASE_IMAGE's default is the pinned base; a release builds on it.
    expect(passed.sort()).toEqual(declared.filter((name) => name !== 'BASE_IMAGE').sort());
    expect(String(build.with?.['build-args'])).toContain('GIT_REVISION=${{ github.sha }}');
  });

  it('tags with the full SHA, and the version on a tag, in GHCR and ECR; never latest', () => {
    const meta = stepWithId(image.steps, 'meta');
    expect(String(meta.with?.images).trim().split('\n')).toEqual([
      'ghcr.io/${{ github.repository }}',
      '${{ vars.ECR_REPOSITORY_URI }}',
    ]);
    expect(meta.with?.flavor).toBe('latest=false');
    expect(String(meta.with?.tags).trim().split('\n')).toEqual([
      'type=sha,format=long,prefix=',
      'type=semver,pattern={{version}}',
    ]);
  });

  it('logs in to GHCR with the job token and to ECR through the publish role', () => {
    expect(stepsUsing(image, 'docker/login-action')[0]?.with).toEqual({
      registry: 'ghcr.io',
      username: '${{ github.actor }}',
      password: '${{ secrets.GITHUB_TOKEN }}',
    });
    expect(stepsUsing(image, 'aws-actions/configure-aws-credentials')[0]?.with).toEqual({
      'role-to-assume': '${{ vars.AWS_PUBLISH_ROLE_ARN }}',
      'aws-region': '${{ vars.AWS_REGION }}',
    });
    expect(stepsUsing(image, 'aws-actions/amazon-ecr-login')).toHaveLength(1);
  });

  it('signs the pushed digest keylessly in both registries', () => {
    expect(stepsUsing(image, 'sigstore/cosign-installer')).toHaveLength(1);
    const signing = runScripts(image);
    expect(signing).toContain('cosign sign --yes "ghcr.io/${GITHUB_REPOSITORY,,}@$DIGEST"');
    expect(signing).toContain('cosign sign --yes "$ECR_REPOSITORY_URI@$DIGEST"');
    expect(signing).not.toMatch(/--key\b/);
  });

  it('hands the SHA and digest to the deploy workflow, for main only', () => {
    expect(image.outputs).toEqual({
      sha: '${{ github.sha }}',
      digest: '${{ steps.digest.outputs.digest }}',
    });
    expect(job(release, 'deploy')).toMatchObject({
      needs: 'image',
      if: "github.ref == 'refs/heads/main'",
      uses: './.github/workflows/deploy.yml',
      with: {
        sha: '${{ needs.image.outputs.sha }}',
        digest: '${{ needs.image.outputs.digest }}',
      },
    });
  });
});

describe('deploy.yml', () => {
  const staging = job(deploy, 'staging');
  const production = job(deploy, 'production');

  it('is called by the release, or run by hand with a SHA to roll back to', () => {
    expect(Object.keys(deploy.on)).toEqual(['workflow_call', 'workflow_dispatch']);
    expect(deploy.on.workflow_dispatch).toMatchObject({
      inputs: { sha: { required: true, type: 'string' } },
    });
  });

  it('deploys staging, smoke-tests it, then production behind the protected environment', () => {
    expect(staging.environment).toMatchObject({ name: 'staging' });
    expect(production.environment).toMatchObject({ name: 'production' });
    expect(production.needs).toBe('staging');
    for (const [found, stage] of [
      [staging, 'staging'],
      [production, 'production'],
    ] as const) {
      const run = runScripts(found);
      expect(run.indexOf(`npm run deploy:${stage}`)).toBeGreaterThan(-1);
      expect(run.indexOf('npm run smoke:remote -- "$URL" "$SHA"')).toBeGreaterThan(
        run.indexOf(`npm run deploy:${stage}`),
      );
      expect(packageScripts[`deploy:${stage}`]).toMatch(
        new RegExp(
          `^cd infra/aws && cdk deploy --require-approval never .*-c imageTag=\\$\\{IMAGE_TAG:\\?.*\\} -c imageDigest=\\$\\{IMAGE_DIGEST:\\?.*\\} 'shipshape-${stage}-\\*'$`,
        ),
      );
    }
  });

  it('deploys to production the SHA and digest staging deployed and passed', () => {
    expect(staging.outputs).toEqual({
      sha: '${{ inputs.sha }}',
      digest: '${{ steps.image.outputs.digest }}',
    });
    expect(production.env?.SHA).toBe('${{ needs.staging.outputs.sha }}');
    expect(stepWithId(production.steps, 'deploy').env).toEqual({
      IMAGE_TAG: '${{ needs.staging.outputs.sha }}',
      IMAGE_DIGEST: '${{ needs.staging.outputs.digest }}',
    });
    // Staging deploys the digest it checked in ECR and verified.
    expect(stepWithId(staging.steps, 'deploy').env).toEqual({
      IMAGE_TAG: '${{ inputs.sha }}',
      IMAGE_DIGEST: '${{ steps.image.outputs.digest }}',
    });
    const check = (production.steps ?? []).find((step) =>
      step.run?.startsWith('scripts/ecr-image-digest.sh'),
    );
    expect(check?.env).toEqual({ STAGING_DIGEST: '${{ needs.staging.outputs.digest }}' });
    expect(check?.run).toContain('"$SHA" "$STAGING_DIGEST"');
    // Staging checks ECR against the digest the release built.
    expect(stepWithId(staging.steps, 'image').env).toEqual({
      EXPECTED_DIGEST: '${{ inputs.digest }}',
    });
  });

  it('reaches AWS only through the deploy role and the read-only role it may assume', () => {
    for (const found of [staging, production]) {
      const roles = stepsUsing(found, 'aws-actions/configure-aws-credentials').map(
        (step) => step.with?.['role-to-assume'],
      );
      expect(roles).toEqual([
        '${{ vars.AWS_DEPLOY_ROLE_ARN }}',
        expect.stringMatching(/:role\/cdk-hnb659fds-lookup-role-/) as string,
        '${{ vars.AWS_DEPLOY_ROLE_ARN }}',
      ]);
    }
  });

  it('never runs two deploys of one environment at once', () => {
    expect(staging.concurrency).toEqual({ group: 'deploy-staging', 'cancel-in-progress': false });
    expect(production.concurrency).toEqual({
      group: 'deploy-production',
      'cancel-in-progress': false,
    });
  });
});
