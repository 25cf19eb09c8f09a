import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { generatedFiles } from '../../slo/generate.js';

const files = await generatedFiles();

describe('files generated from slo/objectives.ts', () => {
  it.each(Object.keys(files))('%s is what `npm run slo` writes', (path) => {
    const committed = readFileSync(new URL(`../../${path}`, import.meta.url), 'utf8');
    // A hand edit, or a change to the objectives without `npm run slo`, fails here.
    expect(committed, `${path} is out of date: run npm run slo`).toBe(files[path]);
  });

  it.each(Object.entries(files))('%s says it is generated, and from what', (path, content) => {
    // JSON holds no comment: a dashboard says it in its description instead; a document is
    // written by hand around its generated part, which begins with the saying.
    const saying = path.endsWith('.json')
      ? (JSON.parse(content) as { description?: string }).description
      : path.endsWith('.md')
        ? content.split('\n').find((line) => line.startsWith('<!-- Generated'))
        : content.split('\n')[0];
    expect(saying).toMatch(
      path.endsWith('.json')
        ? /^Generated from slo\/objectives\.ts by `npm run slo`/
        : /^(# |<!-- )Generated from slo\/objectives\.ts/,
    );
  });
});
