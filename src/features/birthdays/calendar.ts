/** A date on the calendar, without time or zone. `month` is 1–12. */
export interface CalendarDate {
  year: number;
  month: number;
  day: number;
}

const MS_PER_DAY = 86_400_000;

export const isLeapYear = (year: number) =>
  (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;

/** Parses `YYYY-MM-DD`; undefined unless it names a real day from year 1 on (2023-02-29 does not). */
export function parseIsoDate(text: string): CalendarDate | undefined {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text);
  if (match === null) return undefined;
  const [year, month, day] = match.slice(1).map(Number) as [number, number, number];
  const probe = utcMidnight({ year, month, day });
  const real = year >= 1 && probe.getUTCMonth() === month - 1 && probe.getUTCDate() === day;
  return real ? { year, month, day } : undefined;
}

export const formatIsoDate = ({ year, month, day }: CalendarDate) =>
  `${String(year).padStart(4, '0')}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`;

/** Negative, zero or positive as `a` is before, on or after `b`. */
export const compareDates = (a: CalendarDate, b: CalendarDate) =>
  a.year - b.year || a.month - b.month || a.day - b.day;

const formatters = new Map<string, Intl.DateTimeFormat>();
// The last answer per zone, by the second it was worked out for: a day changes on a
// second's boundary in every zone, so within one second the answer is the same, and
// formatToParts, the costly part of a greeting, runs at most once a second.
const lastToday = new Map<string, { second: number; date: CalendarDate }>();

/** The calendar date at `now` in an IANA time zone. */
export function todayIn(timeZone: string, now: Date = new Date()): CalendarDate {
  const second = Math.floor(now.getTime() / 1000);
  const last = lastToday.get(timeZone);
  if (last?.second === second) return last.date;
  let format = formatters.get(timeZone);
  if (format === undefined) {
    format = new Intl.DateTimeFormat('en-US', {
      timeZone,
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
    });
    formatters.set(timeZone, format);
  }
  const parts = Object.fromEntries(
    format.formatToParts(now).map((part) => [part.type, part.value]),
  );
  const date = { year: Number(parts.year), month: Number(parts.month), day: Number(parts.day) };
  lastToday.set(timeZone, { second, date: Object.freeze(date) });
  return date;
}

/** The day a birthday is celebrated in `year`: 29 February falls on 28 February in common years. */
export function birthdayIn(year: number, dateOfBirth: CalendarDate): CalendarDate {
  if (dateOfBirth.month === 2 && dateOfBirth.day === 29 && !isLeapYear(year)) {
    return { year, month: 2, day: 28 };
  }
  return { year, month: dateOfBirth.month, day: dateOfBirth.day };
}

/** Whole days from `today` to the next celebration of the birthday; 0 when it is today. */
export function daysUntilBirthday(dateOfBirth: CalendarDate, today: CalendarDate): number {
  let next = birthdayIn(today.year, dateOfBirth);
  if (compareDates(next, today) < 0) next = birthdayIn(today.year + 1, dateOfBirth);
  return Math.round((utcMidnight(next).getTime() - utcMidnight(today).getTime()) / MS_PER_DAY);
}

// setUTCFullYear, unlike Date.UTC, does not map years 0–99 to 1900–1999.
function utcMidnight({ year, month, day }: CalendarDate): Date {
  const date = new Date(0);
  date.setUTCFullYear(year, month - 1, day);
  return date;
}
