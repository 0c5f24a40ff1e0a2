import { describe, expect, it } from 'vitest';
import { openDuckDb } from '../src/db/duckdb.js';
import { openIngest } from '../src/ingest/index.js';
import { readSeriesKeys } from '../src/ingest/series-reader.js';
import { parseConfig } from '../src/config/load.js';
import { calendarStage } from '../src/run/calendar-stage.js';
import type { PriorRow } from '../src/calendars/plan.js';
import { seriesTask } from '../src/run/task.js';
import { dailyRows, tempDir, writeCsv } from './helpers/tmp.js';
import { rng } from './helpers/random.js';

/**
 * A rerun gives the same bytes only if every number DuckDB adds up comes out the same bits:
 * its threads add partial sums in whatever order they finish, and floating-point addition is
 * not associative. The pooled calendar effects move every forecast, so they are summed in a
 * fixed order. 180,000 rows: several row groups, so DuckDB does aggregate in parallel.
 */
describe('sums DuckDB computes in parallel', () => {
  it('give the same pooled calendar effects, bit for bit, on every estimate', async () => {
    const r = rng(3);
    const rows: string[] = [];
    for (let k = 0; k < 300; k++) rows.push(...dailyRows(`S${k % 10}`, `K${Math.floor(k / 10)}`, '2022-01-01', 600, (i) => +(10 + 5 * Math.sin(i / 3) + 20 * r()).toFixed(3)));
    const path = writeCsv(tempDir(), 'sales.csv', 'store_id,sku,date,units', rows);
    const cfg = parseConfig({ input: { path }, horizon: 14 });
    const conn = await openDuckDb(':memory:', { threads: '2' });
    try {
      const { ingested } = await openIngest(conn, cfg, '2025-01-01');
      const keys = await readSeriesKeys(conn);
      const task = seriesTask(cfg, ingested.freq);
      const estimates: PriorRow[][] = [];
      for (let k = 0; k < 4; k++) estimates.push((await calendarStage(conn, cfg, ingested, keys, task))?.priorRows() ?? []);
      expect(estimates[0].length).toBeGreaterThan(20);
      for (const e of estimates.slice(1)) {
        expect(e.map((p) => `${p.pool} ${p.feature}`)).toEqual(estimates[0].map((p) => `${p.pool} ${p.feature}`));
        e.forEach((p, i) => expect(Object.is(p.effect, estimates[0][i].effect), `${p.pool} ${p.feature}`).toBe(true));
      }
    } finally {
      conn.closeSync();
    }
  });
});
