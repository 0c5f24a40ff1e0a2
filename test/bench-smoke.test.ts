import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseConfig } from '../src/config/load.js';
import { runForecast } from '../src/run/run.js';
import { openDuckDb, queryOne } from '../src/db/duckdb.js';
import { tempDir } from './helpers/tmp.js';

/**
 * The M5-shaped benchmark at smoke size (2,000 series): a weekly retrain and a nightly run on
 * real worker threads must forecast every series, with sound quantiles. Correctness only;
 * the timings belong in bench/ and BENCHMARKS.md.
 */
describe('M5-shaped smoke benchmark', () => {
  it('retrains and then runs nightly on 2,000 generated series', async () => {
    const dir = tempDir();
    const input = join(dir, 'm5-smoke.parquet');
    const generator = fileURLToPath(new URL('../bench/m5/generate.mjs', import.meta.url));
    execFileSync(process.execPath, [generator, '--series', '2000', '--days', '240', '--out', input, '--seed', '3', '--no-stats'], { stdio: 'ignore' });
    const cfg = parseConfig({ input: { path: input }, out: join(dir, 'out'), freq: 'day', threads: 2 });
    const retrain = await runForecast(cfg, undefined, new Date('2026-01-01T01:00:00Z'), 'retrain');
    expect(retrain.series).toBe(2000);
    expect(retrain.decisions.retrain).toBe(2000);
    const nightly = await runForecast(cfg, undefined, new Date('2026-01-02T02:00:00Z'), 'run');
    expect(nightly.decisions.reused).toBeGreaterThan(1900);
    for (const run of [retrain, nightly]) {
      expect(run.rows).toBe(2000 * 28);
      const conn = await openDuckDb();
      const bad = await queryOne<{ n: number; series: number }>(conn, `
        SELECT count(*) FILTER (NOT (isfinite(forecast) AND forecast >= 0 AND p10 >= 0 AND p10 <= p50 AND p50 <= p90 AND isfinite(p90)))::INTEGER AS n,
               count(DISTINCT (store_id, sku))::INTEGER AS series
        FROM read_parquet('${join(run.dir, 'forecasts.parquet')}')`);
      conn.closeSync();
      expect(bad).toEqual({ n: 0, series: 2000 });
      const manifest = JSON.parse(readFileSync(join(run.dir, 'manifest.json'), 'utf8'));
      expect(Object.values(manifest.series_per_class as Record<string, number>).reduce((a, b) => a + b, 0)).toBe(2000);
    }
  });
});
