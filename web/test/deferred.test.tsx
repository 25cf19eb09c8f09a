import { render, screen, within } from '@testing-library/react';
import { lazy } from 'react';
import { describe, expect, it, vi } from 'vitest';
import { Deferred } from '../src/components/Deferred.js';

/** A lazily loaded component whose code arrives when `load` settles. */
function lazyText(text: string, load: Promise<void>) {
  return lazy(async () => {
    await load;
    return { default: () => <p>{text}</p> };
  });
}

describe('Deferred', () => {
  it('shows one spinner until every part has loaded, then all of them together', async () => {
    let loadFirst = () => {};
    let loadSecond = () => {};
    const First = lazyText('the first part', new Promise<void>((resolve) => (loadFirst = resolve)));
    const Second = lazyText(
      'the second part',
      new Promise<void>((resolve) => (loadSecond = resolve)),
    );
    render(
      <Deferred what="Both parts">
        <First />
        <Second />
      </Deferred>,
    );

    expect(await screen.findByRole('progressbar', { name: 'Loading both parts' })).toBeVisible();
    loadFirst();
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(screen.queryByText('the first part')).not.toBeInTheDocument();
    expect(screen.getByRole('progressbar')).toBeVisible();

    loadSecond();
    expect(await screen.findByText('the second part')).toBeVisible();
    expect(screen.getByText('the first part')).toBeVisible();
    expect(screen.queryByRole('progressbar')).not.toBeInTheDocument();
  });

  it('says what could not be shown, offers a reload, and leaves the rest of the page', async () => {
    // React reports what a boundary caught on console.error; that is expected here.
    const quiet = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    const Broken = lazyText(
      'never shown',
      Promise.reject(new Error('Failed to fetch dynamically imported module')),
    );
    render(
      <>
        <p>the rest of the page</p>
        <Deferred what="Some parts">
          <Broken />
        </Deferred>
      </>,
    );

    const alert = await screen.findByRole('alert');
    expect(alert).toHaveTextContent('Some parts could not be shown. Reload the page to try again.');
    expect(within(alert).getByRole('button', { name: 'Reload' })).toBeEnabled();
    expect(screen.queryByRole('progressbar')).not.toBeInTheDocument();
    expect(screen.getByText('the rest of the page')).toBeVisible();
    quiet.mockRestore();
  });
});
