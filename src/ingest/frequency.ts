import type { DuckDBConnection } from '@duckdb/node-api';
import { UserError } from '../errors.js';
import { queryOne } from '../db/duckdb.js';

export interface Frequency {
  readonly name: 'day' | 'week';
  /** Days between consecutive periods. */
  readonly days: 1 | 7;
}

export const DAY: Frequency = { name: 'day', days: 1 };
const WEEK: Frequency = { name: 'week', days: 7 };

/**
 * The most common spacing between consecutive dates of a series among accepted rows of
 * `checked` (on a large input, in a fixed 1/32 of the series), or the configured
 * frequency, unless the spacing says the data is the other one.
 */
export async function inferFrequency(conn: DuckDBConnection, setting: 'auto' | 'day' | 'week', path: string, sample = false): Promise<Frequency> {
  const r = await queryOne<{ step: number | null }>(conn, `
    SELECT mode(step)::INTEGER AS step FROM (
      SELECT date_diff('day', lag(d) OVER (PARTITION BY sid ORDER BY d), d) AS step
      FROM checked WHERE rule IS NULL ${sample ? 'AND sid % 32 = 0' : ''}
    ) WHERE step > 0`);
  if (setting !== 'auto') {
    // A setting the dates contradict would publish six zero days a week, or reject six rows in seven.
    const set = setting === 'day' ? DAY : WEEK;
    const looks = r.step === 1 ? DAY : r.step === 7 ? WEEK : null;
    if (looks !== null && looks !== set) {
      const name = (f: Frequency): string => (f === DAY ? 'daily' : 'weekly');
      throw new UserError(`input ${path}: freq is ${setting} (--freq or the config), but the data looks ${name(looks)} (dates most often ${r.step} day${r.step === 1 ? '' : 's'} apart); pass --freq ${looks.name} or leave freq to be inferred`);
    }
    return set;
  }
  if (r.step === 1) return DAY;
  if (r.step === 7) return WEEK;
  if (r.step === null) throw new UserError(`input ${path}: cannot infer the frequency (no series has two dates); pass --freq day or --freq week`);
  throw new UserError(`input ${path}: cannot infer the frequency: dates are most often ${r.step} days apart; shelfcast handles daily and weekly data (pass --freq to choose)`);
}
