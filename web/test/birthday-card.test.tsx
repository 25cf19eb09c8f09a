import { screen, waitFor, within } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { BirthdayCard } from '../src/birthdays/BirthdayCard.js';
import {
  answer,
  createFakeService,
  failWith,
  networkDown,
  renderWithApi,
  type FakeService,
} from './fake-service.js';

const USERNAME_RULE = 'must be letters only (any alphabet), 1 to 64 of them';
const greetingFor = (name: string) => `Hello, ${name}! Your birthday is in 5 days`;

/** A service that accepts any save for `known` and greets that one name. */
function birthdaysService(known = 'alice'): FakeService {
  const path = `/hello/${encodeURIComponent(known)}`;
  return createFakeService({
    [`PUT ${path}`]: () => new Response(null, { status: 204 }),
    [`GET ${path}`]: answer({ message: greetingFor(known) }),
  });
}

const usernameField = () => screen.getByLabelText('Username');
const dateField = () => screen.getByLabelText('Date of birth');
const button = (name: 'Save' | 'Greet') => screen.getByRole('button', { name });

describe('BirthdayCard: saving and greeting', () => {
  it('saves with PUT /hello/<name>, then GETs and shows the greeting', async () => {
    const service = birthdaysService('Zoë');
    const { user } = renderWithApi(<BirthdayCard />, service);

    await user.type(usernameField(), '  Zoë ');
    await user.type(dateField(), '1990-05-17');
    await user.click(button('Save'));

    expect(await screen.findByText(greetingFor('Zoë'))).toBeInTheDocument();
    expect(service.requests.map(({ method, url, body }) => ({ method, url, body }))).toEqual([
      { method: 'PUT', url: '/hello/Zo%C3%AB', body: { dateOfBirth: '1990-05-17' } },
      { method: 'GET', url: '/hello/Zo%C3%AB', body: undefined },
    ]);
    expect(service.requests[0]?.headers['content-type']).toBe('application/json');
  });

  it('saves on Enter in a field, as a form does', async () => {
    const service = birthdaysService();
    const { user } = renderWithApi(<BirthdayCard />, service);
    await user.type(dateField(), '1990-05-17');

    await user.type(usernameField(), 'alice{Enter}');

    expect(await screen.findByText(greetingFor('alice'))).toBeInTheDocument();
    expect(service.sent('PUT /hello/alice')).toHaveLength(1);
  });

  it('greets with a GET only', async () => {
    const service = birthdaysService();
    const { user } = renderWithApi(<BirthdayCard />, service);

    await user.type(usernameField(), 'alice');
    await user.click(button('Greet'));

    expect(await screen.findByText(greetingFor('alice'))).toBeInTheDocument();
    expect(service.requests.map(({ method, url }) => `${method} ${url}`)).toEqual([
      'GET /hello/alice',
    ]);
  });

  it('offers dates up to yesterday only', () => {
    renderWithApi(<BirthdayCard />, birthdaysService());
    const max = dateField().getAttribute('max') ?? '';
    const yesterday = new Date();
    yesterday.setDate(yesterday.getDate() - 1);

    expect(max).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    expect(new Date(`${max}T12:00`).toDateString()).toBe(yesterday.toDateString());
  });

  it('says "Enter a username" without sending anything', async () => {
    const service = birthdaysService();
    const { user } = renderWithApi(<BirthdayCard />, service);

    await user.type(usernameField(), '   ');
    await user.click(button('Greet'));

    expect(usernameField()).toHaveAccessibleDescription('Enter a username');
    expect(usernameField()).toHaveAttribute('aria-invalid', 'true');
    expect(service.requests).toHaveLength(0);
  });

  it('says "Pick a date of birth" when Save has no date, without sending anything', async () => {
    const service = birthdaysService();
    const { user } = renderWithApi(<BirthdayCard />, service);

    await user.type(usernameField(), 'alice');
    await user.click(button('Save'));

    expect(dateField()).toHaveAccessibleDescription('Pick a date of birth');
    expect(dateField()).toHaveAttribute('aria-invalid', 'true');
    expect(usernameField()).toHaveAccessibleDescription('Letters only, up to 64');
    expect(service.requests).toHaveLength(0);
  });
});

