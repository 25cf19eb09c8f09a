import { mkdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { AxeBuilder } from '@axe-core/playwright';
import type { Page } from 'playwright-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { browserAvailable, useSite } from '../helpers/browser.js';
import { realServersAvailable } from '../helpers/servers.js';

const IMAGES = fileURLToPath(new URL('../../docs/images/', import.meta.url));
const DESKTOP = { width: 1280, height: 900 };
const PHONE = { width: 390, height: 844 };

/** Runs in the page. The tests have no DOM types, so the one call it makes is declared. */
const noAnimationsRunning = () =>
  (globalThis as unknown as { document: { getAnimations(): unknown[] } }).document.getAnimations()
    .length === 0;

/** axe-core's serious and critical findings on the page as it is now, one line each. */
async function seriousViolations(page: Page): Promise<string[]> {
  // Colours half-way through a fade are not what anyone reads.
  await page.waitForFunction(noAnimationsRunning);
  const { violations } = await new AxeBuilder({ page }).analyze();
  return violations
    .filter((violation) => violation.impact === 'serious' || violation.impact === 'critical')
    .map(({ id, help, nodes }) => `${id}: ${help} — ${nodes.map((node) => node.html).join(' | ')}`);
}

/** The page as README shows it: some items, a greeting, the stock. */
async function fillIn(page: Page): Promise<void> {
  const birthdays = page.getByRole('region', { name: 'Birthdays' });
  await birthdays.getByLabel('Username').fill('Ada');
  await birthdays.getByLabel('Date of birth').fill('1815-12-10');
  await birthdays.getByRole('button', { name: 'Save' }).click();
  await birthdays.getByTestId('greeting').waitFor();
}

describe.runIf(browserAvailable && realServersAvailable)('accessibility and screenshots', () => {
  const site = useSite();

  beforeAll(async () => {
    for (const name of ['tripod', 'lens cap', 'camera strap'])
      expect((await site.api('POST', '/items', { name })).status).toBe(201);
    expect((await site.api('POST', '/decrement')).status).toBe(200);
  });

  it('has no serious or critical axe-core violation, on a desktop and on a phone', async () => {
    for (const viewport of [DESKTOP, PHONE]) {
      const page = await site.open(viewport);
      await page.getByRole('listitem').first().waitFor();
      await fillIn(page);
      expect(await seriousViolations(page)).toEqual([]);
    }
  });

  it('has no serious or critical violation with the reset dialog open', async () => {
    const page = await site.open();
    await page.getByRole('button', { name: 'Settings' }).click();
    await page.getByRole('menuitem', { name: 'Reset stock…' }).click();
    await page.getByRole('dialog').waitFor();
    expect(await seriousViolations(page)).toEqual([]);
  });

  it('writes the screenshots README shows', async () => {
    await mkdir(IMAGES, { recursive: true });
    for (const [name, viewport, scale] of [
      ['ui-desktop.png', DESKTOP, 1],
      ['ui-phone.png', PHONE, 2],
    ] as const) {
      const context = await site.browser.newContext({ viewport, deviceScaleFactor: scale });
      const page = await context.newPage();
      await page.goto(site.baseUrl);
      await page.getByRole('listitem').first().waitFor();
      await fillIn(page);
      await page.screenshot({ path: `${IMAGES}${name}`, fullPage: true, animations: 'disabled' });
      await context.close();
    }
  });
});
