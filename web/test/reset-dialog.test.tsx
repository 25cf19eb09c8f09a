import { screen, waitFor, within } from '@testing-library/react';
import type { UserEvent } from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import { CounterCard } from '../src/counter/CounterCard.js';
import {
  answer,
  createFakeService,
  failWith,
  renderWithApi,
  serviceError,
  json,
  networkDown,
  type Handler,
} from './fake-service.js';
import { expectStock } from './stock.js';

const TOKEN = 's3cret-admin-token';
const UNAUTHORIZED = 'A valid admin token is required (Authorization: Bearer <token>)';

/** PUT /reset as the service answers it when an admin token is configured. */
const resetNeedingToken: Handler = (request) =>
  request.headers.authorization === `Bearer ${TOKEN}`
    ? json({ counter: 1000 })
    : serviceError(401, UNAUTHORIZED);

/** Renders the counter card, waits for its stock and opens Settings → "Reset stock…". */
async function openResetDialog(service: ReturnType<typeof createFakeService>) {
  const { user } = renderWithApi(<CounterCard />, service);
  await screen.findByRole('status');
  await openFromMenu(user);
  return user;
}

async function openFromMenu(user: UserEvent) {
  await user.click(screen.getByRole('button', { name: 'Settings' }));
  await user.click(await screen.findByRole('menuitem', { name: 'Reset stock…' }));
  return screen.findByRole('dialog', { name: 'Reset the stock?' });
}

/** Resets in the open dialog: Reset, the token it then asks for, Reset again. */
async function resetGivingTheToken(user: UserEvent) {
  await user.click(screen.getByRole('button', { name: 'Reset' }));
  await user.type(await screen.findByLabelText(/Admin token/), TOKEN);
  await user.click(screen.getByRole('button', { name: 'Reset' }));
  await dialogGone();
}

const dialogGone = () =>
  waitFor(() => expect(screen.queryByRole('dialog')).not.toBeInTheDocument());