describe('BirthdayCard: what the service refuses', () => {
  it("shows the service's username error beside the field, without params.", async () => {
    const service = createFakeService({
      'GET /hello/al1ce': failWith(400, `params.username ${USERNAME_RULE}`),
    });
    const { user } = renderWithApi(<BirthdayCard />, service);

    await user.type(usernameField(), 'al1ce');
    await user.click(button('Greet'));

    await waitFor(() =>
      expect(usernameField()).toHaveAccessibleDescription(`username ${USERNAME_RULE}`),
    );
    expect(usernameField()).toHaveAttribute('aria-invalid', 'true');
    expect(screen.queryByRole('alert')).not.toBeInTheDocument();
  });

  it.each([
    [
      'body.dateOfBirth must be a real calendar date as YYYY-MM-DD, before today',
      'dateOfBirth must be a real calendar date as YYYY-MM-DD, before today',
    ],
    [
      'dateOfBirth must be before today (2025-06-01 in UTC)',
      'dateOfBirth must be before today (2025-06-01 in UTC)',
    ],
  ])('shows "%s" beside the date field', async (message, shown) => {
    const service = createFakeService({ 'PUT /hello/alice': failWith(400, message) });
    const { user } = renderWithApi(<BirthdayCard />, service);

    await user.type(usernameField(), 'alice');
    await user.type(dateField(), '2999-01-01');
    await user.click(button('Save'));

    await waitFor(() => expect(dateField()).toHaveAccessibleDescription(shown));
    expect(dateField()).toHaveAttribute('aria-invalid', 'true');
    expect(usernameField()).not.toHaveAttribute('aria-invalid', 'true');
    expect(service.sent('GET /hello/alice')).toHaveLength(0);
  });

  it('clears a field error when that field is edited, and only that one', async () => {
    const service = birthdaysService();
    const { user } = renderWithApi(<BirthdayCard />, service);
    await user.click(button('Save'));
    expect(usernameField()).toHaveAccessibleDescription('Enter a username');
    expect(dateField()).toHaveAccessibleDescription('Pick a date of birth');

    await user.type(usernameField(), 'a');
    expect(usernameField()).toHaveAccessibleDescription('Letters only, up to 64');
    expect(usernameField()).not.toHaveAttribute('aria-invalid', 'true');
    expect(dateField()).toHaveAccessibleDescription('Pick a date of birth');

    await user.type(dateField(), '1990-05-17');
    expect(dateField()).toHaveAccessibleDescription('Before today');
    expect(dateField()).not.toHaveAttribute('aria-invalid', 'true');
  });

  it('says when no date of birth is saved for that name', async () => {
    const service = createFakeService({
      'GET /hello/bob': failWith(404, 'No date of birth saved for bob'),
    });
    const { user } = renderWithApi(<BirthdayCard />, service);

    await user.type(usernameField(), 'bob');
    await user.click(button('Greet'));

    // MUI gives every Alert role="alert"; this one informs, with nothing to retry.
    expect(await screen.findByRole('alert')).toHaveTextContent(
      'No date of birth saved for bob. Save a date of birth first.',
    );
    expect(screen.queryByRole('button', { name: 'Retry' })).not.toBeInTheDocument();
  });

  it('shows a network failure with Retry, which repeats the same action', async () => {
    const service = birthdaysService();
    service.on('PUT /hello/alice', networkDown);
    const { user } = renderWithApi(<BirthdayCard />, service);
    await user.type(usernameField(), 'alice');
    await user.type(dateField(), '1990-05-17');
    await user.click(button('Save'));

    const alert = await screen.findByRole('alert');
    expect(alert).toHaveTextContent('Cannot reach the service. Check your connection and retry.');

    service.on('PUT /hello/alice', () => new Response(null, { status: 204 }));
    await user.click(within(alert).getByRole('button', { name: 'Retry' }));

    expect(await screen.findByText(greetingFor('alice'))).toBeInTheDocument();
    expect(screen.queryByText(/Cannot reach the service/)).not.toBeInTheDocument();
    expect(service.requests.map(({ method, url }) => `${method} ${url}`)).toEqual([
      'PUT /hello/alice',
      'PUT /hello/alice',
      'GET /hello/alice',
    ]);
  });

  it('shows a failure with Retry for an answer it cannot read', async () => {
    const service = createFakeService({
      'GET /hello/alice': () => new Response('<html>Sign in to the Wi-Fi</html>'),
    });
    const { user } = renderWithApi(<BirthdayCard />, service);

    await user.type(usernameField(), 'alice');
    await user.click(button('Greet'));

    const alert = await screen.findByRole('alert');
    expect(within(alert).getByRole('button', { name: 'Retry' })).toBeInTheDocument();
    expect(usernameField()).not.toHaveAttribute('aria-invalid', 'true');
  });

  it('replaces the last greeting when a new action starts', async () => {
    const service = birthdaysService();
    const { user } = renderWithApi(<BirthdayCard />, service);
    await user.type(usernameField(), 'alice');
    await user.click(button('Greet'));
    await screen.findByText(greetingFor('alice'));

    await user.clear(usernameField());
    await user.click(button('Greet'));

    expect(screen.queryByText(greetingFor('alice'))).not.toBeInTheDocument();
  });
});
