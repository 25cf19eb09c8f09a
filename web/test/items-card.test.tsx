import { screen, waitFor, within } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import type { Item } from '../src/api/client.js';
import { ItemsCard } from '../src/items/ItemsCard.js';
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

const item = (id: number, name: string): Item => ({ id, name, createdAt: '2025-06-01T10:00Z' });

const NEXT_PAGE = '/items?limit=100&after=2';
const firstPage = answer([item(1, 'first'), item(2, 'second')], {
  headers: { link: `<${NEXT_PAGE}>; rel="next"` },
});

/** The names in the list, top to bottom. */
async function listedNames(): Promise<string[]> {
  const list = await screen.findByRole('list', { name: 'Items' });
  // Each row reads "<name>#<id> · <created at>": keep what comes before the id.
  return within(list)
    .getAllByRole('listitem')
    .map((row) => row.textContent.replace(/#\d+ · .*$/, ''));
}

const nameField = () => screen.getByLabelText('Item name');
const addButton = () => screen.getByRole('button', { name: 'Add' });

describe('ItemsCard: the list', () => {
  it('lists the first page from GET /items, with id and creation time', async () => {
    const service = createFakeService({ 'GET /items': firstPage });
    renderWithApi(<ItemsCard />, service);

    expect(screen.getByRole('progressbar', { name: 'Loading items' })).toBeInTheDocument();
    expect(await listedNames()).toEqual(['first', 'second']);
    expect(screen.getByText(/^#2 · .*2025/)).toBeInTheDocument();
    expect(screen.queryByRole('progressbar')).not.toBeInTheDocument();
    expect(service.requests.map(({ method, url }) => `${method} ${url}`)).toEqual(['GET /items']);
  });

  it('follows exactly the rel="next" link on Load more, and appends that page', async () => {
    const service = createFakeService({
      'GET /items': firstPage,
      [`GET ${NEXT_PAGE}`]: answer([item(3, 'third')]),
    });
    const { user } = renderWithApi(<ItemsCard />, service);
    await listedNames();

    await user.click(await screen.findByRole('button', { name: 'Load more' }));

    await waitFor(async () => expect(await listedNames()).toEqual(['first', 'second', 'third']));
    expect(service.requests.map(({ url }) => url)).toEqual(['/items', NEXT_PAGE]);
    // The last page has no Link header: nothing more to load.
    expect(screen.queryByRole('button', { name: 'Load more' })).not.toBeInTheDocument();
  });

  it('offers no Load more when the answer has no next link', async () => {
    const service = createFakeService({
      'GET /items': answer([item(1, 'only')], {
        headers: { link: '</items?limit=100&after=0>; rel="prev"' },
      }),
    });
    renderWithApi(<ItemsCard />, service);

    expect(await listedNames()).toEqual(['only']);
    expect(screen.queryByRole('button', { name: 'Load more' })).not.toBeInTheDocument();
  });

  it('says "No items yet" for an empty list', async () => {
    const service = createFakeService({ 'GET /items': answer([]) });
    renderWithApi(<ItemsCard />, service);

    expect(await screen.findByText('No items yet. Add the first one above.')).toBeInTheDocument();
    expect(screen.queryByRole('list')).not.toBeInTheDocument();
  });

  it('shows why a page could not be loaded, and Retry asks for that same page', async () => {
    const service = createFakeService({
      'GET /items': firstPage,
      [`GET ${NEXT_PAGE}`]: () => new Response('<h1>502 Bad Gateway</h1>', { status: 502 }),
    });
    const { user } = renderWithApi(<ItemsCard />, service);
    await user.click(await screen.findByRole('button', { name: 'Load more' }));

    const alert = await screen.findByRole('alert');
    expect(alert).toHaveTextContent('The service is unavailable right now. Retry shortly.');
    expect(await listedNames()).toEqual(['first', 'second']);
    expect(screen.queryByRole('button', { name: 'Load more' })).not.toBeInTheDocument();
    expect(screen.queryByText(/No items yet/)).not.toBeInTheDocument();

    service.on(`GET ${NEXT_PAGE}`, answer([item(3, 'third')]));
    await user.click(within(alert).getByRole('button', { name: 'Retry' }));

    await waitFor(async () => expect(await listedNames()).toEqual(['first', 'second', 'third']));
    expect(screen.queryByRole('alert')).not.toBeInTheDocument();
    expect(service.requests.map(({ url }) => url)).toEqual(['/items', NEXT_PAGE, NEXT_PAGE]);
  });

  it('retries the first page after a failed first load', async () => {
    const service = createFakeService({ 'GET /items': networkDown });
    const { user } = renderWithApi(<ItemsCard />, service);
    const alert = await screen.findByRole('alert');
    expect(alert).toHaveTextContent('Cannot reach the service');
    expect(screen.queryByText(/No items yet/)).not.toBeInTheDocument();

    service.on('GET /items', firstPage);
    await user.click(within(alert).getByRole('button', { name: 'Retry' }));

    expect(await listedNames()).toEqual(['first', 'second']);
    expect(service.sent('GET /items')).toHaveLength(2);
  });
});

describe('ItemsCard: abandoned loads', () => {
  // StrictMode runs each effect twice: the first load is abandoned, whatever it answers.
  it('ignores the items an abandoned load answers', async () => {
    const loads = heldAnswers();
    const service = createFakeService({ 'GET /items': loads.handler });
    renderWithApi(<ItemsCard />, service, { strict: true });
    expect(service.sent('GET /items')).toHaveLength(2);

    loads.release(1, json([]));
    await screen.findByText(/No items yet/);
    loads.release(0, json([item(1, 'stale')]));
    await settle();

    expect(screen.queryByRole('list')).not.toBeInTheDocument();
  });

  it('shows no error from an abandoned load', async () => {
    const loads = heldAnswers();
    const service = createFakeService({ 'GET /items': loads.handler });
    renderWithApi(<ItemsCard />, service, { strict: true });

    loads.release(0, new Response('gone', { status: 500 }));
    loads.release(1, json([item(1, 'first')]));
    await settle();

    expect(await listedNames()).toEqual(['first']);
    expect(screen.queryByRole('alert')).not.toBeInTheDocument();
  });
});

describe('ItemsCard: adding', () => {
  it('adds with POST /items and the trimmed name, shows it and clears the field', async () => {
    const service = createFakeService({
      'GET /items': firstPage,
      'POST /items': (request) => {
        const { name } = request.body as { name: string };
        return json(item(7, name), { status: 201 });
      },
    });
    const { user } = renderWithApi(<ItemsCard />, service);
    await listedNames();

    await user.type(nameField(), '  tripod  ');
    await user.click(addButton());

    expect(await screen.findByText('Added “tripod” (#7)')).toBeInTheDocument();
    expect(await listedNames()).toEqual(['first', 'second', 'tripod']);
    expect(nameField()).toHaveValue('');
    expect(service.sent('POST /items')).toEqual([
      expect.objectContaining({
        body: { name: 'tripod' },
        headers: { 'content-type': 'application/json' },
      }),
    ]);
  });

  it('shows each item once when a later page holds one just added', async () => {
    const service = createFakeService({
      'GET /items': answer([item(1, 'first')], {
        headers: { link: '</items?limit=1&after=1>; rel="next"' },
      }),
      'GET /items?limit=1&after=1': answer([item(2, 'lens')]),
      'POST /items': () => json(item(2, 'lens'), { status: 201 }),
    });
    const { user } = renderWithApi(<ItemsCard />, service);
    await listedNames();
    await user.type(nameField(), 'lens{Enter}');
    await screen.findByText('Added “lens” (#2)');

    await user.click(screen.getByRole('button', { name: 'Load more' }));

    await waitFor(() => expect(service.sent('GET /items?limit=1&after=1')).toHaveLength(1));
    expect(await listedNames()).toEqual(['first', 'lens']);
  });

  it('says "Enter a name" for a blank name, without a request', async () => {
    const service = createFakeService({ 'GET /items': answer([]) });
    const { user } = renderWithApi(<ItemsCard />, service);

    await user.type(nameField(), '   ');
    await user.click(addButton());

    expect(nameField()).toHaveAccessibleDescription('Enter a name');
    expect(nameField()).toHaveAttribute('aria-invalid', 'true');
    expect(service.sent('POST /items')).toHaveLength(0);

    await user.type(nameField(), 'x');
    expect(nameField()).toHaveAccessibleDescription('1 to 200 characters');
    expect(nameField()).not.toHaveAttribute('aria-invalid', 'true');
  });

  it("shows the service's error about the name beside the field", async () => {
    const message = 'name must be 1 to 200 characters after trimming (got 201)';
    const service = createFakeService({
      'GET /items': answer([]),
      'POST /items': failWith(400, message),
    });
    const { user } = renderWithApi(<ItemsCard />, service);

    await user.type(nameField(), 'x'.repeat(201));
    await user.click(addButton());

    await waitFor(() => expect(nameField()).toHaveAccessibleDescription(message));
    expect(nameField()).toHaveAttribute('aria-invalid', 'true');
    expect(nameField()).toHaveValue('x'.repeat(201));
    expect(screen.queryByRole('alert')).not.toBeInTheDocument();
  });

  it('shows a failed add in an alert, and its Retry adds again', async () => {
    const service = createFakeService({
      'GET /items': answer([]),
      'POST /items': failWith(503, 'The database is unavailable; retry shortly'),
    });
    const { user } = renderWithApi(<ItemsCard />, service);
    await screen.findByText(/No items yet/);

    await user.type(nameField(), 'tripod');
    await user.click(addButton());
    const alert = await screen.findByRole('alert');
    expect(alert).toHaveTextContent('The database is unavailable; retry shortly');
    expect(nameField()).toHaveValue('tripod');

    service.on('POST /items', () => json(item(1, 'tripod'), { status: 201 }));
    await user.click(within(alert).getByRole('button', { name: 'Retry' }));

    expect(await screen.findByText('Added “tripod” (#1)')).toBeInTheDocument();
    expect(screen.queryByText(/database is unavailable/)).not.toBeInTheDocument();
    expect(service.sent('POST /items')).toHaveLength(2);
  });
});
