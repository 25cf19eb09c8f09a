import { readFile, readdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { originalPositionFor, TraceMap } from '@jridgewell/trace-mapping';

/** One line of a profile: where the CPU was when sampled, and its share of the busy samples. */
export interface Frame {
  name: string;
  /** The source file and line, through the bundle's source map: `node_modules/fastify/lib/reply.js:123`. */
  location: string;
  percent: number;
}

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
}
interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
}

const maps = new Map<string, Promise<TraceMap | undefined>>();
function mapOf(url: string): Promise<TraceMap | undefined> {
  let map = maps.get(url);
  if (map === undefined) {
    map = readFile(`${fileURLToPath(url)}.map`, 'utf8').then(
      (text) => new TraceMap(text),
      () => undefined,
    );
    maps.set(url, map);
  }
  return map;
}

/** `file:///…/dist/main.js` line 1 column 5000 as the source it came from, relative to the repo. */
async function locate(frame: ProfileNode['callFrame'], root: string): Promise<string> {
  if (!frame.url.startsWith('file:')) return frame.url;
  const map = await mapOf(frame.url);
  const original =
    map && originalPositionFor(map, { line: frame.lineNumber + 1, column: frame.columnNumber });
  const file = original?.source ?? fileURLToPath(frame.url);
  const line = original?.line ?? frame.lineNumber + 1;
  const relative = file.replace(/^(\.\.\/)+/, '').replace(root, '');
  return `${relative}:${line}`;
}

/**
 * The frames that used the most CPU themselves (self time) in the `.cpuprofile` files
 * `node --cpu-prof` wrote to `directory`, idle time left out.
 */
export async function topFramesBySelfTime(directory: string, count = 10): Promise<Frame[]> {
  const root = fileURLToPath(new URL('../', import.meta.url));
  const files = (await readdir(directory)).filter((file) => file.endsWith('.cpuprofile'));
  const samplesByFrame = new Map<string, { name: string; location: string; samples: number }>();
  let busy = 0;
  for (const file of files) {
    const profile = JSON.parse(await readFile(`${directory}/${file}`, 'utf8')) as CpuProfile;
    const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
    const hits = new Map<number, number>();
    for (const id of profile.samples) hits.set(id, (hits.get(id) ?? 0) + 1);
    for (const [id, samples] of hits) {
      const frame = nodes.get(id)?.callFrame;
      if (frame === undefined || frame.functionName === '(idle)') continue;
      busy += samples;
      const name = frame.functionName || '(anonymous)';
      const location = await locate(frame, root);
      const key = `${name} ${location}`;
      const entry = samplesByFrame.get(key) ?? { name, location, samples: 0 };
      entry.samples += samples;
      samplesByFrame.set(key, entry);
    }
  }
  return [...samplesByFrame.values()]
    .sort((a, b) => b.samples - a.samples)
    .slice(0, count)
    .map(({ name, location, samples }) => ({
      name,
      location,
      percent: Math.round((samples / Math.max(busy, 1)) * 1000) / 10,
    }));
}
