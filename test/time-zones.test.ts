import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openDuckDb, sqlString } from '../src/db/duckdb.js';
import { dailyRows, tempDir, writeCsv } from './helpers/tmp.js';

/**
 * Dates are calendar dates in the data's zone, whatever zone the machine runs in (issue 11,
 * item 4). Each command runs in a fresh process so that `TZ` really is the machine's zone.
 */
const cli = fileURLToPath(new URL('../dist/src/cli/main.js', import.meta.url));
const shelfcast = (tz: string, ...args: string[]) => spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', env: { ...process.env, TZ: tz } });
const ZONES = ['UTC', 'Asia/Tokyo', 'America/Los_Angeles'];

/** A Parquet file whose dates are TIMESTAMPTZ instants at local midnight in Berlin (+01:00/+02:00). */
async function berlinMidnights(dir: string): Promise<string> {
  const csv = writeCsv(dir, 'plain.csv', 'store_id,sku,date,units', [
    ...dailyRows('S1', 'A', '2024-03-01', 120, (i) => 10 + (i % 7)),
    ...dailyRows('S1', 'B', '2024-03-01', 120, (i) => 30 + 3 * (i % 7)),
  ]);
  const out = join(dir, 'sales.parquet');
  const conn = await openDuckDb();
  try {
    await conn.run(`COPY (SELECT store_id, sku, timezone('Europe/Berlin', CAST(date AS TIMESTAMP)) AS date, units FROM read_csv(${sqlString(csv)}))
      TO ${sqlString(out)} (FORMAT parquet)`);
  } finally {
    conn.closeSync();
  }
  return out;
}

describe('dates do not depend on the machine\'s time zone', () => {
  it('reads TIMESTAMPTZ local midnights as their local dates, in every zone', async () => {
    const dir = tempDir();
    const input = await berlinMidnights(dir);
    for (const tz of ZONES) {
      const r = shelfcast(tz, 'validate', '-i', input, '--json');
      expect(r.status, r.stderr).toBe(0);
      const q = JSON.parse(r.stdout).quality;
      // 2024-03-31 (the switch to summer time) lies inside: both offsets occur.
      expect([q.first_date, q.last_date, q.gaps.periods, q.rows_rejected]).toEqual(['2024-03-01', '2024-06-28', 0, 0]);
      expect(q.dates).toMatch(/local midnights/);
    }
  });

  it('publishes the same forecasts in every zone, and honours input.timezone', async () => {
    const dir = tempDir();
    const input = await berlinMidnights(dir);
    const files = ZONES.map((tz, i) => {
      const out = join(dir, `out-${i}`);
      const r = shelfcast(tz, 'run', '-i', input, '-o', out, '--horizon', '7', '--windows', '1', '--threads', '1', '--quiet');
      expect(r.status, r.stderr).toBe(0);
      return readFileSync(join(out, 'latest', 'forecasts.csv'), 'utf8');
    });
    expect(new Set(files).size).toBe(1);
    expect(files[0].split('\n')[1]).toContain(',2024-06-29,1,');

    // Told the stores' zone, the same instants read the same way; told another, they shift.
    const cfg = (zone: string): string => {
      const p = join(dir, `${zone.replace('/', '-')}.json`);
      writeFileSync(p, JSON.stringify({ input: { timezone: zone } }));
      return p;
    };
    expect(JSON.parse(shelfcast('UTC', 'validate', '-i', input, '-c', cfg('Europe/Berlin'), '--json').stdout).quality.first_date).toBe('2024-03-01');
    expect(JSON.parse(shelfcast('UTC', 'validate', '-i', input, '-c', cfg('America/New_York'), '--json').stdout).quality.first_date).toBe('2024-02-29');
  });

  it('takes a text timestamp with an offset as the date it was written on', () => {
    const dir = tempDir();
    const rows = dailyRows('S1', 'A', '2024-01-01', 60, (i) => 10 + (i % 7)).map((l) => l.replace(/,(\d{4}-\d{2}-\d{2}),/, ',$1T00:00:00+02:00,'));
    const input = writeCsv(dir, 'offsets.csv', 'store_id,sku,date,units', rows);
    for (const tz of ['UTC', 'Pacific/Auckland']) {
      const q = JSON.parse(shelfcast(tz, 'validate', '-i', input, '--json').stdout).quality;
      expect([q.first_date, q.last_date]).toEqual(['2024-01-01', '2024-02-29']);
    }
  });
});
