import { describe, expect, it } from 'vitest';
import { browserAvailable, useSite } from '../helpers/browser.js';
import { realServersAvailable } from '../helpers/servers.js';

const LIFETIME_MS = 2000;

describe.runIf(browserAvailable && realServersAvailable)(
  'the page when the service ends its event stream (EVENT_STREAM_LIFETIME_MS)',
  () => {
    const site = useSite({ EVENT_STREAM_LIFETIME_MS: String(LIFETIME_MS) });

    const endedByLifetime = async () => {
      const metrics = await (await site.api('GET', '/metrics')).text();
      return Number(
        /^event_streams_ended_total\{reason="lifetime"\} (\d+)$/m.exec(metrics)?.[1] ?? 0,
      );
    };

    it('reconnects by itself and keeps showing sales, with nobody reloading it', async () => {
      const page = await site.open();
      const liveStatus = page.getByTestId('live-status');
      const counter = page.getByTestId('counter-value');
      await expect.poll(() => liveStatus.getAttribute('data-status')).toBe('live');

      // Two lifetimes: the service has ended the page's stream, and the one it reopened.
      await expect.poll(endedByLifetime, { timeout: LIFETIME_MS * 5 }).toBeGreaterThanOrEqual(2);
      for (let sale = 1; sale <= 2; sale += 1) {
        const before = Number(await counter.textContent());
        expect((await site.api('POST', '/decrement')).status).toBe(200);
        // A sale made just as a stream ended shows once the next one opens.
        await expect
          .poll(() => counter.textContent(), { timeout: LIFETIME_MS })
          .toBe(String(before - 1));
        await new Promise((resolve) => setTimeout(resolve, LIFETIME_MS));
      }
      await expect.poll(() => liveStatus.getAttribute('data-status')).toBe('live');
      expect(await page.getByRole('alert').count()).toBe(0);
    });
  },
);
