import type { Queryable } from '../../platform/database/index.js';

/** The SQL of birthdays: one row per username. Dates travel as text, never through a JS Date. */
export function createBirthdaysStore(db: Queryable) {
  return {
    async save(username: string, dateOfBirth: string): Promise<void> {
      await db.query(
        `INSERT INTO birthdays (username, date_of_birth) VALUES ($1, $2::date)
         ON CONFLICT (username) DO UPDATE SET date_of_birth = EXCLUDED.date_of_birth, updated_at = now()`,
        [username, dateOfBirth],
      );
    },

    async find(username: string): Promise<string | undefined> {
      const [row] = await db.query<{ date_of_birth: string }>(
        'SELECT date_of_birth::text AS date_of_birth FROM birthdays WHERE username = $1',
        [username],
      );
      return row?.date_of_birth;
    },
  };
}

export type BirthdaysStore = ReturnType<typeof createBirthdaysStore>;
