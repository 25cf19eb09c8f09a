import { accessSync, constants, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import {
  ROOT,
  job,
  packageScripts,
  readWorkflow,
  runScripts,
  stepWithId,
  stepsUsing,
  workflowNames,
} from './workflow-files.js';

const ci = readWorkflow('ci.yml');

describe('ci.yml', () => {
  it('runs on every pull request and on pushes to main, cancelling superseded runs', () => {
    expect(ci.on).toEqual({ pull_request: null, push: { branches: ['main'] } });
    expect(ci.concurrency).toEqual({
      group: 'ci-${{ github.event.pull_request.number || github.ref }}',
      'cancel-in-progress': true,
    });
  });

  it('has a job per concern, the long ones waiting for lint and types', () => {
    expect(Object.keys(ci.jobs)).toEqual([
      'lint',
      'dependencies',
      'test',
      'schema-compat',
      'infra',
      'k8s',
      'container',
      'diff',
    ]);
    for (const id of ['test', 'schema-compat', 'infra', 'k8s', 'container'])
      expect(job(ci, id).needs).toBe('lint');
    expect(runScripts(job(ci, 'lint'))).toMatch(/npm run lint\nnpm run typecheck/);
  });

  it("runs the previous release's HTTP tests on the new migrations, with the whole history", () => {
    const compat = job(ci, 'schema-compat');
    const test = job(ci, 'test');
    expect(compat.services).toEqual(test.services);
    expect(compat.env).toEqual(test.env);
    const checkout = compat.steps?.find((step) => step.uses?.startsWith('actions/checkout@'));
    expect(checkout?.with).toMatchObject({ 'fetch-depth': 0 });
    expect(runScripts(compat).trim()).toBe('make ci-schema-compat');
    // On a pull request, against where the branch left its target (scripts/schema-compat.sh).
    const run = (compat.steps ?? []).find((step) => step.run === 'make ci-schema-compat');
    expect(run?.env).toEqual({
      SCHEMA_COMPAT_BASE:
        "${{ github.event_name == 'pull_request' && format('origin/{0}', github.base_ref) || '' }}",
    });
  });

  it("runs the backup test's pg_dump and pg_restore in the PostgreSQL container, its version", () => {
    // The runner's client tools are older than the service's server, and pg_dump refuses a
    // newer server: the test takes the prefix that runs them in the service container.
    const test = job(ci, 'test');
    expect(Object.keys(test.services ?? {})).toContain('postgres');
    const run = (test.steps ?? []).find((step) => step.run === 'npm run test:ci');
    expect(run?.env).toEqual({ TEST_PG_EXEC: 'docker exec -i ${{ job.services.postgres.id }}' });
    const backupTest = readFileSync(`${ROOT}test/deploy/backup-restore.test.ts`, 'utf8');
    expect(backupTest).toContain('process.env.TEST_PG_EXEC');
  });

  it('tests against PostgreSQL and Redis service containers, as the suite expects them', () => {
    const test = job(ci, 'test');
    expect(Object.keys(test.services ?? {})).toEqual(['postgres', 'redis']);
    expect(test.env).toEqual({
      TEST_POSTGRES_URL: 'postgres://postgres@127.0.0.1:5432/postgres',
      TEST_REDIS_URL: 'redis://127.0.0.1:6379',
    });
    const run = runScripts(test);
    expect(run).toContain('/usr/bin/chromium --version');
    expect(run).toMatch(/apt-get install .*nginx prometheus/);
    expect(run).toContain('npm run test:ci');
  });

  it('synthesizes and tests the CDK app, renders the Kubernetes manifests, smoke-tests the image', () => {
    expect(runScripts(job(ci, 'infra'))).toMatch(/npm run synth\nnpm run test:infra/);
    expect(runScripts(job(ci, 'k8s'))).toContain('npm run test:k8s');
    expect(runScripts(job(ci, 'container'))).toContain('make smoke');
  });

  it('writes JUnit reports and uploads them, coverage and the screenshots, also on failure', () => {
    for (const name of ['test:ci', 'test:infra', 'test:k8s']) {
      expect(packageScripts[name], name).toMatch(
        /--reporter=default --reporter=junit --outputFile\.junit=reports\/junit\/\w+\.xml/,
      );
    }
    for (const id of ['test', 'infra', 'k8s']) {
      const [upload, ...more] = stepsUsing(job(ci, id), 'actions/upload-artifact');
      expect(more).toEqual([]);
      expect(upload?.if).toBe('always()');
      expect(String(upload?.with?.path)).toContain('reports/');
    }
    const testUpload = stepsUsing(job(ci, 'test'), 'actions/upload-artifact')[0];
    expect(String(testUpload?.with?.path).split('\n')).toEqual(
      expect.arrayContaining(['coverage/', 'docs/images/']),
    );
  });

  it('caches npm wherever it sets up Node', () => {
    for (const workflow of workflowNames.map(readWorkflow)) {
      for (const found of Object.values(workflow.jobs)) {
        for (const step of stepsUsing(found, 'actions/setup-node')) {
          expect(step.with).toEqual({ 'node-version': 24, cache: 'npm' });
        }
      }
    }
  });

  it('diffs staging on pull requests from this repository only, through the diff role', () => {
    const diff = job(ci, 'diff');
    expect(diff.if).toContain("github.event_name == 'pull_request'");
    expect(diff.if).toContain('github.event.pull_request.head.repo.full_name == github.repository');
    expect(diff.needs).toBeUndefined();
    const [credentials] = stepsUsing(diff, 'aws-actions/configure-aws-credentials');
    expect(credentials?.with).toEqual({
      'role-to-assume': '${{ vars.AWS_DIFF_ROLE_ARN }}',
      'aws-region': '${{ vars.AWS_REGION }}',
    });
    const run = stepWithId(diff.steps, 'diff');
    expect(run.env).toEqual({ IMAGE_TAG: '${{ github.event.pull_request.head.sha }}' });
    expect(run.run).toContain('npm run --silent diff:staging');
    // The diff role may assume only CDK's lookup role, which can read templates but cannot
    // create a change set.
    expect(packageScripts['diff:staging']).toBe(
      "cd infra/aws && cdk diff --no-change-set -c imageTag=${IMAGE_TAG:-$(git rev-parse HEAD)} 'shipshape-staging-*'",
    );
    const comment = (diff.steps ?? []).find((step) => step.run?.includes('pr-comment.sh'));
    expect(comment?.env?.GH_TOKEN).toBe('${{ github.token }}');
  });
});

describe('dependabot.yml', () => {
  const config = parse(readFileSync(`${ROOT}.github/dependabot.yml`, 'utf8')) as {
    version: number;
    updates: {
      'package-ecosystem': string;
      directory: string;
      schedule: { interval: string };
      'open-pull-requests-limit': number;
      groups?: Record<string, { 'update-types'?: string[] }>;
    }[];
  };

  it('updates npm (with the workspaces), the actions and the base image, weekly, a few at a time', () => {
    expect(config.version).toBe(2);
    expect(config.updates.map((update) => update['package-ecosystem'])).toEqual([
      'npm',
      'github-actions',
      'docker',
    ]);
    for (const update of config.updates) {
      expect(update.directory).toBe('/');
      expect(update.schedule.interval).toBe('weekly');
      expect(update['open-pull-requests-limit']).toBeLessThanOrEqual(5);
    }
    const npmGroups = Object.values(config.updates[0]?.groups ?? {});
    expect(npmGroups.map((group) => group['update-types'])).toEqual([['minor', 'patch']]);
  });
});

describe('local parity: every command a workflow runs exists here', () => {
  const makefile = readFileSync(`${ROOT}Makefile`, 'utf8');
  const runs = workflowNames.flatMap((name) =>
    Object.values(readWorkflow(name).jobs).flatMap((found) =>
      (found.steps ?? []).map((step) => step.run ?? ''),
    ),
  );

  it('names only npm scripts package.json has', () => {
    const named = runs.flatMap((run) =>
      [...run.matchAll(/npm run (?:--silent )?([\w:-]+)/g)].map((match) => match[1] ?? ''),
    );
    expect(named.length).toBeGreaterThan(10);
    for (const name of named) expect(Object.keys(packageScripts), name).toContain(name);
  });

  it('names only make verbs the Makefile has, and scripts that exist and run', () => {
    for (const run of runs) {
      for (const [, verb] of run.matchAll(/\bmake ([\w-]+)/g)) {
        expect(makefile, `make ${verb ?? ''}`).toMatch(new RegExp(`^${verb ?? ''}:`, 'm'));
      }
      for (const [script] of run.matchAll(/scripts\/[\w.-]+\.sh/g)) {
        expect(() => accessSync(`${ROOT}${script}`, constants.X_OK), script).not.toThrow();
      }
    }
  });

  const recipe = (verb: string) =>
    (new RegExp(`^${verb}:.*\\n((?:\\t.*\\n)+)`, 'm').exec(makefile)?.[1] ?? '')
      .trim()
      .split('\n')
      .map((line) => line.trim());

  it.each([
    ['lint', 'ci-lint'],
    ['dependencies', 'ci-dependencies'],
    ['test', 'ci-test'],
    ['infra', 'ci-infra'],
    ['k8s', 'ci-k8s'],
  ])('the %s job runs, after npm ci, exactly what make %s runs', (id, verb) => {
    const runs = (job(ci, id).steps ?? []).flatMap((step) =>
      step.run === undefined ? [] : [step.run.trim()],
    );
    const install = runs.indexOf('npm ci --no-audit --no-fund');
    expect(install, id).toBeGreaterThanOrEqual(0);
    expect(runs.slice(install + 1)).toEqual(recipe(verb));
  });

  it('lists a make verb for each CI job, running the same npm scripts', () => {
    for (const [verb, commands] of [
      ['ci-lint', ['npm run lint', 'npm run typecheck']],
      ['ci-dependencies', ['npm audit signatures', 'npm audit --audit-level=high --omit=dev']],
      ['ci-test', ['npm run test:ci']],
      ['ci-schema-compat', ['scripts/schema-compat.sh']],
      ['ci-infra', ['npm run synth', 'npm run test:infra']],
      ['ci-k8s', ['npm run test:k8s']],
      ['ci-diff', ['npm run diff:staging']],
    ] as const) {
      expect(recipe(verb), verb).toEqual(commands);
    }
  });
});
