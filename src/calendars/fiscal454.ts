import { UTCDate } from '@date-fns/utc';
import { addDays, differenceInCalendarDays, format } from 'date-fns';

/**
 * The NRF 4-5-4 retail calendar. A fiscal year starts on the Sunday after the Saturday nearest
 * to 31 January and is named after the calendar year it starts in (FY2023 runs 29 Jan 2023 –
 * 3 Feb 2024). Quarters have periods of 4, 5 and 4 weeks; a 53-week year (every 5–6 years)
 * puts the extra week in the last period.
 */
export interface FiscalLabel {
  readonly year: number;
  /** 1–4. */
  readonly quarter: number;
  /** 1–12 (February = 1). */
  readonly period: number;
  /** 1–53 within the year. */
  readonly week: number;
}

const PERIOD_WEEKS = [4, 5, 4, 4, 5, 4, 4, 5, 4, 4, 5, 4];

/** First day (a Sunday) of fiscal year `fy`. */
export function fiscalYearStart(fy: number): Date {
  const jan31 = new UTCDate(fy, 0, 31);
  // Saturday nearest 31 January: move by the signed distance to Saturday (day 6), within ±3.
  const toSaturday = ((6 - jan31.getUTCDay() + 10) % 7) - 3;
  return addDays(jan31, toSaturday + 1);
}

export function weeksInFiscalYear(fy: number): 52 | 53 {
  return differenceInCalendarDays(fiscalYearStart(fy + 1), fiscalYearStart(fy)) === 371 ? 53 : 52;
}

export function fiscalLabel(iso: string): FiscalLabel {
  const d = new UTCDate(`${iso}T00:00:00Z`);
  let year = d.getUTCFullYear();
  if (d < fiscalYearStart(year)) year--;
  const week = Math.floor(differenceInCalendarDays(d, fiscalYearStart(year)) / 7) + 1;
  let period = 1;
  let end = PERIOD_WEEKS[0];
  while (week > end && period < 12) end += PERIOD_WEEKS[period++];
  return { year, quarter: Math.ceil(period / 3), period, week };
}

export function isoDate(d: Date): string {
  return format(d, 'yyyy-MM-dd');
}
