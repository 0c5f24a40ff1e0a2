import { join, resolve } from 'node:path';
import type { Config } from '../config/schema.js';
import { UserError } from '../errors.js';
import { openDuckDb, whileStreaming } from '../db/duckdb.js';
import { openIngest } from '../ingest/index.js';
import { openSource } from '../ingest/source.js';
import { rejectShareProblem } from '../ingest/quality.js';
import { readSeriesKeys } from '../ingest/series-reader.js';
import { todayIso } from '../ingest/dates.js';
import { createForecastPool, workerThreads } from '../forecast/pool.js';
import { buildReport, type ModelSummary } from '../backtest/report.js';
import { csvField, formatNumber } from '../publish/format.js';
import { writeJson } from '../publish/manifest.js';
import { CsvWriter } from '../publish/csv-writer.js';
import { createStaging, discardStaging, promote } from '../publish/atomic.js';
import { lockOutput } from '../publish/recover.js';
import { createOutputFolder } from '../publish/output-folder.js';
import { codeVersion } from '../version.js';
import { makeRunId } from './run-id.js';
import { seriesTask } from './task.js';
import { allSettledOrThrow } from './settle.js';
import { forecastStage, seriesBatches } from './forecast-stage.js';
import { calendarStage, closureStage, eventSplit } from './calendar-stage.js';
import { silentEvents, type RunEvents } from './events.js';

export interface BacktestOutcome {
  readonly dir: string;
  readonly series: number;
  readonly windows: number;
  readonly horizon: number;
  readonly summary: Record<string, ModelSummary>;
  readonly seconds: number;
}

/**
 * Rolling-origin evaluation of every candidate model and of the selection `run` would ship,
 * written to OUT/backtests/<id>/backtest.csv (series, model, window, metric, value) and
 * summary.json.
 */
export async function runBacktest(cfg: Config, events: RunEvents = silentEvents, now = new Date()): Promise<BacktestOutcome> {
  const started = Date.now();
  const out = resolve(cfg.out);
  const input = openSource(cfg.input);
  createOutputFolder(out);
  // It writes to OUT (backtests/, through .staging/) like a run, so it takes turns with runs.
  const lock = await lockOutput(out, 'backtest', (m) => events.info(m));
  const conn = await openDuckDb(':memory:', { memory_limit: cfg.memoryLimit });
  const pool = createForecastPool(workerThreads(cfg.threads));
  let staging: string | null = null;
  try {
    events.stage('ingest');
    const [{ ingested }, fingerprint] = await allSettledOrThrow([openIngest(conn, cfg, todayIso(now), { source: input }), input.fingerprint()]);
    const problem = rejectShareProblem(ingested.report, cfg.quality.maxRejectedShare);
    if (problem) throw new UserError(`${problem}; run \`shelfcast validate\` to see them`);
    const task = { ...seriesTask(cfg, ingested.freq), detail: true };
    if (task.windows < 1) throw new UserError('backtest needs at least one window (models.windows or --windows ≥ 1)');
    const keys = await readSeriesKeys(conn);
    events.stage('backtest');
    const plan = await calendarStage(conn, cfg, ingested, keys, task);
    const closures = await closureStage(conn, cfg, ingested, keys, task, plan);
    // As in a run: while DuckDB only streams series to the workers, one thread and a small pool.
    const { results } = await whileStreaming(conn, cfg.memoryLimit, () => forecastStage(pool, seriesBatches(conn, ingested, cfg, keys, plan, closures), task, plan?.task() ?? null, events, ingested.series));
    events.stage('report');
    const { rows, summary } = buildReport(results, cfg.quantiles, task.windows, task.horizon, eventSplit(cfg, ingested, keys, task));
    const id = `bt-${makeRunId(ingested.report.last_date, fingerprint.sha256, cfg, codeVersion())}`;
    staging = createStaging(out, id);
    const csv = new CsvWriter(join(staging, 'backtest.csv'), ['store_id', 'sku', 'model', 'window', 'metric', 'value']);
    for (const r of rows) {
      csv.add(`${csvField(keys.store[r.sid])},${csvField(keys.sku[r.sid])},${csvField(r.model)},${r.window},${r.metric},${Number.isFinite(r.value) ? formatNumber(r.value) : ''}`);
      if (csv.rows % 10000 === 0) await csv.flush();
    }
    await csv.close();
    writeJson(join(staging, 'summary.json'), {
      input: fingerprint,
      horizon: task.horizon,
      windows: task.windows,
      seasons: task.seasons,
      metric: task.metric,
      combine: task.combine,
      quantiles: cfg.quantiles,
      series: ingested.series,
      models: summary,
    });
    const dir = promote(out, staging, id, 'backtests');
    staging = null;
    return { dir, series: ingested.series, windows: task.windows, horizon: task.horizon, summary, seconds: (Date.now() - started) / 1000 };
  } finally {
    if (staging) discardStaging(staging);
    await pool.destroy();
    conn.closeSync();
    await lock.release();
  }
}

/** A compact fixed-width table of the summary, best MASE first, the shipped selection marked. */
export function formatSummary(summary: Record<string, ModelSummary>): string {
  const cols = ['mase', 'rmsse', 'wape', 'bias', 'pinball', 'coverage_80', 'mase_event', 'mase_other'];
  const head = ['model'.padEnd(14), 'series'.padStart(7), ...cols.map((c) => c.replace('coverage_', 'cov').replace('mase_', 'mase:').padStart(10))].join(' ');
  const lines = Object.entries(summary)
    .filter(([, s]) => s.series > 0)
    .sort((a, b) => (a[1].metrics.mase ?? Infinity) - (b[1].metrics.mase ?? Infinity))
    .map(([model, s]) => [model.padEnd(14), String(s.series).padStart(7), ...cols.map((c) => {
      const v = s.metrics[c];
      if (v === undefined || !Number.isFinite(v)) return '—'.padStart(10);
      return (c === 'wape' || c.startsWith('coverage') ? `${(100 * v).toFixed(1)}%` : v.toFixed(3)).padStart(10);
    })].join(' '));
  return [head, ...lines].join('\n');
}
