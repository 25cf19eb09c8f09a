import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const docs = fileURLToPath(new URL('../../docs/', import.meta.url));
const names = readdirSync(join(docs, 'diagrams'))
  .filter((file) => file.endsWith('.mmd'))
  .map((file) => file.slice(0, -'.mmd'.length));
const markdown = readdirSync(docs)
  .filter((file) => file.endsWith('.md'))
  .map((file) => readFileSync(join(docs, file), 'utf8'));

// A node or subgraph id followed by its label in one of the flowchart shapes, quoted or not.
const shapedLabel =
  /\b[A-Za-z][\w-]*(?:\[\(|\(\[|\[\[|\(\(|\[|\(|\{)(?:"([^"]*)"|([^"\])}]*))(?:\)\]|\]\)|\]\]|\)\)|\]|\)|\})/g;
const edgeLabel = /\|([^|]+)\|/g;

/** Every node, subgraph and edge label of a flowchart's source, comments left out. */
function labelsOf(source: string): string[] {
  const code = source
    .split('\n')
    .filter((line) => !line.trimStart().startsWith('%%'))
    .join('\n');
  const shaped = [...code.matchAll(shapedLabel)].map((match) => match[1] ?? match[2] ?? '');
  const onEdges = [...code.matchAll(edgeLabel)].map((match) => match[1] ?? '');
  return [...shaped, ...onEdges].map((label) => label.trim()).filter((label) => label !== '');
}

/** The text runs of an SVG: what lies between its tags, entities decoded. */
function textRunsOf(svg: string): Set<string> {
  const entities: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };
  return new Set(
    svg
      .split(/<[^>]*>/)
      .map((run) =>
        run
          .replace(/&#(\d+);/g, (_, code: string) => String.fromCodePoint(Number(code)))
          .replace(/&(\w+);/g, (entity, name: string) => entities[name] ?? entity)
          .trim(),
      )
      .filter((run) => run !== ''),
  );
}

describe.each(names)('docs/diagrams/%s.mmd', (name) => {
  const source = readFileSync(join(docs, 'diagrams', `${name}.mmd`), 'utf8');
  const image = join(docs, 'images', `${name}.svg`);

  it('is rendered: the SVG shows every label of the source (npm run diagrams)', () => {
    const labels = labelsOf(source);
    expect(labels.length).toBeGreaterThan(0);
    expect(existsSync(image)).toBe(true);
    const runs = textRunsOf(readFileSync(image, 'utf8'));
    expect(labels.filter((label) => !runs.has(label))).toEqual([]);
  });

  it('is shown in the docs as its Mermaid source, with the SVG right under it', () => {
    // The block's text may not run past its own closing fence into an earlier block.
    const shown = new RegExp(
      String.raw`\`\`\`mermaid\n((?:(?!\`\`\`)[\s\S])*)\`\`\`\n\n!\[[^\]]+\]\(images/${name}\.svg\)`,
      'g',
    );
    const blocks = markdown.flatMap((text) => [...text.matchAll(shown)].map((match) => match[1]));
    expect(blocks).toEqual([source]);
  });
});
