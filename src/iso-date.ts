import { z } from 'zod';

/**
 * Calendar dates as every edge takes them (config, flags, API parameters, calendar files):
 * YYYY-MM-DD naming a day that exists. Checked here, so an impossible date such as 2025-02-30
 * is refused where it was typed instead of failing later inside DuckDB or date-fns.
 */

export const ISO_DATE_HINT = 'expected a date that exists, as YYYY-MM-DD';

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

export function isIsoDate(s: string): boolean {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(s);
  if (!m) return false;
  const [year, month, day] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (month < 1 || month > 12 || day < 1) return false;
  const leap = month === 2 && year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  return day <= DAYS_IN_MONTH[month - 1] + (leap ? 1 : 0);
}

export const IsoDate = z.string().refine(isIsoDate, ISO_DATE_HINT);
