import { spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';

/** The repository root, with a trailing slash. */
export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const WORKFLOWS_DIR = `${ROOT}.github/workflows/`;

/** A workflow step or job, loosely typed: the tests read what they assert. */
export interface Step {
  name?: string;
  id?: string;
  if?: string;
  uses?: string;
  run?: string;
  with?: Record<string, unknown>;
  env?: Record<string, string>;
}

export interface Job {
  name?: string;
  needs?: string | string[];
  if?: string;
  permissions?: Record<string, string>;
  environment?: string | { name: string; url?: string };
  concurrency?: { group: string; 'cancel-in-progress'?: boolean };
  services?: Record<string, { image: string; env?: Record<string, string> }>;
  container?: string | { image: string };
  env?: Record<string, string>;
  outputs?: Record<string, string>;
  steps?: Step[];
  uses?: string;
  with?: Record<string, string>;
}

export interface Workflow {
  name: string;
  on: Record<string, unknown>;
  permissions?: Record<string, string> | string;
  concurrency?: { group: string; 'cancel-in-progress'?: boolean };
  jobs: Record<string, Job>;
}

/** package.json's npm scripts, the verbs the workflows call. */
export const packageScripts = (
  JSON.parse(readFileSync(`${ROOT}package.json`, 'utf8')) as { scripts: Record<string, string> }
).scripts;

/** The workflow files, by name (`ci.yml`, …). */
export const workflowNames = readdirSync(WORKFLOWS_DIR)
  .filter((name) => /\.ya?ml$/.test(name))
  .sort();

export function workflowText(name: string): string {
  return readFileSync(`${WORKFLOWS_DIR}${name}`, 'utf8');
}

export function readWorkflow(name: string): Workflow {
  return parse(workflowText(name)) as Workflow;
}

/** The named job; a missing one fails the test that asked for it. */
export function job(workflow: Workflow, name: string): Job {
  const found = workflow.jobs[name];
  if (found === undefined) throw new Error(`${workflow.name} has no job ${name}`);
  return found;
}

/** The one step of `steps` with this id; none or several fail the test that asked. */
export function stepWithId(steps: Step[] | undefined, id: string): Step {
  const found = (steps ?? []).filter((step) => step.id === id);
  if (found.length !== 1) throw new Error(`expected one step with id ${id}, found ${found.length}`);
  return found[0] as Step;
}

/** The job's steps that use an action whose name starts with `action` (`owner/repo`). */
export function stepsUsing(found: Job, action: string): Step[] {
  return (found.steps ?? []).filter((step) => step.uses?.startsWith(`${action}@`) === true);
}

/** The job's `run` scripts, joined, to look for a command in. */
export function runScripts(found: Job): string {
  return (found.steps ?? []).map((step) => step.run ?? '').join('\n');
}

/** Every `uses:` of every workflow, job-level (reusable workflows) and step-level. */
export function allUses(): { workflow: string; uses: string }[] {
  return workflowNames.flatMap((name) =>
    Object.values(readWorkflow(name).jobs).flatMap((found) =>
      [found.uses, ...(found.steps ?? []).map((step) => step.uses)]
        .filter((uses): uses is string => uses !== undefined)
        .map((uses) => ({ workflow: name, uses })),
    ),
  );
}

/** A command's exit code and output; `env` is added to this process's environment. */
export async function runCommand(
  command: string,
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(command, args, {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  return { code, stdout, stderr };
}

/**
 * A folder with stand-ins for the CLIs the scripts call (aws, gh, cosign, docker): each
 * writes its arguments to `<name>.args`, copies a --body-file to `<name>.body`, prints
 * FAKE_OUTPUT and exits with FAKE_EXIT_<name>, else FAKE_EXIT. Put first on PATH, the real
 * tools are never reached.
 */
export function fakeTools(names: string[]): { dir: string; path: string } {
  const dir = mkdtempSync(join(tmpdir(), 'shipshape-fake-tools-'));
  for (const name of names) {
    const file = join(dir, name);
    writeFileSync(
      file,
      `#!/usr/bin/env bash
printf '%s\\n' "$@" > "${dir}/${name}.args"
while (($#)); do [[ $1 == --body-file ]] && cp "$2" "${dir}/${name}.body"; shift; done
[[ -z \${FAKE_OUTPUT:-} ]] || printf '%s\\n' "$FAKE_OUTPUT"
exit "\${FAKE_EXIT_${name}:-\${FAKE_EXIT:-0}}"
`,
    );
    chmodSync(file, 0o755);
  }
  return { dir, path: `${dir}:${process.env.PATH ?? ''}` };
}
