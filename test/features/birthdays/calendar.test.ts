import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  birthdayIn,
  compareDates,
  daysUntilBirthday,
  formatIsoDate,
  isLeapYear,
  parseIsoDate,
  todayIn,
  type CalendarDate,
} from '../../../src/features/birthdays/calendar.js';
import { greeting } from '../../../src/features/birthdays/service.js';

const date = (text: string): CalendarDate => {
  const parsed = parseIsoDate(text);
  if (parsed === undefined) throw new Error(`not a date: ${text}`);
  return parsed;
};
const days = (dateOfBirth: string, today: string) =>
  daysUntilBirthday(date(dateOfBirth), date(today));

describe('parseIsoDate', () => {
  it.each(['2024-02-29', '2000-02-29', '1999-12-31', '0001-01-01', '0004-02-29'])(
    'accepts %s',
    (text) => {
      expect(formatIsoDate(date(text))).toBe(text);
    },
  );

  it.each([
    '2023-02-29',
    '1900-02-29',
    '2024-04-31',
    '2024-13-01',
    '2024-00-10',
    '2024-01-00',
    '0000-01-01',
    '24-01-01',
    '2024-1-1',
    '2024-01-01T00:00:00Z',
    '',
  ])('rejects %s', (text) => {
    expect(parseIsoDate(text)).toBeUndefined();
  });

  it('round-trips every real date', () => {
    fc.assert(
      fc.property(
        fc.date({ min: new Date('0001-01-01'), max: new Date('9999-12-31'), noInvalidDate: true }),
        (d) => {
          const text = d.toISOString().slice(0, 10);
          expect(formatIsoDate(date(text))).toBe(text);
        },
      ),
    );
  });
});

describe('isLeapYear', () => {
  it('follows the Gregorian rules', () => {
    expect([1900, 2000, 2023, 2024, 2100, 2400].map(isLeapYear)).toEqual([
      false,
      true,
      false,
      true,
      false,
      true,
    ]);
  });
});

describe('daysUntilBirthday', () => {
  it('is 0 on the birthday', () => {
    expect(days('1990-11-23', '2026-11-23')).toBe(0);
  });

  it('is 1 the day before', () => {
    expect(days('1990-11-24', '2026-11-23')).toBe(1);
  });

  it('wraps to next year the day after', () => {
    expect(days('1990-11-22', '2026-11-23')).toBe(364);
    expect(days('1990-11-22', '2027-11-23')).toBe(365); // 29 Feb 2028 lies in between
  });

  it('crosses the year end', () => {
    expect(days('1990-01-01', '2026-12-31')).toBe(1);
    expect(days('1990-12-31', '2027-01-01')).toBe(364);
  });

  it('celebrates 29 February on 28 February in common years', () => {
    expect(days('2000-02-29', '2027-02-28')).toBe(0);
    expect(days('2000-02-29', '2027-02-27')).toBe(1);
    expect(days('2000-02-29', '2027-03-01')).toBe(365); // until 29 February 2028, a leap year
  });

  it('celebrates 29 February on 29 February in leap years', () => {
    expect(days('2000-02-29', '2028-02-28')).toBe(1);
    expect(days('2000-02-29', '2028-02-29')).toBe(0);
    expect(days('2000-02-29', '2027-12-31')).toBe(60);
  });

  it('is always between 0 and 365, and 0 exactly on the celebrated day', () => {
    const realDate = fc
      .date({ min: new Date('1900-01-01'), max: new Date('2200-12-31'), noInvalidDate: true })
      .map((d) => date(d.toISOString().slice(0, 10)));
    fc.assert(
      fc.property(realDate, realDate, (dateOfBirth, today) => {
        const n = daysUntilBirthday(dateOfBirth, today);
        expect(n).toBeGreaterThanOrEqual(0);
        expect(n).toBeLessThanOrEqual(365);
        expect(n === 0).toBe(compareDates(birthdayIn(today.year, dateOfBirth), today) === 0);
      }),
    );
  });

  it('counts down by one each day until the birthday', () => {
    fc.assert(
      fc.property(
        fc.date({ min: new Date('1950-01-01'), max: new Date('2100-12-30'), noInvalidDate: true }),
        fc.date({ min: new Date('1900-01-01'), max: new Date('1949-12-31'), noInvalidDate: true }),
        (day, born) => {
          const today = date(day.toISOString().slice(0, 10));
          const tomorrow = date(new Date(day.getTime() + 86_400_000).toISOString().slice(0, 10));
          const dateOfBirth = date(born.toISOString().slice(0, 10));
          const n = daysUntilBirthday(dateOfBirth, today);
          const next = daysUntilBirthday(dateOfBirth, tomorrow);
          if (n > 0) expect(next).toBe(n - 1);
          else expect(next).toBeGreaterThanOrEqual(364);
        },
      ),
    );
  });
});

describe('todayIn', () => {
  const instant = new Date('2026-12-31T23:30:00Z');

  it('is the UTC date in UTC', () => {
    expect(formatIsoDate(todayIn('UTC', instant))).toBe('2026-12-31');
  });

  it('is already next year east of UTC', () => {
    expect(formatIsoDate(todayIn('Europe/Berlin', instant))).toBe('2027-01-01');
    expect(formatIsoDate(todayIn('Pacific/Kiritimati', new Date('2026-12-31T10:00:00Z')))).toBe(
      '2027-01-01',
    );
  });

  it('is still yesterday west of UTC', () => {
    expect(formatIsoDate(todayIn('America/Los_Angeles', new Date('2027-01-01T05:00:00Z')))).toBe(
      '2026-12-31',
    );
  });
});

describe('greeting', () => {
  it('wishes a happy birthday on the day', () => {
    expect(greeting('Alice', 0)).toBe('Hello, Alice! Happy birthday!');
  });

  it('says "1 day" the day before', () => {
    expect(greeting('Alice', 1)).toBe('Hello, Alice! Your birthday is in 1 day');
  });

  it('says "N days" otherwise', () => {
    expect(greeting('Alice', 5)).toBe('Hello, Alice! Your birthday is in 5 days');
  });
});
