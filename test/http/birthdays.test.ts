import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backends, startApp, testConfig, useApp } from '../helpers/app.js';
import { expectError } from '../helpers/http.js';

const MS_PER_DAY = 86_400_000;
const KIRITIMATI = 'Pacific/Kiritimati';

interface Ymd {
  year: number;
  month: number;
  day: number;
}

/** The calendar date in a time zone, read with Intl (independent of the service's code). */
function dateIn(timeZone: string, at = new Date()): Ymd {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone,
    year: 'numeric',
    month: 'numeric',
    day: 'numeric',
  }).formatToParts(at);
  const part = (type: string) => Number(parts.find((p) => p.type === type)?.value);
  return { year: part('year'), month: part('month'), day: part('day') };
}

const iso = ({ year, month, day }: Ymd) =>
  `${String(year).padStart(4, '0')}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`;
const utcToday = () => dateIn('UTC');
const utcTomorrow = () => dateIn('UTC', new Date(Date.now() + MS_PER_DAY));
/** Born on this month/day 28 years before `today`'s year: a multiple of 4, so 29 Feb stays valid. */
const bornOn = (date: Ymd, today = utcToday()) => iso({ ...date, year: today.year - 28 });

const isLeap = (y: number) => (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
/** Days from today (UTC) to the next `month`/`day`, which falls on 28 Feb in common years. */
function daysUntil(month: number, day: number, today = utcToday()): number {
  const on = (year: number) =>
    month === 2 && day === 29 && !isLeap(year)
      ? Date.UTC(year, 1, 28)
      : Date.UTC(year, month - 1, day);
  const now = Date.UTC(today.year, today.month - 1, today.day);
  const next = on(today.year) >= now ? on(today.year) : on(today.year + 1);
  return (next - now) / MS_PER_DAY;
}
const greetingFor = (name: string, days: number) =>
  days === 0
    ? `Hello, ${name}! Happy birthday!`
    : `Hello, ${name}! Your birthday is in ${days} ${days === 1 ? 'day' : 'days'}`;

describe.each(backends)('birthdays on $name', (backend) => {
  const ctx = useApp(backend);

  const path = (username: string) => `/hello/${encodeURIComponent(username)}`;
  const save = (username: string, body: unknown, on = ctx.app) =>
    on.inject({ method: 'PUT', url: path(username), payload: body as object });
  const greet = (username: string, on = ctx.app) =>
    on.inject({ method: 'GET', url: path(username) });

  function expectSaved(res: LightMyRequestResponse): void {
    expect({ status: res.statusCode, body: res.body }).toEqual({ status: 204, body: '' });
    expect(res.headers['x-request-id']).toEqual(expect.any(String));
  }
  async function expectGreeting(username: string, message: string, on = ctx.app): Promise<void> {
    const res = await greet(username, on);
    expect({ status: res.statusCode, body: res.json<unknown>() }).toEqual({
      status: 200,
      body: { message },
    });
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(res.headers['x-request-id']).toEqual(expect.any(String));
  }

  it('saves a date of birth (204, empty body) and greets with the days left', async () => {
    expectSaved(await save('alice', { dateOfBirth: '1990-05-17' }));
    await expectGreeting('alice', greetingFor('alice', daysUntil(5, 17)));
  });

  it('saving again updates the date of birth', async () => {
    expectSaved(await save('alice', { dateOfBirth: '1990-05-17' }));
    expectSaved(await save('alice', { dateOfBirth: bornOn(utcToday()) }));
    await expectGreeting('alice', 'Hello, alice! Happy birthday!');
  });

  it('wishes a happy birthday on the day, and says "in 1 day" the day before', async () => {
    expectSaved(await save('today', { dateOfBirth: bornOn(utcToday()) }));
    expectSaved(await save('tomorrow', { dateOfBirth: bornOn(utcTomorrow()) }));
    await expectGreeting('today', 'Hello, today! Happy birthday!');
    await expectGreeting('tomorrow', 'Hello, tomorrow! Your birthday is in 1 day');
  });

  it('answers 404 for an unknown user', async () => {
    expectError(await greet('nobody'), 404);
  });

  it.each([
    ['digits', 'al1ce'],
    ['an underscore', 'al_ice'],
    ['a space', 'al ice'],
    ['a hyphen', 'al-ice'],
    ['65 letters', 'a'.repeat(65)],
  ])('rejects a username with %s: 400 on PUT and GET', async (_case, username) => {
    expectError(await save(username, { dateOfBirth: '1990-05-17' }), 400, /username/);
    expectError(await greet(username), 400, /username/);
  });

  it.each([
    ['Unicode letters', 'Zoë'],
    ['CJK letters', '日本'],
    ['accented letters', 'Ñandú'],
    ['mixed case', 'McKenzieÅsa'],
    ['64 letters', 'b'.repeat(64)],
    ['64 CJK letters', '字'.repeat(64)],
  ])('accepts a username of %s and echoes it exactly', async (_case, username) => {
    expectSaved(await save(username, { dateOfBirth: '1990-05-17' }));
    await expectGreeting(username, greetingFor(username, daysUntil(5, 17)));
  });

  it('treats a decomposed username as the same user as its composed form', async () => {
    const composed = 'Zo\u00eb';
    const decomposed = 'Zoe\u0308';
    expectSaved(await save(decomposed, { dateOfBirth: bornOn(utcToday()) }));
    await expectGreeting(composed, `Hello, ${composed}! Happy birthday!`);
    expectSaved(await save(composed, { dateOfBirth: bornOn(utcTomorrow()) }));
    await expectGreeting(decomposed, `Hello, ${composed}! Your birthday is in 1 day`);
  });

  it.each([
    ['a day that does not exist', { dateOfBirth: '2023-02-29' }],
    ['month 13', { dateOfBirth: '2024-13-01' }],
    ['31 April', { dateOfBirth: '2024-04-31' }],
    ['a month without a leading zero', { dateOfBirth: '1990-5-17' }],
    ['a day-first date', { dateOfBirth: '17/05/1990' }],
    ['a date-time', { dateOfBirth: '1990-05-17T00:00:00Z' }],
    ['year 0', { dateOfBirth: '0000-01-01' }],
    ['a number', { dateOfBirth: 19900517 }],
    ['null', { dateOfBirth: null }],
    ['a missing field', {}],
    ['an extra property', { dateOfBirth: '1990-05-17', name: 'alice' }],
  ])('rejects %s with 400 and saves nothing', async (_case, body) => {
    expectError(await save('alice', body), 400, /dateOfBirth|body/);
    expectError(await greet('alice'), 404);
  });

  it.each([
    ['today', () => iso(utcToday())],
    ['tomorrow', () => iso(utcTomorrow())],
    ['next year', () => iso({ ...utcToday(), year: utcToday().year + 1, day: 1 })],
  ])('rejects a date of birth of %s: it must be before today', async (_case, date) => {
    expectError(await save('alice', { dateOfBirth: date() }), 400, /before today/);
    expectError(await greet('alice'), 404);
  });

  it.each(['2000-02-29', '1990-05-17', '0001-01-01'])('accepts %s', async (dateOfBirth) => {
    expectSaved(await save('alice', { dateOfBirth }));
    const [, month, day] = dateOfBirth.split('-').map(Number) as [number, number, number];
    await expectGreeting('alice', greetingFor('alice', daysUntil(month, day)));
  });

  it('rejects a body that is not JSON', async () => {
    const res = await ctx.app.inject({
      method: 'PUT',
      url: '/hello/alice',
      headers: { 'content-type': 'application/json' },
      payload: '{"dateOfBirth":',
    });
    expectError(res, 400);
  });

  describe(`with TIME_ZONE=${KIRITIMATI} (UTC+14)`, () => {
    let kiritimati: FastifyInstance;

    beforeAll(async () => {
      // A second replica on the same database (PGlite: its own in-memory one).
      kiritimati = await startApp(testConfig({ ...ctx.env, TIME_ZONE: KIRITIMATI }));
    });

    afterAll(async () => {
      await kiritimati.close();
    });

    it("greets by today's date in that zone, not in UTC", async () => {
      const today = dateIn(KIRITIMATI);
      const dateOfBirth = bornOn(today, today);
      expectSaved(await save('kiri', { dateOfBirth }, kiritimati));
      await expectGreeting('kiri', 'Hello, kiri! Happy birthday!', kiritimati);
      // The UTC ctx.app, on the same date of birth, still counts in UTC (a day behind after 10:00).
      expectSaved(await save('kiri', { dateOfBirth }));
      const sameDay = iso(today) === iso(utcToday());
      await expectGreeting('kiri', greetingFor('kiri', sameDay ? 0 : 1));
    });

    it("refuses that zone's today as a date of birth", async () => {
      const res = await save('kiri', { dateOfBirth: iso(dateIn(KIRITIMATI)) }, kiritimati);
      expectError(res, 400, /before today/);
    });
  });
});
