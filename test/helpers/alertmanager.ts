import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from './ports.js';
import { waitFor } from './wait.js';

/** Debian's Alertmanager and amtool (package prometheus-alertmanager, 0.25). */
export const ALERTMANAGER_PATH = '/usr/bin/prometheus-alertmanager';
export const AMTOOL_PATH = '/usr/bin/amtool';
export const ALERTMANAGER_DIR = fileURLToPath(
  new URL('../../deploy/compose/alertmanager/', import.meta.url),
);

/** True when both are installed. On CI their absence fails the run instead. */
export const alertmanagerAvailable = existsSync(ALERTMANAGER_PATH) && existsSync(AMTOOL_PATH);
if (!alertmanagerAvailable) {
  const missing = `${ALERTMANAGER_PATH} and ${AMTOOL_PATH}`;
  if (process.env.CI) throw new Error(`CI needs ${missing} for the Alertmanager tests`);
  console.warn(
    `\n*** SKIPPING Alertmanager tests: no ${missing} (apt-get install prometheus-alertmanager). ***\n`,
  );
}

/**
 * What the compose container does at start: render-config.sh on the committed config, with
 * only `env` (and PATH). Returns the config it printed and its log lines.
 */
export function renderConfig(env: Record<string, string> = {}): {
  status: number | null;
  config: string;
  log: string[];
} {
  const result = spawnSync('sh', ['render-config.sh', 'alertmanager.yml'], {
    cwd: ALERTMANAGER_DIR,
    env: { PATH: process.env.PATH ?? '', ...env },
    encoding: 'utf8',
    timeout: 10_000,
  });
  const log = result.stderr.split('\n').filter((line) => line !== '');
  return { status: result.status, config: result.stdout, log };
}

/** Runs amtool; returns its exit code and everything it printed. */
export function amtool(args: string[]): { status: number | null; output: string } {
  const result = spawnSync(AMTOOL_PATH, args, { encoding: 'utf8', timeout: 30_000 });
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

/** A config written to a file of its own, for amtool or Alertmanager; `remove` cleans up. */
export function writeConfig(config: string): { dir: string; file: string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'shipshape-alertmanager-'));
  const file = join(dir, 'alertmanager.yml');
  writeFileSync(file, config);
  return { dir, file, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** One notification as Alertmanager's webhook sends it (the fields the tests read). */
export interface Notification {
  receiver: string;
  status: string;
  alerts: { labels: Record<string, string> }[];
  /** When it arrived, in ms since the epoch. */
  at: number;
}

/** An HTTP server on 127.0.0.1 that records every notification posted to it, by path. */
export async function startWebhookServer(): Promise<{
  url: (path: string) => string;
  received: (path: string) => Notification[];
  close: () => Promise<void>;
}> {
  const byPath = new Map<string, Notification[]>();
  const server = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString()));
    request.on('end', () => {
      const notification = { ...(JSON.parse(body) as Notification), at: Date.now() };
      byPath.set(request.url ?? '', [...(byPath.get(request.url ?? '') ?? []), notification]);
      response.writeHead(200).end();
    });
  });
  const port = await freePort();
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return {
    url: (path) => `http://127.0.0.1:${port}${path}`,
    received: (path) => byPath.get(path) ?? [],
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** A running Alertmanager: its API's base URL, what it logged, and a stop that cleans up. */
export interface RunningAlertmanager {
  baseUrl: string;
  output: () => string;
  stop: () => Promise<void>;
}

/** Runs Debian's Alertmanager on `config`, on a free loopback port, alone (no cluster). */
export async function startAlertmanager(config: string): Promise<RunningAlertmanager> {
  const { dir, file, remove } = writeConfig(config);
  const port = await freePort();
  const child = spawn(
    ALERTMANAGER_PATH,
    [
      `--config.file=${file}`,
      `--storage.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--cluster.listen-address=',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  const baseUrl = `http://127.0.0.1:${port}`;
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
    remove();
  };
  try {
    await waitFor('Alertmanager to be ready', async () => {
      if (child.exitCode !== null) throw new Error(`Alertmanager exited: ${output}`);
      const response = await fetch(`${baseUrl}/-/ready`).catch(() => undefined);
      return response?.status === 200;
    });
  } catch (error) {
    await stop();
    throw error;
  }
  return { baseUrl, output: () => output, stop };
}
