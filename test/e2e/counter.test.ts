import type { Page } from 'playwright-core';
import { beforeEach, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, browserAvailable, useSite } from '../helpers/browser.js';
import { realServersAvailable } from '../helpers/servers.js';

const STOCK = 3;

describe.runIf(browserAvailable && realServersAvailable)('the counter card in a browser', () => {
  const site = useSite({ COUNTER_INITIAL_STOCK: String(STOCK) });

  beforeEach(async () => {
    expect((await site.api('PUT', '/reset')).status).toBe(200);
  });

  const counterOf = (page: Page) => page.getByTestId('counter-value');
  const sellButton = (page: Page) => page.getByRole('button', { name: 'Sell one camera' });

  it('sells a camera and shows the number drop', async () => {
    const page = await site.open();
    await expect.poll(() => counterOf(page).textContent()).toBe(String(STOCK));

    await sellButton(page).click();

    await expect.poll(() => counterOf(page).textContent()).toBe(String(STOCK - 1));
    const { counter } = (await (await site.api('GET', '/counter')).json()) as { counter: number };
    expect(counter).toBe(STOCK - 1);
  });

  it('shows a sale made in another page at once, without a reload', async () => {
    const seller = await site.open();
    const watcher = await site.open();
    await expect
      .poll(() => watcher.getByTestId('live-status').getAttribute('data-status'))
      .toBe('live');

    await sellButton(seller).click();

    await expect.poll(() => counterOf(watcher).textContent()).toBe(String(STOCK - 1));
  });

  it('resets through Settings, asking for the admin token the service requires', async () => {
    expect((await site.api('POST', '/decrement')).status).toBe(200);
    const page = await site.open();
    await expect.poll(() => counterOf(page).textContent()).toBe(String(STOCK - 1));

    await page.getByRole('button', { name: 'Settings' }).click();
    await page.getByRole('menuitem', { name: 'Reset stock…' }).click();
    const dialog = page.getByRole('dialog', { name: 'Reset the stock?' });
    await dialog.getByRole('button', { name: 'Reset' }).click();
    // The service answered 401: the dialog now asks for the token.
    await dialog.getByLabel('Admin token').fill('not-the-admin-token');
    await dialog.getByRole('button', { name: 'Reset' }).click();
    await dialog.getByText('That token was not accepted').waitFor();
    await dialog.getByLabel('Admin token').fill(ADMIN_TOKEN);
    await dialog.getByRole('button', { name: 'Reset' }).click();

    await dialog.waitFor({ state: 'hidden' });
    await expect.poll(() => counterOf(page).textContent()).toBe(String(STOCK));
  });

  it('says sold out and disables the button at zero', async () => {
    const page = await site.open();
    for (let left = STOCK - 1; left >= 0; left--) {
      await sellButton(page).click();
      await expect.poll(() => counterOf(page).textContent()).toBe(String(left));
    }

    const soldOut = page.getByRole('button', { name: 'Sold out' });
    expect(await soldOut.isDisabled()).toBe(true);
    expect((await site.api('POST', '/decrement')).status).toBe(409);
    await expect.poll(() => counterOf(page).textContent()).toBe('0');
  });

  it('resets from the keyboard alone, focus going back where it was', async () => {
    expect((await site.api('POST', '/decrement')).status).toBe(200);
    const page = await site.open();
    const focused = page.locator(':focus');
    await page.getByRole('button', { name: 'Settings' }).focus();

    await page.keyboard.press('Enter');
    // The menu opens with its first item focused.
    await expect.poll(() => focused.textContent()).toBe('Reset stock…');
    await page.keyboard.press('Enter');
    const dialog = page.getByRole('dialog', { name: 'Reset the stock?' });
    await dialog.waitFor();
    // Focus stays inside the dialog: Cancel, then Reset.
    await page.keyboard.press('Tab');
    await page.keyboard.press('Tab');
    await expect.poll(() => focused.textContent()).toBe('Reset');
    await page.keyboard.press('Enter');
    // The token field takes focus; Enter submits the form.
    await expect.poll(() => focused.getAttribute('type')).toBe('password');
    await page.keyboard.type(ADMIN_TOKEN);
    await page.keyboard.press('Enter');

    await dialog.waitFor({ state: 'hidden' });
    await expect.poll(() => counterOf(page).textContent()).toBe(String(STOCK));
    await expect.poll(() => focused.getAttribute('aria-label')).toBe('Settings');
  });

  it('sells from the keyboard alone', async () => {
    const page = await site.open();
    await sellButton(page).focus();
    await page.keyboard.press('Enter');
    await expect.poll(() => counterOf(page).textContent()).toBe(String(STOCK - 1));
  });
});
