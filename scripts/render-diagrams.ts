/**
 * Renders every docs/diagrams/<name>.mmd to docs/images/<name>.svg with mermaid's own browser
 * bundle in Debian's Chromium (`npm run diagrams`). test/docs/diagrams.test.ts fails when a
 * diagram changed and its picture was not rendered again.
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const root = fileURLToPath(new URL('../', import.meta.url));
const sourceDir = join(root, 'docs/diagrams');
const imageDir = join(root, 'docs/images');
const mermaidBundle = createRequire(import.meta.url).resolve('mermaid/dist/mermaid.min.js');

/** The part of mermaid's browser API this script uses. */
interface MermaidApi {
  initialize(config: Record<string, unknown>): void;
  render(id: string, text: string): Promise<{ svg: string }>;
}

/**
 * Gives the picture a white background: mermaid leaves it transparent, and its dark lines
 * vanish on a dark page (GitHub's dark theme shows an <img> on its own background).
 */
function onWhite(svg: string): string {
  const opening = /^<svg [^>]*?style="/;
  if (!opening.test(svg)) throw new Error('mermaid no longer puts a style on its <svg>');
  return svg.replace(opening, (match) => `${match}background-color: white; `);
}

const names = readdirSync(sourceDir)
  .filter((file) => file.endsWith('.mmd'))
  .map((file) => file.slice(0, -'.mmd'.length))
  .sort();

// As in the browser tests: root in a sandbox without a GPU, and no background requests.
const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
});
try {
  for (const name of names) {
    const text = readFileSync(join(sourceDir, `${name}.mmd`), 'utf8');
    // A fresh page per diagram, so one diagram's state never leaks into the next.
    const page = await browser.newPage();
    await page.addScriptTag({ path: mermaidBundle });
    const svg = await page.evaluate(
      async ({ id, source }) => {
        const mermaid = (globalThis as unknown as { mermaid: MermaidApi }).mermaid;
        // Fixed ids, so rendering an unchanged diagram again gives the same file.
        mermaid.initialize({
          startOnLoad: false,
          securityLevel: 'strict',
          deterministicIds: true,
          deterministicIDSeed: id,
        });
        return (await mermaid.render(id, source)).svg;
      },
      { id: name, source: text },
    );
    await page.close();
    writeFileSync(join(imageDir, `${name}.svg`), `${onWhite(svg)}\n`);
    console.log(`docs/images/${name}.svg`);
  }
} finally {
  await browser.close();
}
