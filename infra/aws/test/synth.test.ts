import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = join(__dirname, '..', '..', '..');
const out = join(__dirname, '..', 'cdk.out');

describe('npm run synth', () => {
  it('synthesizes both environments to infra/aws/cdk.out with no AWS credentials or network', () => {
    rmSync(out, { recursive: true, force: true });
    const env = Object.fromEntries(
      Object.entries(process.env).filter(([key]) => !key.startsWith('AWS_')),
    );
    const result = spawnSync('npm', ['run', 'synth'], {
      cwd: root,
      // No credentials, no instance metadata to fall back on.
      env: {
        ...env,
        AWS_EC2_METADATA_DISABLED: 'true',
        AWS_CONFIG_FILE: '/dev/null',
        AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
        // No network either: every proxy-aware client (npm, the CDK CLI, the AWS SDK) is sent to
        // the discard port, where nothing listens, so a lookup or download fails the synth.
        HTTPS_PROXY: 'http://127.0.0.1:9',
        HTTP_PROXY: 'http://127.0.0.1:9',
        https_proxy: 'http://127.0.0.1:9',
        http_proxy: 'http://127.0.0.1:9',
        NO_PROXY: '',
        no_proxy: '',
      },
      encoding: 'utf8',
      timeout: 120_000,
    });
    expect(result.status, result.stderr + result.stdout).toBe(0);
    const manifest = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8')) as {
      artifacts: Record<string, { type: string }>;
    };
    const stacks = Object.entries(manifest.artifacts)
      .filter(([, artifact]) => artifact.type === 'aws:cloudformation:stack')
      .map(([name]) => name)
      .sort();
    expect(stacks).toEqual(
      [
        'shipshape-shared',
        ...['staging', 'production'].flatMap((name) =>
          ['network', 'data', 'service'].map((kind) => `shipshape-${name}-${kind}`),
        ),
        // Production's backups are copied to a vault in a second region.
        'shipshape-production-backup-copy',
      ].sort(),
    );
    for (const stack of stacks) expect(existsSync(join(out, `${stack}.template.json`))).toBe(true);
  }, 120_000);
});
