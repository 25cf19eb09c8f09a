import { HttpError } from '../../platform/errors.js';
import {
  compareDates,
  daysUntilBirthday,
  formatIsoDate,
  parseIsoDate,
  todayIn,
} from './calendar.js';
import type { BirthdaysStore } from './store.js';

/** The greeting for someone `days` away from their birthday. */
export function greeting(username: string, days: number): string {
  if (days === 0) return `Hello, ${username}! Happy birthday!`;
  return `Hello, ${username}! Your birthday is in ${days} ${days === 1 ? 'day' : 'days'}`;
}

/** Birthdays: dates of birth strictly in the past, greetings by the configured zone's today. */
export function createBirthdaysService(store: BirthdaysStore, timeZone: string) {
  return {
    async save(username: string, dateOfBirth: string): Promise<void> {
      const date = parseIsoDate(dateOfBirth);
      if (date === undefined)
        throw new HttpError(400, 'dateOfBirth must be a real date as YYYY-MM-DD');
      const today = todayIn(timeZone);
      if (compareDates(date, today) >= 0) {
        throw new HttpError(
          400,
          `dateOfBirth must be before today (${formatIsoDate(today)} in ${timeZone})`,
        );
      }
      await store.save(username, dateOfBirth);
    },

    async greet(username: string): Promise<string> {
      const stored = await store.find(username);
      const dateOfBirth = stored === undefined ? undefined : parseIsoDate(stored);
      if (dateOfBirth === undefined)
        throw new HttpError(404, `No date of birth saved for ${username}`);
      return greeting(username, daysUntilBirthday(dateOfBirth, todayIn(timeZone)));
    },
  };
}
