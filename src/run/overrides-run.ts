import { copyFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { resolve } from 'node:path';
import type { Config } from '../config/schema.js';
import { UserError } from '../errors.js';
import { openDuckDb, sqlString } from '../db/duckdb.js';
import { todayIso } from '../ingest/dates.js';
import { fiscalLabel } from '../calendars/fiscal454.js';
import { ARTIFACTS, artifactPath, MANIFEST } from '../publish/artifacts.js';
import { createStaging, discardStaging, promote, runDir, switchLatest } from '../publish/atomic.js';
import { ForecastCsvWriter } from '../publish/forecast-csv.js';
import { quantileColumn } from '../publish/format.js';
import { describeFiles, writeManifest, type WrittenFiles } from '../publish/manifest.js';
import { forecastCsvToParquet } from '../publish/parquet.js';
import { activeOverrides, logApplied, OverrideBook } from '../publish/overrides.js';
import { lockOutput } from '../publish/recover.js';
import { RunStore } from '../publish/run-store.js';
import { StateBusy, inTransaction, recordRun, setPublishedRun, withState } from '../registry/state.js';
import { pruneAfterPublish } from './retention.js';
import { silentEvents, type RunEvents } from './events.js';

export interface OverridesRunSummary {
  readonly runId: string;
  readonly base: string;
  readonly dir: string;
  /** Active overrides, those that set a row, and the rows they set. */
  readonly active: number;
  readonly applied: number;
  readonly rows: number;
  /** False when the same base and overrides were already published (nothing new to publish). */
  readonly published: boolean;
}

/**
 * `shelfcast overrides apply`: publish the latest run again with the active overrides applied,
 * without forecasting anything. The new run holds the latest run's files as they are, except
 * forecasts.csv and forecasts.parquet, whose `forecast_final` and `override` columns now carry
 * the overrides (the statistical forecast and its quantiles are unchanged). It is published
 * like every run, under the lock: staged, registered (kind `overrides`, the overrides' `applied`
 * actions logged in the same transaction), renamed into runs/ and `latest` switched. Its id is
 * the base run's data date and a hash of the base run and the overrides, so applying the same
 * overrides twice publishes once.
 */
export async function applyOverridesRun(cfg: Config, by: string, events: RunEvents = silentEvents, now = new Date()): Promise<OverridesRunSummary> {
  const out = resolve(cfg.out);
  const started = Date.now();
  const lock = await lockOutput(out, 'overrides apply', (m) => events.info(m));
  let staging: string | null = null;
  const conn = await openDuckDb(':memory:', { memory_limit: cfg.memoryLimit });
  try {
    const store = new RunStore(out);
    const baseId = store.latestId();
    const base = baseId ? store.manifest(baseId) : null;
    if (!baseId || !base) throw new UserError(`no published run in ${out} to apply overrides to; run shelfcast run first`);
    // An overrides run republishes the statistical forecasts of the run it was made from.
    const statistical = base.kind === 'overrides' && base.overrides?.base_run ? base.overrides.base_run : baseId;
    const source = store.manifest(statistical) ?? base;
    const sourceId = source.run_id;
    const book = new OverrideBook(await withState(out, (db) => activeOverrides(db, todayIso(now))));
    const runId = `${source.data.last_date.replaceAll('-', '')}-${createHash('sha256').update(`overrides\0${sourceId}\0${book.fingerprint()}`).digest('hex').slice(0, 10)}`;
    if (store.manifest(runId)) {
      const m = store.manifest(runId);
      return { runId, base: sourceId, dir: runDir(out, runId), active: book.size, applied: m?.overrides?.applied ?? 0, rows: m?.overrides?.rows ?? 0, published: false };
    }
    const from = runDir(out, sourceId);
    staging = createStaging(out, runId);
    const written: Record<string, number | null> = {};
    for (const a of ARTIFACTS) {
      if (a.name === MANIFEST || a.name === 'forecasts.csv' || a.name === 'forecasts.parquet') continue;
      const entry = source.files[a.name];
      if (!entry) continue;
      copyFileSync(artifactPath(from, a.name), artifactPath(staging, a.name));
      written[a.name] = entry.rows ?? null;
    }
    const fiscal = 'forecasts-fiscal.csv' in source.files;
    const rows = await rewriteForecasts(conn, artifactPath(from, 'forecasts.parquet'), artifactPath(staging, 'forecasts.csv'), runId, source.quantiles, fiscal, book);
    await forecastCsvToParquet(conn, artifactPath(staging, 'forecasts.csv'), artifactPath(staging, 'forecasts.parquet'), source.quantiles, fiscal);
    written['forecasts.csv'] = rows;
    written['forecasts.parquet'] = rows;
    const files = await describeFiles(staging, written as WrittenFiles);
    const finished = new Date();
    const applied = { base_run: sourceId, active: book.size, applied: book.applied.size, rows: [...book.applied.values()].reduce((a, b) => a + b, 0) };
    writeManifest(staging, {
      ...source,
      run_id: runId,
      kind: 'overrides',
      started_at: new Date(started).toISOString(),
      finished_at: finished.toISOString(),
      duration_s: (finished.getTime() - started) / 1000,
      files,
      overrides: applied,
      stage_seconds: { publish: (finished.getTime() - started) / 1000 },
    });
    lock.assertHeld();
    const at = now.toISOString();
    const dir = runDir(out, runId);
    await withState(out, (db) => inTransaction(db, async () => {
      await recordRun(db, {
        run_id: runId, kind: 'overrides', started_at: at, finished_at: at, input_path: source.input.path, input_sha256: source.input.sha256,
        code_version: source.code_version, config_hash: source.config_hash, config: source.config, calendars: source.calendars, series: source.data.series,
        retrained: 0, reused: 0, pinned: 0, dir,
      });
      await setPublishedRun(db, runId);
      await logApplied(db, runId, book.applied, at, by);
    })).catch((e: unknown) => {
      throw e instanceof StateBusy ? new UserError(`${e.message}; nothing published`) : e;
    });
    promote(out, staging, runId);
    staging = null;
    switchLatest(out, runId);
    await pruneAfterPublish(out, cfg.retention, (m) => events.info(m));
    return { runId, base: sourceId, dir, ...applied, published: true };
  } finally {
    if (staging) discardStaging(staging);
    conn.closeSync();
    await lock.release();
  }
}

/** forecasts.csv of `runId` from a published forecasts.parquet, series by series, with the overrides applied. */
async function rewriteForecasts(conn: Awaited<ReturnType<typeof openDuckDb>>, parquet: string, csv: string, runId: string, levels: readonly number[], fiscal: boolean, book: OverrideBook): Promise<number> {
  const qs = levels.map(quantileColumn);
  const dateRows = await (await conn.runAndReadAll(`SELECT DISTINCT strftime(date, '%Y-%m-%d') AS d FROM read_parquet(${sqlString(parquet)}) ORDER BY d`)).getRowObjectsJS();
  const dates = dateRows.map((r) => String(r.d));
  const writer = new ForecastCsvWriter(csv, runId, levels, dates, fiscal ? dates.map(fiscalLabel) : null);
  const result = await conn.stream(`SELECT store_id, sku, step, forecast, ${qs.map((q) => `"${q}"`).join(', ')}, model, model_version
    FROM read_parquet(${sqlString(parquet)}) ORDER BY store_id, sku, step`);
  const h = dates.length;
  let cur: { store: string; sku: string; model: string; version: number | null; point: Float64Array; q: Float64Array[] } | null = null;
  const emit = (): void => {
    if (cur) writer.addSeries(cur.store, cur.sku, cur.model, cur.point, cur.q, cur.version, book.apply(cur.store, cur.sku, dates, cur.point));
  };
  for (;;) {
    const chunk = await result.fetchChunk();
    if (!chunk || chunk.rowCount === 0) break;
    for (const r of chunk.getRowObjects(result.columnNames())) {
      const store = String(r.store_id);
      const sku = String(r.sku);
      if (!cur || cur.store !== store || cur.sku !== sku) {
        emit();
        cur = { store, sku, model: String(r.model), version: r.model_version === null ? null : Number(r.model_version as number), point: new Float64Array(h), q: qs.map(() => new Float64Array(h)) };
        await writer.flush();
      }
      const s = Number(r.step as number) - 1;
      cur.point[s] = Number(r.forecast as number);
      qs.forEach((q, k) => { (cur as NonNullable<typeof cur>).q[k][s] = Number(r[q] as number); });
    }
  }
  emit();
  await writer.close();
  return writer.rows;
}

