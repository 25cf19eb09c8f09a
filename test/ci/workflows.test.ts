import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  ROOT,
  WORKFLOWS_DIR,
  allUses,
  readWorkflow,
  runCommand,
  workflowNames,
  workflowText,
  type Job,
} from './workflow-files.js';

const VALIDATOR = `${ROOT}node_modules/.bin/action-validator`;
const validate = (file: string) => runCommand(VALIDATOR, [file]);

describe('the workflows against the GitHub Actions workflow schema (action-validator)', () => {
  it('has the three workflows', () => {
    expect(workflowNames).toEqual(['ci.yml', 'deploy.yml', 'release.yml']);
  });

  it.each(workflowNames)('%s is valid', async (name) => {
    expect(await validate(`${WORKFLOWS_DIR}${name}`)).toEqual({ code: 0, stdout: '', stderr: '' });
  });

  describe('on workflows written to a temporary folder', () => {
    const dir = mkdtempSync(join(tmpdir(), 'shipshape-workflows-'));
    afterAll(() => rmSync(dir, { recursive: true, force: true }));
    const write = (name: string, text: string) => {
      writeFileSync(join(dir, name), text);
      return join(dir, name);
    };
    const job = (body: string) => `on: push\njobs:\n  check:\n${body}`;

    it('accepts a minimal valid workflow, so the failures below are the schema’s', async () => {
      const file = write(
        'valid.yml',
        job('    runs-on: ubuntu-24.04\n    steps:\n      - run: echo ok\n'),
      );
      expect((await validate(file)).code).toBe(0);
    });

    it('rejects a misspelt key', async () => {
      const file = write(
        'typo.yml',
        job('    runs-on: ubuntu-24.04\n    stepz:\n      - run: echo ok\n'),
      );
      const { code, stderr } = await validate(file);
      expect(code).toBe(1);
      expect(stderr).toContain("Additional property 'stepz' is not allowed");
    });

    it('rejects a value of the wrong type (a script that is a boolean)', async () => {
      const file = write(
        'boolean.yml',
        job('    runs-on: ubuntu-24.04\n    steps:\n      - run: true\n'),
      );
      const { code, stderr } = await validate(file);
      expect(code).toBe(1);
      expect(stderr).toContain('The value must be string');
    });

    it('rejects a step that neither runs nor uses anything', async () => {
      const file = write(
        'empty-step.yml',
        job('    runs-on: ubuntu-24.04\n    steps:\n      - name: nothing\n'),
      );
      expect((await validate(file)).code).toBe(1);
    });

    it('rejects text that is not YAML', async () => {
      const file = write('broken.yml', job('    runs-on: [ubuntu-24.04\n'));
      const { code, stderr } = await validate(file);
      expect(code).toBe(1);
      expect(stderr).toContain('parse_error');
    });
  });
});

