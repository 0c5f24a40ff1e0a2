import { addDays, format } from 'date-fns';
import { UTCDate } from '@date-fns/utc';

/** ISO date (YYYY-MM-DD) `days` after `iso`, computed in UTC so the machine's zone never shifts it. */
export function isoAddDays(iso: string, days: number): string {
  return format(addDays(new UTCDate(`${iso}T00:00:00Z`), days), 'yyyy-MM-dd');
}

/** The dates of periods after `lastDate`, one step of `stepDays` apart. */
export function targetDates(lastDate: string, stepDays: number, horizon: number): string[] {
  return Array.from({ length: horizon }, (_, i) => isoAddDays(lastDate, (i + 1) * stepDays));
}

/** Today as YYYY-MM-DD in UTC. */
export function todayIso(now = new Date()): string {
  return now.toISOString().slice(0, 10);
}
