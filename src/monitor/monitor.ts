import { renameSync, writeFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import type { Config } from '../config/schema.js';
import { UserError } from '../errors.js';
import { openDuckDb, sqlString } from '../db/duckdb.js';
import { openIngest } from '../ingest/index.js';
import { openSource } from '../ingest/source.js';
import { todayIso } from '../ingest/dates.js';
import { runDir } from '../publish/atomic.js';
import { CsvWriter } from '../publish/csv-writer.js';
import { csvField, formatNumber } from '../publish/format.js';
import { RunStore } from '../publish/run-store.js';
import { postSigned, webhookSecret } from '../publish/notify.js';
import { lockOutput } from '../publish/recover.js';
import { liveVersionNumbers, seriesKey, withState } from '../registry/state.js';
import { silentEvents, type RunEvents } from '../run/events.js';
import { realisedAccuracy, type RealisedRow } from './realised.js';
import { driftReason } from './drift.js';
import { knownActuals, recordActuals } from './actuals.js';
import { forecastValueAdded, type FvaReport } from './fva.js';
import { listOverrides } from '../publish/overrides.js';

export interface Accuracy {
  readonly series: number;
  readonly points: number;
  readonly mase: number | null;
  readonly wape: number | null;
  readonly bias: number | null;
  readonly pinball: number | null;
  readonly coverage: number | null;
}

export interface MonitorReport {
  readonly monitored_at: string;
  readonly input: { readonly path: string; readonly sha256: string; readonly rows: number; readonly first_date: string; readonly last_date: string };
  readonly runs_evaluated: string[];
  readonly overall: Accuracy;
  readonly by_store: Record<string, Accuracy>;
  readonly by_sku: Record<string, Accuracy>;
  readonly by_model_version: Record<string, Accuracy>;
  readonly drifting: { store_id: string; sku: string; run_id: string; model_version: number | null; reason: string }[];
  /** Forecast value added by planner overrides (monitor/fva.ts). */
  readonly fva: FvaReport;
}

function mean(xs: (number | null)[]): number | null {
  const v = xs.filter((x): x is number => x !== null && Number.isFinite(x));
  return v.length ? v.reduce((a, b) => a + b, 0) / v.length : null;
}

export function aggregate(rows: readonly RealisedRow[]): Accuracy {
  const ae = rows.reduce((a, r) => a + r.abs_error, 0);
  const aa = rows.reduce((a, r) => a + r.abs_actual, 0);
  return {
    series: rows.length,
    points: rows.reduce((a, r) => a + r.points, 0),
    mase: mean(rows.map((r) => r.mase)),
    wape: aa > 0 ? ae / aa : null,
    bias: mean(rows.map((r) => r.bias)),
    pinball: mean(rows.map((r) => r.pinball)),
    coverage: mean(rows.map((r) => r.coverage)),
  };
}

function groupBy(rows: readonly RealisedRow[], key: (r: RealisedRow) => string): Record<string, Accuracy> {
  const groups = new Map<string, RealisedRow[]>();
  for (const r of rows) groups.set(key(r), [...(groups.get(key(r)) ?? []), r]);
  return Object.fromEntries([...groups].sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, v]) => [k, aggregate(v)]));
}

/**
 * Compare published forecasts with actuals that have since arrived: realised accuracy per
 * series (from the newest run that forecast enough of those dates with the series' live
 * version), store, SKU and model
 * version; drift flags recorded in the state database so the next run retrains those series;
 * monitoring.json and monitoring.csv in OUT; an optional webhook.
 */