describe('what the workflows run', () => {
  const remote = allUses().filter(({ uses }) => !uses.startsWith('./'));

  it('pins every action to a full commit SHA, with its version in a comment', () => {
    expect(remote.length).toBeGreaterThan(10);
    for (const { workflow, uses } of remote) {
      expect(uses, `${workflow}: ${uses}`).toMatch(/^[\w.-]+\/[\w./-]+@[0-9a-f]{40}$/);
      const lines = workflowText(workflow)
        .split('\n')
        .filter((line) => line.includes(`uses: ${uses}`));
      for (const line of lines) expect(line, workflow).toMatch(/ # v\d+\.\d+\.\d+$/);
    }
  });

  it('pins each action to one SHA and one version everywhere', () => {
    const pins = new Map<string, Set<string>>();
    for (const name of workflowNames) {
      for (const [, action, pin] of workflowText(name).matchAll(/uses: ([^@\s]+)@(\S+ # \S+)/g)) {
        pins.set(action ?? '', (pins.get(action ?? '') ?? new Set()).add(pin ?? ''));
      }
    }
    for (const [action, versions] of pins) expect([...versions], action).toHaveLength(1);
  });

  it('calls only this repository’s own reusable workflows by path', () => {
    const local = allUses().filter(({ uses }) => uses.startsWith('./'));
    expect(local).toEqual([{ workflow: 'release.yml', uses: './.github/workflows/deploy.yml' }]);
  });

  it('runs no image by `latest`, and every image by a version tag', () => {
    const images: string[] = [];
    for (const name of workflowNames) {
      const text = workflowText(name);
      expect(text, name).not.toMatch(/:latest\b/);
      for (const found of Object.values(readWorkflow(name).jobs)) {
        images.push(...Object.values(found.services ?? {}).map((service) => service.image));
        if (found.container !== undefined) images.push(imageOf(found.container));
      }
      images.push(...[...text.matchAll(/^\s+image: (\S+)$/gm)].map((match) => match[1] ?? ''));
      images.push(...[...text.matchAll(/image=(\S+)/g)].map((match) => match[1] ?? ''));
    }
    expect(images.length).toBeGreaterThanOrEqual(4);
    for (const image of images) {
      expect(image).toMatch(/^[\w./-]+:[\w.-]+(@sha256:[0-9a-f]{64})?$/);
      // A tag with a version number in it, not a moving name like `stable` or `lts`.
      expect(image.replace(/@.*/, '').split(':')[1]).toMatch(/\d+\.\d+/);
    }
  });

  it('runs every service container by version tag and digest', () => {
    const services = workflowNames.flatMap((name) =>
      Object.values(readWorkflow(name).jobs).flatMap((found) =>
        Object.values(found.services ?? {}),
      ),
    );
    expect(new Set(services.map((service) => service.image.split(':')[0]))).toEqual(
      new Set(['postgres', 'redis']),
    );
    // One version of each wherever it runs.
    expect(new Set(services.map((service) => service.image)).size).toBe(2);
    for (const { image } of services) expect(image).toMatch(/:\d[\w.-]*@sha256:[0-9a-f]{64}$/);
  });
});

function imageOf(container: Job['container']): string {
  return typeof container === 'string' ? container : (container?.image ?? '');
}

describe('permissions and credentials', () => {
  it('gives every workflow read-only contents at the top', () => {
    for (const name of workflowNames) {
      expect(readWorkflow(name).permissions, name).toEqual({ contents: 'read' });
    }
  });

  it('widens permissions on these jobs only, each for what it does', () => {
    const widened = workflowNames.flatMap((name) =>
      Object.entries(readWorkflow(name).jobs)
        .filter(([, found]) => found.permissions !== undefined)
        .map(([id, found]) => [`${name}:${id}`, found.permissions]),
    );
    expect(Object.fromEntries(widened)).toEqual({
      'ci.yml:diff': { contents: 'read', 'id-token': 'write', 'pull-requests': 'write' },
      'deploy.yml:staging': { contents: 'read', 'id-token': 'write' },
      'deploy.yml:production': { contents: 'read', 'id-token': 'write' },
      'release.yml:image': { contents: 'read', packages: 'write', 'id-token': 'write' },
      'release.yml:deploy': { contents: 'read', 'id-token': 'write' },
      // The verified digest committed to the staging overlay, which Argo CD follows.
      'release.yml:promote-kubernetes-staging': { contents: 'write', packages: 'read' },
    });
  });

  it('asks for an OIDC token only in jobs that assume an AWS role or sign', () => {
    const assumesOrSigns = (found: Job): boolean =>
      found.uses === './.github/workflows/deploy.yml'
        ? Object.values(readWorkflow('deploy.yml').jobs).some(assumesOrSigns)
        : (found.steps ?? []).some(
            (step) =>
              step.uses?.startsWith('aws-actions/configure-aws-credentials@') === true ||
              step.run?.includes('cosign sign') === true,
          );
    for (const name of workflowNames) {
      for (const [id, found] of Object.entries(readWorkflow(name).jobs)) {
        const oidc = found.permissions?.['id-token'] === 'write';
        expect(oidc, `${name}:${id}`).toBe(assumesOrSigns(found));
      }
    }
  });

  it('holds no long-lived AWS key anywhere, and no secret but the GitHub token', () => {
    const scripts = readdirSync(`${ROOT}scripts`).map((file) => `scripts/${file}`);
    const files = [
      ...workflowNames.map((name) => `.github/workflows/${name}`),
      '.github/dependabot.yml',
      'package.json',
      'Makefile',
      ...scripts,
    ];
    for (const file of files) {
      const text = readFileSync(`${ROOT}${file}`, 'utf8');
      expect(text, file).not.toMatch(/aws-access-key-id|aws-secret-access-key/i);
      expect(text, file).not.toMatch(/AWS_(SECRET_)?ACCESS_KEY(_ID)?/);
      const secrets = [...text.matchAll(/secrets\.(\w+)/g)].map((match) => match[1]);
      expect(new Set(secrets), file).toEqual(new Set(secrets.length > 0 ? ['GITHUB_TOKEN'] : []));
    }
  });

  it('never expands an expression inside a script, where input could become code', () => {
    for (const name of workflowNames) {
      for (const [id, found] of Object.entries(readWorkflow(name).jobs)) {
        for (const step of found.steps ?? []) {
          expect(step.run ?? '', `${name}:${id}: ${step.name ?? step.run ?? ''}`).not.toContain(
            '${{',
          );
        }
      }
    }
  });
});
