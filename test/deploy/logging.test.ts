import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { freePort } from '../helpers/ports.js';
import { startService, type ServiceProcess } from '../helpers/process.js';
import { waitFor } from '../helpers/wait.js';

const COMPOSE = new URL('../../deploy/compose/', import.meta.url);
const readYaml = (path: string) => parse(readFileSync(new URL(path, COMPOSE), 'utf8')) as unknown;

interface VectorConfig {
  sources: Record<string, { type: string; include_labels: string[]; exclude_containers: string[] }>;
  transforms: Record<string, { type: string; inputs: string[]; source: string }>;
  sinks: Record<
    string,
    {
      type: string;
      inputs: string[];
      endpoint: string;
      encoding: { codec: string };
      labels: Record<string, string>;
    }
  >;
}
const vector = readYaml('vector/vector.yaml') as VectorConfig;
const remap = Object.values(vector.transforms)[0];
const sink = Object.values(vector.sinks)[0];

describe('Loki', () => {
  const loki = readYaml('loki/loki.yaml') as {
    server: { http_listen_port: number };
    schema_config: { configs: { store: string; schema: string; index: { period: string } }[] };
    limits_config: { retention_period: string };
    compactor: { retention_enabled: boolean; delete_request_store: string };
  };

  it('keeps one week of logs and deletes what is older', () => {
    expect(loki.limits_config.retention_period).toBe('168h');
    // Without the compactor's retention, retention_period is only a number in a file.
    expect(loki.compactor).toMatchObject({
      retention_enabled: true,
      delete_request_store: 'filesystem',
    });
    expect(loki.schema_config.configs).toEqual([
      expect.objectContaining({
        store: 'tsdb',
        schema: 'v13',
        index: expect.objectContaining({ period: '24h' }) as unknown,
      }),
    ]);
  });

  it('listens where the shipper and Grafana send', () => {
    expect(sink?.endpoint).toBe(`http://loki:${loki.server.http_listen_port}`);
  });
});

describe('the log shipper (Vector)', () => {
  it("reads this compose project's containers, not its own", () => {
    expect(Object.values(vector.sources)).toEqual([
      {
        type: 'docker_logs',
        include_labels: ['com.docker.compose.project=shipshape'],
        exclude_containers: ['shipshape-vector-'],
      },
    ]);
    const compose = parse(readFileSync(new URL('../../compose.yaml', import.meta.url), 'utf8')) as {
      name: string;
    };
    expect(compose.name).toBe('shipshape');
  });

  it('labels streams by service and level only, and keeps the line as written', () => {
    expect(remap?.type).toBe('remap');
    expect(sink).toMatchObject({
      type: 'loki',
      inputs: ['app_fields'],
      encoding: { codec: 'text' },
    });
    // requestId, route or user input as labels would make one stream per request.
    expect(sink?.labels).toEqual({ service: '{{ service }}', level: '{{ level }}' });
    expect(remap?.source).toMatch(
      /^\.service = string\(\.label\."com\.docker\.compose\.service"\)/m,
    );
  });

  describe('against the JSON lines the app really writes', () => {
    let service: ServiceProcess;
    let requestLine: Record<string, unknown>;

    beforeAll(async () => {
      const port = await freePort();
      service = await startService({ DATA_DIR: 'memory://', SHUTDOWN_DRAIN_MS: '0' }, port);
      await fetch(`${service.baseUrl}/counter`);
      const isRequestLine = (line: Record<string, unknown>) =>
        line.msg === 'request completed' && line.route === '/counter';
      await waitFor('the request log line', async () => service.logs.some(isRequestLine));
      requestLine = service.logs.find(isRequestLine) ?? {};
    });

    afterAll(async () => {
      service.child.kill('SIGTERM');
      await service.exited;
    });

    it('finds every field it reads in a request line, in the format it parses', () => {
      const read = [...(remap?.source ?? '').matchAll(/\bline\.(\w+)/g)].map((match) => match[1]);
      expect(new Set(read)).toEqual(new Set(['level', 'time']));
      expect(requestLine.level).toBe('info');
      // The remap parses "%Y-%m-%dT%H:%M:%S%.fZ": ISO 8601 in UTC, as toISOString writes.
      expect(remap?.source).toContain('parse_timestamp(line.time, "%Y-%m-%dT%H:%M:%S%.fZ")');
      expect(requestLine.time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z$/);
    });

    it('leaves in the line the fields the runbook and dashboard query with | json', () => {
      expect(requestLine).toMatchObject({
        service: 'shipshape',
        requestId: expect.any(String) as string,
        route: '/counter',
        statusCode: 200,
        durationMs: expect.any(Number) as number,
      });
    });
  });
});
