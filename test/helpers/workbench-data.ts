import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { rng } from './random.js';

/**
 * A small weekly data set that shows what the workbench must draw truthfully: a distribution
 * centre's store total in the millions (DC · TOTAL), a slow seller with weeks of zero sales, a
 * stock-out week and weeks with no row at all (S09 · ZERO-WK), a series whose feed lost five
 * weeks in the middle (S09 · OUTAGE, an outage: unobserved, not zero), a store closed for two
 * weeks (S10 · CLOSED), and a series with only a few weeks of history (S09 · NEWBIE: no backtest).
 * Weeks end on Sundays from 2023-01-01 to 2025-12-21 (156 weeks).
 */
export const WEEKS = 156;
export const FIRST_WEEK = '2023-01-01';

export function weekDate(i: number): string {
  return new Date(Date.parse(`${FIRST_WEEK}T00:00:00Z`) + i * 7 * 86400000).toISOString().slice(0, 10);
}

/** Weeks of S09 · ZERO-WK with zero sales (rows with units 0), and weeks without a row. */
export const ZERO_WEEKS = [150, 152, 153];
export const MISSING_WEEKS = [147];
export const STOCKOUT_WEEK = 149;
export const OUTAGE_WEEKS = [140, 141, 142, 143, 144];
export const CLOSED_WEEKS = [151, 152];

export function writeWorkbenchData(dir: string): string {
  const r = rng(17);
  const lines = ['store_id,sku,date,units,stockout,open'];
  for (let i = 0; i < WEEKS; i++) {
    const season = 1 + 0.25 * Math.sin((2 * Math.PI * i) / 52);
    lines.push(`DC,TOTAL,${weekDate(i)},${Math.round(1_400_000 * season + 60_000 * (r() - 0.5) + 1500 * i)},0,1`);
    if (!MISSING_WEEKS.includes(i)) {
      const zero = ZERO_WEEKS.includes(i);
      const units = zero ? 0 : Math.max(1, Math.round(6 * season + 4 * r()));
      lines.push(`S09,ZERO-WK,${weekDate(i)},${i === STOCKOUT_WEEK ? 1 : units},${i === STOCKOUT_WEEK ? 1 : 0},1`);
    }
    if (!OUTAGE_WEEKS.includes(i)) lines.push(`S09,OUTAGE,${weekDate(i)},${Math.round(200 * season + 20 * r())},0,1`);
    const closed = CLOSED_WEEKS.includes(i);
    lines.push(`S10,CLOSED,${weekDate(i)},${closed ? 0 : Math.round(80 * season + 10 * r())},0,${closed ? 0 : 1}`);
    if (i >= WEEKS - 3) lines.push(`S09,NEWBIE,${weekDate(i)},${5 + i % 3},0,1`);
  }
  const file = join(dir, 'weekly.csv');
  writeFileSync(file, lines.join('\n') + '\n');
  return file;
}
