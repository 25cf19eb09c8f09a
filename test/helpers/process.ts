import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { waitFor } from './wait.js';

const root = fileURLToPath(new URL('../../', import.meta.url));

/** A real service process (the same `src/main.ts` production runs), with its log lines. */
export interface ServiceProcess {
  child: ChildProcess;
  baseUrl: string;
  logs: Record<string, unknown>[];
  /** Resolves with the exit code once the process has ended. */
  exited: Promise<number | null>;
}

function spawnNode(args: string[], env: Record<string, string>): ChildProcess {
  return spawn(process.execPath, args, {
    cwd: root,
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

/** Runs a TypeScript entry point with the given environment only (plus PATH). */
export function runEntry(entry: string, env: Record<string, string>): ChildProcess {
  return spawnNode(['--import', 'tsx', entry], env);
}

/**
 * Starts the service on `port` and waits until `/readyz` answers 200: from source by
 * default, or the built `dist/main.js` (with the built web UI) when `built` is set.
 */
export async function startService(
  env: Record<string, string>,
  port: number,
  { built = false }: { built?: boolean } = {},
): Promise<ServiceProcess> {
  // No load shedding unless a test asks: a loaded CI machine slows the loop at times.
  const fullEnv = { HOST: '127.0.0.1', PORT: String(port), MAX_EVENT_LOOP_DELAY_MS: '0', ...env };
  // The build is what `npm start` runs: dist/main.js, serving web/dist.
  const child = built ? spawnNode(['dist/main.js'], fullEnv) : runEntry('src/main.ts', fullEnv);
  const logs: Record<string, unknown>[] = [];
  let pending = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    pending += chunk.toString();
    const lines = pending.split('\n');
    pending = lines.pop() ?? '';
    for (const line of lines) logs.push(JSON.parse(line) as Record<string, unknown>);
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const baseUrl = `http://127.0.0.1:${port}`;
  await waitFor(
    'the service to be ready',
    async () => (await fetch(`${baseUrl}/readyz`).catch(() => undefined))?.status === 200,
    30_000,
  );
  return { child, baseUrl, logs, exited };
}
