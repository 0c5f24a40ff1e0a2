import { beforeAll, describe, expect, it } from 'vitest';
import { existsSync, readFileSync, readdirSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { parseConfig } from '../src/config/load.js';
import { runForecast, type RunSummary } from '../src/run/run.js';
import { openDuckDb, queryOne } from '../src/db/duckdb.js';
import { dailyRows, parseCsv, tempDir, writeCsv } from './helpers/tmp.js';

const sha = (p: string): string => createHash('sha256').update(readFileSync(p)).digest('hex');

describe('end-to-end run on the demo data', () => {
  let out: string;
  let summary: RunSummary;
  let rows: Record<string, string>[];

  beforeAll(async () => {
    out = tempDir();
    summary = await runForecast(parseConfig({ out, threads: 2 }));
    rows = parseCsv(readFileSync(join(summary.dir, 'forecasts.csv'), 'utf8'));
  });

  it('publishes every file and points latest at the run', () => {
    for (const f of ['forecasts.csv', 'forecasts.parquet', 'series.csv', 'manifest.json', 'quality.json', 'rejects.csv']) expect(existsSync(join(summary.dir, f))).toBe(true);
    expect(readlinkSync(join(out, 'latest'))).toBe(join('runs', summary.runId));
    expect(readdirSync(out).sort()).toEqual(['ingest', 'latest', 'runs', 'state.duckdb']);
  });

  it('forecasts every series for the full horizon from the same last date', () => {
    expect(summary.series).toBe(48);
    expect(rows.length).toBe(48 * 28);
    expect(new Set(rows.map((r) => r.date)).size).toBe(28);
    expect(rows[0].date).toBe('2026-01-01');
    expect(Object.keys(rows[0])).toEqual(['run_id', 'store_id', 'sku', 'date', 'step', 'forecast', 'p10', 'p50', 'p90', 'model', 'model_version', 'forecast_final', 'override']);
    expect(rows.every((r) => r.model_version === '1')).toBe(true);
  });

  it('has finite, non-negative, non-crossing quantiles on every row', () => {
    for (const r of rows) {
      const [f, p10, p50, p90] = [r.forecast, r.p10, r.p50, r.p90].map(Number);
      for (const v of [f, p10, p50, p90]) {
        expect(Number.isFinite(v)).toBe(true);
        expect(v).toBeGreaterThanOrEqual(0);
      }
      expect(p10).toBeLessThanOrEqual(p50);
      expect(p50).toBeLessThanOrEqual(p90);
    }
  });

  it('writes a manifest whose checksums match the files', () => {
    const m = JSON.parse(readFileSync(join(summary.dir, 'manifest.json'), 'utf8'));
    expect(m.run_id).toBe(summary.runId);
    expect(m.rows.forecasts).toBe(rows.length);
    for (const [name, entry] of Object.entries(m.files as Record<string, { sha256: string }>)) expect(entry.sha256).toBe(sha(join(summary.dir, name)));
    expect(Object.values(m.series_per_model as Record<string, number>).reduce((a, b) => a + b, 0)).toBe(48);
    expect(m.input.sha256).toHaveLength(64);
    expect(m.code_version).toMatch(/^shelfcast@/);
  });

  it('reports the demo data\'s flaws in quality.json and rejects.csv', () => {
    const q = JSON.parse(readFileSync(join(summary.dir, 'quality.json'), 'utf8'));
    expect(q.rules.duplicate.rows).toBe(1);
    expect(q.rules.bad_date.rows).toBe(1);
    expect(q.rules.negative_units.rows).toBeGreaterThan(0);
    const rows = parseCsv(readFileSync(join(summary.dir, 'rejects.csv'), 'utf8'));
    expect(rows.filter((r) => r.action === 'rejected').map((r) => r.rule).sort()).toEqual(['bad_date', 'duplicate']);
    // Corrected rows are listed too, with what was done to them.
    expect(rows.filter((r) => r.action === 'set to 0')).toHaveLength(q.rules.negative_units.rows);
  });

  it('writes Parquet with the same rows as the CSV', async () => {
    const conn = await openDuckDb();
    const r = await queryOne<{ n: number; total: number }>(conn, `SELECT count(*)::INTEGER AS n, sum(forecast) AS total FROM read_parquet('${join(summary.dir, 'forecasts.parquet')}')`);
    conn.closeSync();
    expect(r.n).toBe(rows.length);
    expect(r.total).toBeCloseTo(rows.reduce((a, x) => a + Number(x.forecast), 0), 3);
  });

  it('gives byte-identical forecast files for the same input and config, whatever the threads and batches', async () => {
    const again = await runForecast(parseConfig({ out: tempDir(), threads: 1, batchSize: 7 }));
    expect(again.runId).toBe(summary.runId);
    expect(sha(join(again.dir, 'forecasts.csv'))).toBe(sha(join(summary.dir, 'forecasts.csv')));
    expect(sha(join(again.dir, 'forecasts.parquet'))).toBe(sha(join(summary.dir, 'forecasts.parquet')));
  });
});

describe('runs that must not publish', () => {
  it('stops before publishing when too many rows are rejected, keeping the rejects', async () => {
    const dir = tempDir();
    const rows = [...dailyRows('S1', 'A', '2024-01-01', 20, () => 5), ...Array.from({ length: 5 }, () => 'S1,A,not-a-date,1')];
    const input = writeCsv(dir, 'sales.csv', 'store_id,sku,date,units', rows);
    const out = join(dir, 'out');
    await expect(runForecast(parseConfig({ out, input: { path: input } }))).rejects.toThrow(/5 of 25 rows \(20\.0%\) were rejected.*nothing published/);
    expect(existsSync(join(out, 'latest'))).toBe(false);
    expect(existsSync(join(out, 'runs'))).toBe(false);
    const failed = readdirSync(join(out, 'failed'));
    expect(parseCsv(readFileSync(join(out, 'failed', failed[0], 'rejects.csv'), 'utf8'))).toHaveLength(5);
  });
});

describe('series that defeat their model', () => {
  it('still get a forecast, and the manifest lists them', async () => {
    const dir = tempDir();
    const rows = [
      ...dailyRows('S1', 'OK', '2024-01-01', 60, (i) => 20 + (i % 7)),
      // Never observed: every day is a stock-out, so no model has data to fit.
      ...dailyRows('S1', 'GHOST', '2024-01-01', 60, () => 0).map((r) => `${r},1`),
    ].map((r) => (r.split(',').length === 4 ? `${r},0` : r));
    const input = writeCsv(dir, 'sales.csv', 'store_id,sku,date,units,stockout', rows);
    const s = await runForecast(parseConfig({ out: join(dir, 'out'), input: { path: input } }));
    const m = JSON.parse(readFileSync(join(s.dir, 'manifest.json'), 'utf8'));
    expect(m.fallbacks).toEqual([{ store_id: 'S1', sku: 'GHOST', model: 'zero', reason: 'no observed periods' }]);
    const ghost = parseCsv(readFileSync(join(s.dir, 'forecasts.csv'), 'utf8')).filter((r) => r.sku === 'GHOST');
    expect(ghost).toHaveLength(28);
    expect(ghost.every((r) => r.forecast === '0' && r.p90 === '0')).toBe(true);
  });
});

describe('other source formats', () => {
  const rows = [...dailyRows('S1', 'A', '2024-01-01', 60, (i) => 10 + (i % 7)), ...dailyRows('S2', 'B', '2024-01-01', 60, (i) => 20 + (i % 7))];

  async function convert(sql: string): Promise<void> {
    const conn = await openDuckDb();
    await conn.run(sql);
    conn.closeSync();
  }

  it('reads Parquet and a DuckDB table with the same result as CSV, with renamed columns', async () => {
    const dir = tempDir();
    const csv = writeCsv(dir, 'sales.csv', 'store_id,sku,date,units', rows);
    const parquet = join(dir, 'sales.parquet');
    const db = join(dir, 'warehouse.duckdb');
    await convert(`COPY (SELECT store_id AS shop, sku AS item, CAST(date AS DATE) AS day, units::DOUBLE AS qty FROM read_csv('${csv}')) TO '${parquet}' (FORMAT parquet)`);
    await convert(`ATTACH '${db}' AS w; CREATE TABLE w.pos AS SELECT * FROM read_parquet('${parquet}')`);
    const columns = { store_id: 'shop', sku: 'item', date: 'day', units: 'qty' };
    const fromCsv = await runForecast(parseConfig({ out: join(dir, 'a'), input: { path: csv } }));
    const fromParquet = await runForecast(parseConfig({ out: join(dir, 'b'), input: { path: parquet, columns } }));
    const fromDb = await runForecast(parseConfig({ out: join(dir, 'c'), input: { path: db, table: 'pos', columns } }));
    const body = (d: string): string => readFileSync(join(d, 'forecasts.csv'), 'utf8').split('\n').slice(1).map((l) => l.split(',').slice(1).join(',')).join('\n');
    expect(body(fromParquet.dir)).toBe(body(fromCsv.dir));
    expect(body(fromDb.dir)).toBe(body(fromCsv.dir));
    const series = parseCsv(readFileSync(join(fromDb.dir, 'series.csv'), 'utf8'));
    expect(series.map((s) => [s.store_id, s.sku, s.demand_class])).toEqual([['S1', 'A', 'smooth'], ['S2', 'B', 'smooth']]);
  });
});
