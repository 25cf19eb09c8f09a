import { mkdir, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { format, resolveConfig } from 'prettier';

/**
 * Writes a benchmark's Markdown report formatted as `npm run lint` expects (aligned
 * tables), so a fresh run can be committed as it is; prints it too.
 */
export async function writeMarkdownReport(file: URL, markdown: string): Promise<void> {
  const path = fileURLToPath(file);
  const options = await resolveConfig(path);
  const text = await format(markdown, { ...options, filepath: path });
  await mkdir(new URL('./', file), { recursive: true });
  await writeFile(file, text);
  console.log(`\n${text}`);
}