describe('ResetDialog', () => {
  it('opens from the Settings menu and resets with PUT /reset', async () => {
    const service = createFakeService({
      'GET /counter': answer({ counter: 3 }),
      'PUT /reset': answer({ counter: 1000 }),
    });
    const user = await openResetDialog(service);
    const dialog = screen.getByRole('dialog');
    expect(dialog).toHaveTextContent('Every camera goes back in stock, on every screen.');
    expect(within(dialog).queryByLabelText(/Admin token/)).not.toBeInTheDocument();

    await user.click(within(dialog).getByRole('button', { name: 'Reset' }));

    await dialogGone();
    await expectStock('1000 cameras left');
    expect(service.sent('PUT /reset')).toEqual([
      expect.objectContaining({ headers: {}, cache: 'no-cache' }),
    ]);
  });

  it('asks for the admin token on 401, refuses a wrong one, resets with the right one', async () => {
    const service = createFakeService({
      'GET /counter': answer({ counter: 3 }),
      'PUT /reset': resetNeedingToken,
    });
    const user = await openResetDialog(service);
    const dialog = screen.getByRole('dialog');
    await user.click(within(dialog).getByRole('button', { name: 'Reset' }));

    const field = await within(dialog).findByLabelText(/Admin token/);
    expect(field).toHaveAttribute('type', 'password');
    expect(field).toHaveFocus();
    expect(dialog).toHaveTextContent('Resetting needs the admin token.');
    // The first 401 only asks: nothing was typed that could have been wrong.
    expect(field).not.toHaveAttribute('aria-invalid', 'true');

    await user.type(field, 'wrong');
    await user.click(within(dialog).getByRole('button', { name: 'Reset' }));
    await waitFor(() =>
      expect(field).toHaveAccessibleDescription(
        'That token was not accepted. Check it and try again.',
      ),
    );
    expect(field).toHaveAttribute('aria-invalid', 'true');
    await expectStock('3 cameras left', { hidden: true });

    await user.clear(field);
    await user.type(field, TOKEN);
    await user.click(within(dialog).getByRole('button', { name: 'Reset' }));

    await dialogGone();
    await expectStock('1000 cameras left');
    expect(service.sent('PUT /reset').map((request) => request.headers.authorization)).toEqual([
      undefined,
      'Bearer wrong',
      `Bearer ${TOKEN}`,
    ]);
  });

  it('reuses the accepted token for a later reset without asking', async () => {
    const service = createFakeService({
      'GET /counter': answer({ counter: 3 }),
      'PUT /reset': resetNeedingToken,
    });
    const user = await openResetDialog(service);
    await resetGivingTheToken(user);

    const dialog = await openFromMenu(user);
    expect(within(dialog).queryByLabelText(/Admin token/)).not.toBeInTheDocument();
    await user.click(within(dialog).getByRole('button', { name: 'Reset' }));

    await dialogGone();
    expect(service.sent('PUT /reset').at(-1)?.headers.authorization).toBe(`Bearer ${TOKEN}`);
    expect(service.sent('PUT /reset')).toHaveLength(3);
  });

  it('asks again when the accepted token stops being accepted', async () => {
    const service = createFakeService({
      'GET /counter': answer({ counter: 3 }),
      'PUT /reset': resetNeedingToken,
    });
    const user = await openResetDialog(service);
    await resetGivingTheToken(user);

    // The token was rotated on the service.
    service.on('PUT /reset', failWith(401, UNAUTHORIZED));
    const dialog = await openFromMenu(user);
    await user.click(within(dialog).getByRole('button', { name: 'Reset' }));

    expect(await within(dialog).findByLabelText(/Admin token/)).toHaveValue('');
    expect(service.sent('PUT /reset').at(-1)?.headers.authorization).toBe(`Bearer ${TOKEN}`);
  });

  it('shows a failure other than 401 in an alert inside the dialog', async () => {
    const service = createFakeService({
      'GET /counter': answer({ counter: 3 }),
      'PUT /reset': failWith(503, 'The database is unavailable; retry shortly'),
    });
    const user = await openResetDialog(service);
    const dialog = screen.getByRole('dialog');

    await user.click(within(dialog).getByRole('button', { name: 'Reset' }));

    expect(await within(dialog).findByRole('alert')).toHaveTextContent(
      'The database is unavailable; retry shortly',
    );
    expect(screen.getByRole('dialog')).toBeInTheDocument();
    await expectStock('3 cameras left', { hidden: true });
  });

  it('shows a failure other than 401 after asking for the token', async () => {
    const service = createFakeService({
      'GET /counter': answer({ counter: 3 }),
      'PUT /reset': failWith(401, UNAUTHORIZED),
    });
    const user = await openResetDialog(service);
    const dialog = screen.getByRole('dialog');
    await user.click(within(dialog).getByRole('button', { name: 'Reset' }));
    await user.type(await within(dialog).findByLabelText(/Admin token/), TOKEN);

    service.on('PUT /reset', networkDown);
    await user.click(within(dialog).getByRole('button', { name: 'Reset' }));

    expect(await within(dialog).findByRole('alert')).toHaveTextContent(
      'Cannot reach the service. Check your connection and retry.',
    );
    // The token was never checked, so the field must not say it was wrong.
    expect(within(dialog).getByLabelText(/Admin token/)).not.toHaveAttribute(
      'aria-invalid',
      'true',
    );
    expect(screen.getByRole('dialog')).toBeInTheDocument();
  });

  it('closes on Cancel without a request, and forgets the last error', async () => {
    const service = createFakeService({
      'GET /counter': answer({ counter: 3 }),
      'PUT /reset': failWith(500, 'Internal server error'),
    });
    const user = await openResetDialog(service);

    await user.click(screen.getByRole('button', { name: 'Cancel' }));
    await dialogGone();
    expect(service.sent('PUT /reset')).toHaveLength(0);

    let dialog = await openFromMenu(user);
    await user.click(within(dialog).getByRole('button', { name: 'Reset' }));
    await within(dialog).findByRole('alert');
    await user.click(within(dialog).getByRole('button', { name: 'Cancel' }));
    await dialogGone();

    dialog = await openFromMenu(user);
    expect(within(dialog).queryByRole('alert')).not.toBeInTheDocument();
  });
});
