import { describe, expect, it } from 'vitest';
import { browserAvailable, useSite } from '../helpers/browser.js';
import { realServersAvailable } from '../helpers/servers.js';

describe.runIf(browserAvailable && realServersAvailable)(
  'the birthday and items forms in a browser',
  () => {
    const site = useSite();

    it('saves a birthday and shows the greeting', async () => {
      const page = await site.open();
      const birthdays = page.getByRole('region', { name: 'Birthdays' });

      await birthdays.getByLabel('Username').fill('Zoë');
      await birthdays.getByLabel('Date of birth').fill('1990-05-17');
      await birthdays.getByRole('button', { name: 'Save' }).click();

      await expect
        .poll(() => birthdays.getByTestId('greeting').textContent())
        .toMatch(/^Hello, Zoë! (Happy birthday!|Your birthday is in \d+ days?)$/);
      const saved = await site.api('GET', `/hello/${encodeURIComponent('Zoë')}`);
      expect(await saved.json()).toEqual({
        message: await birthdays.getByTestId('greeting').textContent(),
      });
    });

    it("shows the service's message beside an invalid username", async () => {
      const page = await site.open();
      const birthdays = page.getByRole('region', { name: 'Birthdays' });
      const username = birthdays.getByLabel('Username');

      await username.fill('r2d2');
      await birthdays.getByRole('button', { name: 'Greet' }).click();

      const serverMessage = (
        (await (await site.api('GET', '/hello/r2d2')).json()) as { message: string }
      ).message.replace(/^params\./, '');
      await expect.poll(() => username.getAttribute('aria-invalid')).toBe('true');
      expect(serverMessage).toMatch(/letters only/);
      // The message is the field's own description, read out with it by screen readers.
      const describedBy = (await username.getAttribute('aria-describedby')) ?? '';
      expect(await page.locator(`[id="${describedBy}"]`).textContent()).toBe(serverMessage);
    });

    it('adds an item and lists it at once', async () => {
      const page = await site.open();
      const items = page.getByRole('region', { name: 'Items' });

      await items.getByLabel('Item name').fill('  tripod  ');
      await items.getByRole('button', { name: 'Add' }).click();

      await items.getByRole('listitem').filter({ hasText: 'tripod' }).waitFor();
      await items.getByText('Added “tripod”').waitFor();
      expect(await items.getByLabel('Item name').inputValue()).toBe('');
      const listed = (await (await site.api('GET', '/items')).json()) as { name: string }[];
      expect(listed.map((item) => item.name)).toContain('tripod');
    });
  },
);
