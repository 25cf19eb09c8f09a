import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, fakeTools, runCommand } from './workflow-files.js';

const URI = '123456789012.dkr.ecr.eu-west-1.amazonaws.com/shipshape';
const SHA = '0123456789abcdef0123456789abcdef01234567';
const DIGEST = `sha256:${'a'.repeat(64)}`;
const OTHER_DIGEST = `sha256:${'b'.repeat(64)}`;

describe('the pipeline scripts, with stand-ins for aws and gh', () => {
  let tools: { dir: string; path: string };
  beforeAll(() => {
    tools = fakeTools(['aws', 'gh']);
  });
  afterAll(() => rmSync(tools.dir, { recursive: true, force: true }));
  const args = (name: string) => readFileSync(join(tools.dir, `${name}.args`), 'utf8').split('\n');
  const run = (script: string, argv: string[], env: Record<string, string> = {}) =>
    runCommand(`${ROOT}scripts/${script}`, argv, { PATH: tools.path, ...env });

  describe('scripts/ecr-image-digest.sh', () => {
    it("prints the tag's digest, asking the repository's own region", async () => {
      const result = await run('ecr-image-digest.sh', [URI, SHA], { FAKE_OUTPUT: DIGEST });
      expect(result).toMatchObject({ code: 0, stdout: `${DIGEST}\n` });
      expect(args('aws')).toEqual([
        'ecr',
        'describe-images',
        '--region',
        'eu-west-1',
        '--repository-name',
        'shipshape',
        '--image-ids',
        `imageTag=${SHA}`,
        '--query',
        'imageDetails[0].imageDigest',
        '--output',
        'text',
        '',
      ]);
    });

    it('passes when ECR holds the expected digest, and fails when it holds another', async () => {
      const same = await run('ecr-image-digest.sh', [URI, SHA, DIGEST], { FAKE_OUTPUT: DIGEST });
      expect(same.code).toBe(0);
      const other = await run('ecr-image-digest.sh', [URI, SHA, OTHER_DIGEST], {
        FAKE_OUTPUT: DIGEST,
      });
      expect(other).toMatchObject({ code: 1, stdout: '' });
      expect(other.stderr).toContain(`${URI}:${SHA} is ${DIGEST} in ECR, not ${OTHER_DIGEST}`);
    });

    it('fails when ECR has no such image, or cannot be read', async () => {
      const none = await run('ecr-image-digest.sh', [URI, SHA], { FAKE_OUTPUT: 'None' });
      expect(none).toMatchObject({ code: 1, stdout: '' });
      expect(none.stderr).toContain(`ECR has no image ${URI}:${SHA}`);
      const denied = await run('ecr-image-digest.sh', [URI, SHA], { FAKE_EXIT: '254' });
      expect(denied.code).toBe(1);
      expect(denied.stderr).toContain('could not read');
    });

    it.each([
      [['docker.io/library/node', SHA], 'is not an ECR repository URI'],
      [[URI, 'latest'], "'latest' is not a full 40-character git SHA"],
      [[URI, SHA, 'abc'], "'abc' is not an image digest"],
    ])('refuses %j before asking AWS', async (argv, message) => {
      rmSync(join(tools.dir, 'aws.args'), { force: true });
      const { code, stderr } = await run('ecr-image-digest.sh', argv, { FAKE_OUTPUT: DIGEST });
      expect(code).toBe(1);
      expect(stderr).toContain(message);
      expect(() => args('aws')).toThrow();
    });
  });

  describe('scripts/pr-comment.sh', () => {
    const output = join(tmpdir(), `shipshape-pr-comment-${process.pid}.txt`);
    afterAll(() => rmSync(output, { force: true }));

    it('edits its last comment on the pull request, or makes the first one', async () => {
      writeFileSync(
        output,
        '\u001b[1mStack shipshape-staging-service\u001b[22m\n[~] AWS::ECS::Service\n',
      );
      const { code } = await run('pr-comment.sh', ['42', 'cdk diff of staging', output]);
      expect(code).toBe(0);
      expect(args('gh').slice(0, 6)).toEqual([
        'pr',
        'comment',
        '42',
        '--edit-last',
        '--create-if-none',
        '--body-file',
      ]);
      // The colour codes the CDK writes on GitHub Actions are gone.
      expect(readFileSync(join(tools.dir, 'gh.body'), 'utf8')).toBe(
        '### cdk diff of staging\n\n```\nStack shipshape-staging-service\n[~] AWS::ECS::Service\n```\n',
      );
    });

    it('cuts an output longer than a GitHub comment may be, and says so', async () => {
      writeFileSync(output, 'x'.repeat(100_000));
      expect((await run('pr-comment.sh', ['42', 'cdk diff', output])).code).toBe(0);
      const body = readFileSync(join(tools.dir, 'gh.body'), 'utf8');
      expect(body.length).toBeLessThan(65_536);
      expect(body).toContain('cut at 60000 of 100000 characters');
      expect(body.endsWith('```\n')).toBe(true);
    });

    it('fails when gh does, and refuses what is not a pull request number', async () => {
      writeFileSync(output, 'diff\n');
      expect(
        (await run('pr-comment.sh', ['42', 'cdk diff', output], { FAKE_EXIT: '1' })).code,
      ).toBe(1);
      const bad = await run('pr-comment.sh', ['main', 'cdk diff', output]);
      expect(bad.code).toBe(1);
      expect(bad.stderr).toContain("'main' is not a pull request number");
    });
  });

  describe('scripts/require-env.sh', () => {
    it('names every variable that is unset or empty', async () => {
      const ok = await run('require-env.sh', ['AWS_REGION'], { AWS_REGION: 'eu-west-1' });
      expect(ok.code).toBe(0);
      const missing = await run('require-env.sh', ['AWS_REGION', 'ECR_REPOSITORY_URI'], {
        AWS_REGION: '',
        ECR_REPOSITORY_URI: '',
      });
      expect(missing.code).toBe(1);
      expect(missing.stderr).toContain('not set: AWS_REGION ECR_REPOSITORY_URI');
    });
  });
});
