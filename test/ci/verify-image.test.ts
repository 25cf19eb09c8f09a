import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { ROOT, fakeTools, runCommand } from './workflow-files.js';

const IMAGE = '123456789012.dkr.ecr.eu-west-1.amazonaws.com/shipshape';
const SHA = '0123456789abcdef0123456789abcdef01234567';
const OTHER_SHA = 'fedcba9876543210fedcba9876543210fedcba98';
const DIGEST = `sha256:${'a'.repeat(64)}`;
const REPOSITORY = 'shipshape-dev/shipshape';
const ARGS = [IMAGE, SHA, DIGEST, REPOSITORY];
const METADATA = 'https://mobyproject.org/buildkit@v1#metadata';

/** What `imagetools inspect --format '{{json .Provenance}}'` prints: SLSA v0.2 and v1. */
function provenance(revision: string, vcsRevision = revision): string {
  return JSON.stringify({
    'linux/amd64': {
      SLSA: {
        invocation: { parameters: { args: { 'build-arg:GIT_REVISION': revision } } },
        metadata: { [METADATA]: { vcs: { revision: vcsRevision } } },
      },
    },
    'linux/arm64': {
      SLSA: {
        buildDefinition: {
          externalParameters: { request: { args: { 'build-arg:GIT_REVISION': revision } } },
        },
        runDetails: { metadata: { [METADATA]: { vcs: { revision: vcsRevision } } } },
      },
    },
  });
}

describe('scripts/verify-image.sh, with stand-ins for cosign and docker', () => {
  const tools = fakeTools(['cosign', 'docker']);
  afterAll(() => rmSync(tools.dir, { recursive: true, force: true }));
  beforeEach(() => {
    for (const name of ['cosign', 'docker'])
      rmSync(join(tools.dir, `${name}.args`), { force: true });
  });
  const args = (name: string) =>
    readFileSync(join(tools.dir, `${name}.args`), 'utf8')
      .trimEnd()
      .split('\n');
  const verify = (argv: string[], env: Record<string, string>) =>
    runCommand(`${ROOT}scripts/verify-image.sh`, argv, { PATH: tools.path, ...env });

  it("checks the release workflow's keyless signature on the digest, then the provenance", async () => {
    const result = await verify(ARGS, { FAKE_OUTPUT: provenance(SHA) });
    expect(result).toMatchObject({ code: 0, stdout: '' });
    expect(args('cosign')).toEqual([
      'verify',
      '--certificate-oidc-issuer',
      'https://token.actions.githubusercontent.com',
      '--certificate-identity-regexp',
      expect.any(String) as string,
      '--certificate-github-workflow-repository',
      REPOSITORY,
      '--certificate-github-workflow-sha',
      SHA,
      `${IMAGE}@${DIGEST}`,
    ]);
    expect(args('docker')).toEqual([
      'buildx',
      'imagetools',
      'inspect',
      `${IMAGE}@${DIGEST}`,
      '--format',
      '{{json .Provenance}}',
    ]);
  });

  it('accepts only release.yml of this repository, run for main or a version tag', async () => {
    await verify([IMAGE, SHA, DIGEST, 'shipshape-dev/ship.shape'], {
      FAKE_OUTPUT: provenance(SHA),
    });
    // cosign matches the regexp with Go's RE2, which agrees with JavaScript's on this syntax.
    const identity = new RegExp(args('cosign')[4] ?? '');
    const workflow = 'https://github.com/shipshape-dev/ship.shape/.github/workflows';
    expect(identity.test(`${workflow}/release.yml@refs/heads/main`)).toBe(true);
    expect(identity.test(`${workflow}/release.yml@refs/tags/v1.2.3`)).toBe(true);
    for (const other of [
      `${workflow}/release.yml@refs/heads/feature`,
      `${workflow}/release.yml@refs/pull/7/merge`,
      `${workflow}/release.yml@refs/tags/1.2.3`,
      `${workflow}/ci.yml@refs/heads/main`,
      'https://github.com/shipshape-dev/shipXshape/.github/workflows/release.yml@refs/heads/main',
      'https://github.com/someone/ship.shape/.github/workflows/release.yml@refs/heads/main',
      `${workflow}/release.yml@refs/heads/main-old`,
    ]) {
      expect(identity.test(other), other).toBe(false);
    }
  });

  it('fails an unsigned image before it reads anything else', async () => {
    const result = await verify(ARGS, { FAKE_OUTPUT: provenance(SHA), FAKE_EXIT_cosign: '10' });
    expect(result).toMatchObject({ code: 1, stdout: '' });
    expect(result.stderr).toContain(`has no valid signature by ${REPOSITORY}'s release workflow`);
    expect(() => args('docker')).toThrow();
  });

  it.each([
    ['another commit', provenance(OTHER_SHA), OTHER_SHA],
    ['another commit in git', provenance(SHA, OTHER_SHA), `${SHA} ${OTHER_SHA}`],
    ['no build argument', JSON.stringify({ 'linux/amd64': { SLSA: {} } }), 'none'],
    ['no provenance', 'null', 'none'],
  ])('fails a provenance that records %s', async (_, output, recorded) => {
    const result = await verify(ARGS, { FAKE_OUTPUT: output });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`records the build of '${recorded}', not of ${SHA}`);
  });

  it('fails when the provenance cannot be read', async () => {
    const result = await verify(ARGS, { FAKE_EXIT_docker: '1' });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('could not read the provenance');
  });

  it.each([
    [[`${IMAGE}:${SHA}`, SHA, DIGEST, REPOSITORY], 'is not an image repository'],
    [[IMAGE, 'main', DIGEST, REPOSITORY], "'main' is not a full 40-character git SHA"],
    [[IMAGE, SHA, SHA, REPOSITORY], 'is not an image digest'],
    [[IMAGE, SHA, DIGEST, 'shipshape'], "'shipshape' is not a GitHub repository"],
    [[IMAGE, SHA, DIGEST], 'usage:'],
  ])('refuses %j before asking cosign', async (argv, message) => {
    const result = await verify(argv, { FAKE_OUTPUT: provenance(SHA) });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(message);
    expect(() => args('cosign')).toThrow();
  });
});