export async function runMonitor(cfg: Config, newSales: string, events: RunEvents = silentEvents, now = new Date()): Promise<MonitorReport> {
  const out = resolve(cfg.out);
  // A secret named but not set stops before anything is read: no drift alert goes out unsigned.
  const secret = cfg.lifecycle.webhook ? webhookSecret(cfg.webhook.secretEnv) : null;
  const store = new RunStore(out);
  const runs = store.list();
  if (runs.length === 0) throw new UserError(`no published runs in ${out} to monitor`);
  const lock = await lockOutput(out, 'monitor', (m) => events.info(m));
  const conn = await openDuckDb(':memory:', { memory_limit: cfg.memoryLimit });
  try {
    events.stage('ingest');
    const path = resolve(newSales);
    // New actuals may be a few periods per series: take the frequency from the runs.
    const freq = runs[0].data.frequency;
    const actuals = openSource({ ...cfg.input, path });
    const { ingested } = await openIngest(conn, { ...cfg, freq, quality: { ...cfg.quality, maxRejectedShare: 1 } }, todayIso(now), { source: actuals });
    const fingerprint = await actuals.fingerprint();
    await conn.run(`CREATE TEMP TABLE actuals AS
      SELECT store_id, sku, (DATE ${sqlString(ingested.firstDate)} + (t * ${ingested.freq.days})::INTEGER) AS date, u AS units FROM clean_keyed WHERE NOT unobserved`);
    const span = ingested.report;
    events.stage('evaluate');
    // Runs that forecast any of the new dates, judged on every actual known for their targets.
    const touched = runs.filter((m) => m.data.target_dates.last >= span.first_date && m.data.target_dates.first <= span.last_date);
    if (touched.length === 0) {
      const targets = runs.map((m) => m.data.target_dates);
      const covered = targets.length ? `; the runs forecast ${targets.map((t) => t.first).sort()[0]} to ${targets.map((t) => t.last).sort().pop()}` : '';
      throw new UserError(`actuals ${path} (${span.first_date} to ${span.last_date}) overlap the target dates of no published run${covered}; nothing recorded`);
    }
    const dates = [span.first_date, span.last_date, ...touched.flatMap((m) => [m.data.target_dates.first, m.data.target_dates.last])].sort();
    await knownActuals(conn, out, dates[0], dates[dates.length - 1]);
    const rows: RealisedRow[] = [];
    const evaluated: string[] = [];
    for (const m of touched) {
      const r = await realisedAccuracy(conn, m.run_id, runDir(out, m.run_id), m.quantiles, 'known_actuals');
      if (r.length) { rows.push(...r); evaluated.push(m.run_id); }
    }
    if (evaluated.length === 0) throw new UserError(`actuals ${path}: no store and SKU in them was forecast by the runs covering ${span.first_date} to ${span.last_date}; nothing recorded`);
    // Per series, the newest run with enough actuals to judge (runs are newest first), among
    // the runs that forecast it with its live version: a version already replaced by a
    // retrain (or a pin) is not judged again, so the same actuals flag it once.
    const live = await withState(out, liveVersionNumbers);
    const judged = new Map<string, RealisedRow>();
    for (const r of rows) {
      const key = seriesKey(r.store_id, r.sku);
      const version = live.get(key);
      if (version !== undefined && r.model_version !== version) continue;
      const have = judged.get(key);
      if (!have || (have.points < cfg.lifecycle.minPoints && r.points > have.points)) judged.set(key, r);
    }
    const current = [...judged.values()];
    const drifting = current.flatMap((r) => {
      const reason = driftReason(r, cfg.lifecycle);
      return reason ? [{ store_id: r.store_id, sku: r.sku, run_id: r.run_id, model_version: r.model_version, reason }] : [];
    });
    const fva = await forecastValueAdded(conn, out, touched, await listOverrides(out), 'known_actuals');
    const report: MonitorReport = {
      monitored_at: now.toISOString(),
      input: { path, sha256: fingerprint.sha256, rows: span.rows_accepted, first_date: span.first_date, last_date: span.last_date },
      runs_evaluated: evaluated,
      overall: aggregate(current),
      by_store: groupBy(current, (r) => r.store_id),
      by_sku: groupBy(current, (r) => r.sku),
      by_model_version: groupBy(current, (r) => `${r.model} v${r.model_version ?? '-'}`),
      drifting,
      fva,
    };
    events.stage('record');
    await writeMonitoringFiles(out, report, current, new Map(drifting.map((d) => [seriesKey(d.store_id, d.sku), d.reason])));
    await withState(out, async (db) => {
      await recordActuals(conn, db, report.monitored_at);
      await recordAccuracy(db, report.monitored_at, rows);
      for (const d of drifting) {
        await db.run(`INSERT OR REPLACE INTO drift VALUES (${sqlString(d.store_id)}, ${sqlString(d.sku)}, ${sqlString(report.monitored_at)}::TIMESTAMP, ${sqlString(d.reason)})`);
        await db.run(`INSERT INTO drift_log VALUES (${sqlString(d.store_id)}, ${sqlString(d.sku)}, ${d.model_version ?? 'NULL'}, ${sqlString(report.monitored_at)}::TIMESTAMP, ${sqlString(d.reason)})`);
      }
    });
    if (drifting.length && cfg.lifecycle.webhook) await notify(cfg.lifecycle.webhook, out, report, events, secret);
    return report;
  } finally {
    conn.closeSync();
    await lock.release();
  }
}

