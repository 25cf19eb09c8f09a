import { screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import { CounterCard } from '../src/counter/CounterCard.js';
import {
  answer,
  createFakeService,
  failWith,
  heldAnswers,
  json,
  networkDown,
  renderWithApi,
  settle,
} from './fake-service.js';
import { expectStock } from './stock.js';

const sellButton = () => screen.getByRole('button', { name: 'Sell one camera' });

describe('CounterCard: stock', () => {
  it('shows a spinner, then the stock GET /counter answers', async () => {
    const service = createFakeService({ 'GET /counter': answer({ counter: 12 }) });
    renderWithApi(<CounterCard />, service);

    expect(screen.getByRole('progressbar', { name: 'Loading the stock' })).toBeInTheDocument();
    expect(sellButton()).toBeDisabled();
    await expectStock('12 cameras left');
    expect(screen.queryByRole('progressbar')).not.toBeInTheDocument();
    expect(sellButton()).toBeEnabled();
    expect(service.sent('GET /counter')).toEqual([expect.objectContaining({ cache: 'no-cache' })]);
  });

  it('says "camera" for the last one', async () => {
    const service = createFakeService({ 'GET /counter': answer({ counter: 1 }) });
    renderWithApi(<CounterCard />, service);
    await expectStock('1 camera left');
  });

  it('disables the button and reads "Sold out" at 0', async () => {
    const service = createFakeService({ 'GET /counter': answer({ counter: 0 }) });
    renderWithApi(<CounterCard />, service);

    expect(await screen.findByRole('button', { name: 'Sold out' })).toBeDisabled();
    await expectStock('0 cameras left');
  });

  it('shows why the stock could not be read, and Retry reads it again', async () => {
    const service = createFakeService({
      'GET /counter': failWith(503, 'The database is unavailable; retry shortly'),
    });
    const { user } = renderWithApi(<CounterCard />, service);

    const alert = await screen.findByRole('alert');
    expect(alert).toHaveTextContent('The database is unavailable; retry shortly');
    expect(screen.queryByRole('progressbar')).not.toBeInTheDocument();
    expect(sellButton()).toBeDisabled();

    service.on('GET /counter', answer({ counter: 7 }));
    await user.click(within(alert).getByRole('button', { name: 'Retry' }));

    await expectStock('7 cameras left');
    expect(screen.queryByRole('alert')).not.toBeInTheDocument();
    expect(service.sent('GET /counter')).toHaveLength(2);
  });

  // StrictMode runs each effect twice: the first read is abandoned, whatever it answers.
  it('ignores what an abandoned read answers, value or error', async () => {
    const reads = heldAnswers();
    const service = createFakeService({ 'GET /counter': reads.handler });
    renderWithApi(<CounterCard />, service, { strict: true });
    expect(service.sent('GET /counter')).toHaveLength(2);

    reads.release(1, json({ counter: 6 }));
    await expectStock('6 cameras left');
    reads.release(0, json({ counter: 9 }));
    await settle();
    await expectStock('6 cameras left');
  });

  it('shows no error from an abandoned read', async () => {
    const reads = heldAnswers();
    const service = createFakeService({ 'GET /counter': reads.handler });
    renderWithApi(<CounterCard />, service, { strict: true });

    reads.release(0, json({ statusCode: 500, error: 'x', message: 'stale' }, { status: 500 }));
    reads.release(1, json({ counter: 6 }));
    await expectStock('6 cameras left');
    await settle();
    expect(screen.queryByRole('alert')).not.toBeInTheDocument();
  });
});

describe('CounterCard: selling', () => {
  it('sells one with POST /decrement and shows its answer while the stream is not open', async () => {
    const service = createFakeService({
      'GET /counter': answer({ counter: 12 }),
      'POST /decrement': answer({ counter: 11 }),
    });
    const { user } = renderWithApi(<CounterCard />, service);
    await expectStock('12 cameras left');

    await user.click(sellButton());

    await expectStock('11 cameras left');
    expect(service.sent('POST /decrement')).toHaveLength(1);
  });

  it('sells one camera for a double click', async () => {
    const sales = heldAnswers();
    const service = createFakeService({
      'GET /counter': answer({ counter: 12 }),
      'POST /decrement': sales.handler,
    });
    // No delay between the clicks: the second lands while the first sale is on its way.
    const user = userEvent.setup({ delay: null });
    renderWithApi(<CounterCard />, service);
    await expectStock('12 cameras left');

    await user.dblClick(sellButton());
    sales.release(0, json({ counter: 11 }));

    await expectStock('11 cameras left');
    expect(service.sent('POST /decrement')).toHaveLength(1);
  });

  it('shows Sold out when the sale answers 409', async () => {
    const service = createFakeService({
      'GET /counter': answer({ counter: 3 }),
      'POST /decrement': failWith(409, 'Sold out: no cameras left'),
    });
    const { user } = renderWithApi(<CounterCard />, service);
    await expectStock('3 cameras left');

    await user.click(sellButton());

    expect(await screen.findByRole('button', { name: 'Sold out' })).toBeDisabled();
    await expectStock('0 cameras left');
    expect(screen.queryByRole('alert')).not.toBeInTheDocument();
  });

  it('shows a failed sale, and its Retry sells again', async () => {
    const service = createFakeService({
      'GET /counter': answer({ counter: 5 }),
      'POST /decrement': networkDown,
    });
    const { user } = renderWithApi(<CounterCard />, service);
    await expectStock('5 cameras left');

    await user.click(sellButton());
    const alert = await screen.findByRole('alert');
    expect(alert).toHaveTextContent('Cannot reach the service. Check your connection and retry.');
    await expectStock('5 cameras left');

    service.on('POST /decrement', answer({ counter: 4 }));
    await user.click(within(alert).getByRole('button', { name: 'Retry' }));

    await expectStock('4 cameras left');
    expect(screen.queryByRole('alert')).not.toBeInTheDocument();
    expect(service.sent('POST /decrement')).toHaveLength(2);
  });
});

describe('CounterCard: Settings menu', () => {
  it('closes the menu on Escape without opening the reset dialog', async () => {
    const service = createFakeService({ 'GET /counter': answer({ counter: 5 }) });
    const { user } = renderWithApi(<CounterCard />, service);
    const settings = screen.getByRole('button', { name: 'Settings' });
    expect(settings).not.toHaveAttribute('aria-expanded');

    await user.click(settings);
    expect(await screen.findByRole('menu')).toBeInTheDocument();
    expect(settings).toHaveAttribute('aria-expanded', 'true');
    await user.keyboard('{Escape}');

    expect(settings).not.toHaveAttribute('aria-expanded');
    expect(screen.queryByRole('dialog')).not.toBeInTheDocument();
  });
});
