import { describe, expect, it } from 'vitest';
import { browserAvailable, useSite } from '../helpers/browser.js';
import { realServersAvailable } from '../helpers/servers.js';

describe.runIf(browserAvailable && realServersAvailable)(
  'the page when the service restarts',
  () => {
    const site = useSite();

    it('says what failed while the service is down, then recovers by itself', async () => {
      const page = await site.open();
      const liveStatus = page.getByTestId('live-status');
      const counter = page.getByTestId('counter-value');
      await expect.poll(() => liveStatus.getAttribute('data-status')).toBe('live');
      const before = Number(await counter.textContent());

      await site.stop();
      await expect.poll(() => liveStatus.getAttribute('data-status')).toBe('reconnecting');
      await page.getByRole('button', { name: 'Sell one camera' }).click();
      // The counter's own message: the other cards may have failed to load meanwhile too.
      const failure = page
        .getByRole('region', { name: 'Cameras in stock' })
        .getByRole('alert')
        .filter({ hasText: 'Cannot reach the service' });
      await failure.waitFor();

      await site.start();
      // Nobody reloads the page: the stream comes back, and with it other people's sales.
      await expect
        .poll(() => liveStatus.getAttribute('data-status'), { timeout: 20_000 })
        .toBe('live');
      expect((await site.api('POST', '/decrement')).status).toBe(200);
      await expect.poll(() => counter.textContent()).toBe(String(before - 1));

      // The failed sale is retried from its message.
      await failure.getByRole('button', { name: 'Retry' }).click();
      await expect.poll(() => counter.textContent()).toBe(String(before - 2));
      await failure.waitFor({ state: 'detached' });
    });

    it('keeps the counter when the cards below fail to load; Reload brings them', async () => {
      const context = await site.browser.newContext();
      const page = await context.newPage();
      // As when a deploy has replaced the build this page came from: the chunk is gone.
      const itemsChunk = '**/assets/ItemsCard-*.js';
      await page.route(itemsChunk, (route) => route.fulfill({ status: 404 }));
      await page.goto(site.baseUrl);

      const failure = page
        .getByRole('alert')
        .filter({ hasText: 'Birthdays and items could not be shown' });
      await failure.waitFor();
      // The counter, in the first script, still works.
      const counter = page.getByTestId('counter-value');
      await counter.waitFor();
      const before = Number(await counter.textContent());
      await page.getByRole('button', { name: 'Sell one camera' }).click();
      await expect.poll(() => counter.textContent()).toBe(String(before - 1));

      await page.unroute(itemsChunk);
      await failure.getByRole('button', { name: 'Reload' }).click();
      await page.getByRole('textbox', { name: 'Item name' }).waitFor();
      await page.getByRole('textbox', { name: 'Username' }).waitFor();
      expect(await page.getByRole('alert').count()).toBe(0);
      await context.close();
    });
  },
);
