import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { job, readWorkflow, ROOT, type Step } from '../ci/workflow-files.js';
import { K8S_DIR, kustomize, kustomizeAvailable } from '../helpers/kustomize.js';

const SHA = '0123456789abcdef0123456789abcdef01234567';
const DIGEST = `sha256:${'c'.repeat(64)}`;

function promote(overlay: string, ...argv: string[]) {
  return spawnSync(join(ROOT, 'scripts/promote-k8s.sh'), [overlay, ...argv], {
    encoding: 'utf8',
  });
}

describe.runIf(kustomizeAvailable)('scripts/promote-k8s.sh', () => {
  let copy: string;
  beforeEach(() => {
    // The whole tree: an overlay reaches its base through ../../base.
    copy = mkdtempSync(join(tmpdir(), 'shipshape-k8s-'));
    cpSync(K8S_DIR, copy, { recursive: true });
  });
  afterEach(() => rmSync(copy, { recursive: true, force: true }));

  it.each(['staging', 'production'])(
    'points the %s overlay at the image by digest, changing nothing else',
    (environment) => {
      const file = join(copy, 'overlays', environment, 'kustomization.yaml');
      const before = readFileSync(file, 'utf8').split('\n');
      const result = promote(join(copy, 'overlays', environment), SHA, DIGEST);
      expect(result.status, result.stderr).toBe(0);

      const after = readFileSync(file, 'utf8').split('\n');
      const changed = after.filter((line, index) => line !== before[index]);
      expect(changed).toEqual([`    newTag: ${SHA}`, `    digest: ${DIGEST}`]);
      const containers = kustomize(join(copy, 'overlays', environment))
        .filter((object) => object.kind === 'Deployment' || object.kind === 'Job')
        .flatMap((object) => {
          const spec = object.spec as {
            template: { spec: { containers: { image: string }[] } };
          };
          return spec.template.spec.containers.map((container) => container.image);
        })
        .filter((image) => image.includes('shipshape'));
      expect(containers.length).toBeGreaterThan(0);
      for (const image of containers)
        expect(image).toBe(`ghcr.io/shipshape-dev/shipshape:${SHA}@${DIGEST}`);
    },
  );

  it.each([
    ['a short SHA', SHA.slice(0, 12), DIGEST, 'not a full 40-character git SHA'],
    ['a tag for a digest', SHA, 'latest', 'not an image digest'],
  ])('refuses %s and leaves the overlay alone', (_case, sha, digest, message) => {
    const file = join(copy, 'overlays', 'staging', 'kustomization.yaml');
    const before = readFileSync(file, 'utf8');
    const result = promote(join(copy, 'overlays', 'staging'), sha, digest);
    expect(result.status).toBe(1);
    expect(result.stderr).toContain(message);
    expect(readFileSync(file, 'utf8')).toBe(before);
  });
});

describe('release.yml promotes Kubernetes staging', () => {
  const found = job(readWorkflow('release.yml'), 'promote-kubernetes-staging');
  const steps = found.steps ?? [];
  const position = (matches: (step: Step) => boolean) => steps.findIndex(matches);

  it('for main only, once the image is built, one promotion at a time', () => {
    expect(found.needs).toBe('image');
    expect(found.if).toBe("github.ref == 'refs/heads/main'");
    expect(found.concurrency).toEqual({
      group: 'promote-kubernetes-staging',
      'cancel-in-progress': false,
    });
    expect(found.permissions).toEqual({ contents: 'write', packages: 'read' });
  });

  it("verifies GHCR's image before it writes the digest, and commits only the staging overlay", () => {
    const verify = position((step) => step.id === 'verify');
    const edit = position((step) => step.run?.includes('scripts/promote-k8s.sh') === true);
    const push = position((step) => step.run?.includes('git push origin HEAD:main') === true);
    expect(verify).toBeGreaterThan(0);
    expect([verify, edit, push]).toEqual([verify, verify + 1, verify + 2]);
    expect(steps[verify]?.run).toBe(
      'scripts/verify-image.sh "ghcr.io/${GITHUB_REPOSITORY,,}" "$SHA" "$DIGEST" "$GITHUB_REPOSITORY"',
    );
    expect(steps[edit]?.run).toBe(
      'scripts/promote-k8s.sh deploy/k8s/overlays/staging "$SHA" "$DIGEST"',
    );
    expect(steps[push]?.run).toContain('git add deploy/k8s/overlays/staging/kustomization.yaml\n');
    expect(found.env).toEqual({
      SHA: '${{ needs.image.outputs.sha }}',
      DIGEST: '${{ needs.image.outputs.digest }}',
    });
  });
});
