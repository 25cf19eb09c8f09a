import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { startApp, testConfig } from './app.js';

/** Debian's promtool (package prometheus), which checks the committed Prometheus files. */
export const PROMTOOL_PATH = '/usr/bin/promtool';
export const PROMETHEUS_DIR = fileURLToPath(
  new URL('../../deploy/compose/prometheus/', import.meta.url),
);

/** True when promtool is installed. On CI its absence fails the run instead. */
export const promtoolAvailable = existsSync(PROMTOOL_PATH);
if (!promtoolAvailable) {
  if (process.env.CI) throw new Error(`CI needs ${PROMTOOL_PATH} for the Prometheus tests`);
  console.warn(
    `\n*** SKIPPING promtool checks: no ${PROMTOOL_PATH} (apt-get install prometheus). ***\n`,
  );
}

/** Runs promtool in `cwd`; returns its exit code and everything it printed. */
export function promtool(
  args: string[],
  cwd = PROMETHEUS_DIR,
  timeoutMs = 30_000,
): { status: number | null; output: string } {
  const result = spawnSync(PROMTOOL_PATH, args, { cwd, encoding: 'utf8', timeout: timeoutMs });
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

/** Metric names a PromQL expression selects; the files always give a `{…}` selector. */
export function selectedMetrics(expr: string): string[] {
  return [...expr.matchAll(/([a-zA-Z_:][a-zA-Z0-9_:]*)\{/g)].map((match) => match[1] ?? '');
}

/** Series Prometheus makes itself for every target, which no app exports. */
const SCRAPE_SERIES = new Set(['up']);

/**
 * What the real app exports at /metrics once it has served a little of everything
 * (labelled series only appear after their first request).
 */
export async function exportedMetricsText(): Promise<string> {
  const app = await startApp(testConfig());
  try {
    for (const [method, url] of [
      ['GET', '/items'],
      ['GET', '/items'],
      ['POST', '/decrement'],
      ['PUT', '/reset'],
      ['GET', '/counter'],
    ] as const) {
      await app.inject({ method, url });
    }
    return (await app.inject({ method: 'GET', url: '/metrics' })).body;
  } finally {
    await app.close();
  }
}

/** Every metric name the real app exports, plus the series Prometheus makes itself. */
export async function exportedMetricNames(): Promise<Set<string>> {
  const names = (await exportedMetricsText())
    .split('\n')
    .filter((line) => line !== '' && !line.startsWith('#'))
    .map((line) => /^[a-zA-Z_:][a-zA-Z0-9_:]*/.exec(line)?.[0] ?? '');
  return new Set([...names, ...SCRAPE_SERIES]);
}
