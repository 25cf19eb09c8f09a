import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import {
  closeSync,
  existsSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { waitFor } from './wait.js';

/** Debian's nginx, which runs the repository's own reverse-proxy config in the tests. */
export const NGINX_PATH = '/usr/sbin/nginx';
export const NGINX_CONFIG = new URL('../../deploy/compose/nginx/nginx.conf', import.meta.url);

/** True when nginx is installed. On CI its absence fails the run instead. */
export const nginxAvailable = existsSync(NGINX_PATH);
if (!nginxAvailable) {
  if (process.env.CI) throw new Error(`CI needs nginx at ${NGINX_PATH} for the proxy tests`);
  console.warn(`\n*** SKIPPING nginx tests: no ${NGINX_PATH} (apt-get install nginx). ***\n`);
}

// The only two lines that name the compose network; everything else runs as committed.
const UPSTREAM_SERVER = /^(\s*)server app:3000( [^;]*)?;$/m;
const LISTEN = /^(\s*)listen 8080;$/m;

/** A replica's port on 127.0.0.1, with a weight when one must be picked first. */
export type Upstream = number | { port: number; weight: number };

/** The committed config, listening on 127.0.0.1:`port` in front of `upstreams`. */
export function renderNginxConfig(port: number, upstreams: Upstream[]): string {
  const config = readFileSync(NGINX_CONFIG, 'utf8');
  if (!UPSTREAM_SERVER.test(config) || !LISTEN.test(config)) {
    throw new Error('nginx.conf no longer has `server app:3000 …;` and `listen 8080;`');
  }
  const server = (upstream: Upstream) =>
    typeof upstream === 'number'
      ? `server 127.0.0.1:${upstream}`
      : `server 127.0.0.1:${upstream.port} weight=${upstream.weight}`;
  return config
    .replace(UPSTREAM_SERVER, (_line, indent: string, parameters = '') =>
      upstreams
        .map((upstream) => `${indent}${server(upstream)}${parameters as string};`)
        .join('\n'),
    )
    .replace(LISTEN, `$1listen 127.0.0.1:${port};`);
}

/** Where a rendered config lives, and the arguments that keep nginx inside that folder. */
function prepare(config: string): { dir: string; args: string[] } {
  const dir = mkdtempSync(join(tmpdir(), 'shipshape-nginx-'));
  writeFileSync(join(dir, 'nginx.conf'), config);
  const args = ['-p', dir, '-c', join(dir, 'nginx.conf'), '-e', 'stderr'];
  return { dir, args: [...args, '-g', `daemon off; pid ${join(dir, 'nginx.pid')};`] };
}

/** `nginx -t` on a rendered config: the exit code and what nginx said. */
export function checkNginxConfig(config: string): { status: number | null; output: string } {
  const { dir, args } = prepare(config);
  try {
    // nginx opens /dev/stdout for the access log, which fails on a socket: no stdout here.
    const result = spawnSync(NGINX_PATH, ['-t', ...args], {
      encoding: 'utf8',
      stdio: ['ignore', 'ignore', 'pipe'],
      timeout: 10_000,
    });
    return { status: result.status, output: result.stderr };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A running nginx and the JSON access-log lines it has written so far. */
export interface RunningNginx {
  baseUrl: string;
  accessLog: () => Record<string, unknown>[];
  /** Waits (bounded) until `count` lines follow line `from`, and returns them. */
  logLinesAfter: (from: number, count: number) => Promise<Record<string, unknown>[]>;
  /** Rewrites the upstream list and reloads nginx gracefully, as an orchestrator would. */
  reload: (upstreams: Upstream[]) => void;
  stop: () => Promise<void>;
}

/** Runs the committed config on 127.0.0.1:`port` in front of `upstreams`. */
export async function startNginx(port: number, upstreams: Upstream[]): Promise<RunningNginx> {
  const { dir, args } = prepare(renderNginxConfig(port, upstreams));
  // The access log goes to /dev/stdout, as in the container; here that is a file to read.
  const logFile = join(dir, 'access.log');
  const stdout = openSync(logFile, 'a');
  const child: ChildProcess = spawn(NGINX_PATH, args, { stdio: ['ignore', stdout, 'pipe'] });
  closeSync(stdout);
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  let errors = '';
  child.stderr?.on('data', (chunk: Buffer) => (errors += chunk.toString()));
  const baseUrl = `http://127.0.0.1:${port}`;
  const stop = async () => {
    child.kill('SIGQUIT'); // graceful: finish open requests, then exit
    await exited;
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitFor('nginx to answer', async () => {
      if (child.exitCode !== null) throw new Error(`nginx exited: ${errors}`);
      const response = await fetch(`${baseUrl}/nginx/healthz`).catch(() => undefined);
      return response?.status === 200;
    });
  } catch (error) {
    await stop();
    throw error;
  }
  const accessLog = () =>
    readFileSync(logFile, 'utf8')
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
  // nginx writes a line once the response is sent, which can be after the client has it.
  const logLinesAfter = async (from: number, count: number) => {
    await waitFor(`${count} access-log lines`, async () => accessLog().length >= from + count);
    return accessLog().slice(from, from + count);
  };
  const reload = (upstreams: Upstream[]) => {
    writeFileSync(join(dir, 'nginx.conf'), renderNginxConfig(port, upstreams));
    // SIGHUP: new workers take the new list; old ones finish what they hold, then exit.
    child.kill('SIGHUP');
  };
  return { baseUrl, accessLog, logLinesAfter, reload, stop };
}