/** Realised accuracy rows into the state database in bulk, replacing earlier rows of the same run and series. */
async function recordAccuracy(db: DuckDBConnection, at: string, rows: readonly RealisedRow[]): Promise<void> {
  await db.run(`CREATE OR REPLACE TEMP TABLE new_accuracy (run_id VARCHAR, store_id VARCHAR, sku VARCHAR, model_version INTEGER, points INTEGER, mase DOUBLE, abs_error DOUBLE, abs_actual DOUBLE, bias DOUBLE, pinball DOUBLE, coverage DOUBLE)`);
  const app = await db.createAppender('new_accuracy');
  const num = (x: number | null): void => { if (x === null || !Number.isFinite(x)) app.appendNull(); else app.appendDouble(x); };
  for (const r of rows) {
    app.appendVarchar(r.run_id); app.appendVarchar(r.store_id); app.appendVarchar(r.sku);
    if (r.model_version === null) app.appendNull(); else app.appendInteger(r.model_version);
    app.appendInteger(r.points); num(r.mase); num(r.abs_error); num(r.abs_actual); num(r.bias); num(r.pinball); num(r.coverage);
    app.endRow();
  }
  app.closeSync();
  await db.run(`DELETE FROM accuracy WHERE (run_id, store_id, sku) IN (SELECT run_id, store_id, sku FROM new_accuracy)`);
  await db.run(`INSERT INTO accuracy SELECT ${sqlString(at)}::TIMESTAMP, * FROM new_accuracy`);
}

async function writeMonitoringFiles(out: string, report: MonitorReport, rows: readonly RealisedRow[], drift: ReadonlyMap<string, string>): Promise<void> {
  const tmp = join(out, `.monitoring-${process.pid}.json`);
  writeFileSync(tmp, JSON.stringify(report, null, 2) + '\n');
  renameSync(tmp, join(out, 'monitoring.json'));
  const csvTmp = join(out, `.monitoring-${process.pid}.csv`);
  const csv = new CsvWriter(csvTmp, ['store_id', 'sku', 'run_id', 'model', 'model_version', 'points', 'mase', 'backtest_mase', 'wape', 'bias', 'pinball', 'coverage', 'drift', 'reason']);
  const f = (x: number | null): string => (x === null || !Number.isFinite(x) ? '' : formatNumber(x));
  for (const r of rows) csv.add([csvField(r.store_id), csvField(r.sku), r.run_id, csvField(r.model), r.model_version ?? '', r.points, f(r.mase), f(r.backtest_mase), f(r.abs_actual > 0 ? r.abs_error / r.abs_actual : null), f(r.bias), f(r.pinball), f(r.coverage), drift.has(seriesKey(r.store_id, r.sku)) ? 1 : 0, csvField(drift.get(seriesKey(r.store_id, r.sku)) ?? '')].join(','));
  await csv.close();
  renameSync(csvTmp, join(out, 'monitoring.csv'));
}

async function notify(url: string, out: string, report: MonitorReport, events: RunEvents, secret: string | null): Promise<void> {
  // The output folder by name only: the receiver is another system, not this server's disk.
  const problem = await postSigned(url, 'shelfcast.drift', { event: 'shelfcast.drift', out: basename(out), monitored_at: report.monitored_at, drifting: report.drifting, overall: report.overall }, secret);
  if (problem) events.info(`webhook ${url} ${problem}; drift is recorded in the state database regardless`);
}
