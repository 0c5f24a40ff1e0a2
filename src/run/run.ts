import { mkdirSync, renameSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Config } from '../config/schema.js';
import { configHash } from '../config/load.js';
import { UserError } from '../errors.js';
import { openDuckDb } from '../db/duckdb.js';
import { ingest } from '../ingest/index.js';
import { assertInputFile } from '../ingest/source.js';
import { rejectShareProblem, writeRejects } from '../ingest/quality.js';
import { fingerprintInput } from '../ingest/fingerprint.js';
import { readSeriesKeys } from '../ingest/series-reader.js';
import { targetDates, todayIso } from '../ingest/dates.js';
import { demandClassOf, SCORE_FIELDS } from '../forecast/batch.js';
import { createForecastPool, defaultThreads } from '../forecast/pool.js';
import { seriesQuantiles } from '../backtest/conformal.js';
import { ForecastCsvWriter, SERIES_COLUMNS, seriesLine } from '../publish/forecast-csv.js';
import { CsvWriter } from '../publish/csv-writer.js';
import { fiscalAggregate, forecastCsvToParquet } from '../publish/parquet.js';
import { fiscalLabel } from '../calendars/fiscal454.js';
import { historyStart, writeHistory } from '../publish/history.js';
import { calendarStage } from './calendar-stage.js';
import { describeFiles, writeJson } from '../publish/manifest.js';
import { createStaging, discardStaging, promote, switchLatest } from '../publish/atomic.js';
import { codeVersion, packageRoot } from '../version.js';
import { forecastingSettings, makeRunId } from './run-id.js';
import { seriesTask } from './task.js';
import { calibrationUnit, forecastStage, summarizeBacktest } from './forecast-stage.js';
import { silentEvents, type RunEvents } from './events.js';

export interface RunSummary {
  readonly runId: string;
  readonly dir: string;
  readonly series: number;
  readonly rows: number;
  readonly rowsRejected: number;
  readonly seriesPerModel: Record<string, number>;
  readonly fallbacks: number;
  readonly seconds: number;
}

/** The bundled demo data, used when no input is given. */
export function demoInput(): string {
  return join(packageRoot(), 'data', 'demo', 'sales.csv');
}

/**
 * One forecasting run: ingest and check the data, backtest, select and forecast every series
 * on the worker pool, calibrate the intervals, and publish the files atomically. Throws a
 * UserError (nothing published) on bad input.
 */
export async function runForecast(cfg: Config, userEvents: RunEvents = silentEvents, now = new Date()): Promise<RunSummary> {
  const started = Date.now();
  const { events, stages } = timedStages(userEvents);
  const out = resolve(cfg.out);
  const inputPath = resolve(cfg.input.path ?? demoInput());
  mkdirSync(out, { recursive: true });
  const conn = await openDuckDb();
  let staging: string | null = null;
  const threads = cfg.threads ?? defaultThreads();
  const pool = createForecastPool(threads);
  try {
    events.stage('ingest');
    assertInputFile(inputPath);
    const [{ source, ingested }, fingerprint] = await Promise.all([ingest(conn, cfg, inputPath, todayIso(now)), fingerprintInput(inputPath)]);
    const { report, freq } = ingested;
    const code = codeVersion();
    const runId = makeRunId(report.last_date, fingerprint.sha256, cfg, code);
    staging = createStaging(out, runId);
    writeJson(join(staging, 'quality.json'), report);
    await writeRejects(conn, source, join(staging, 'rejects.csv'));
    events.info(`${report.rows_read} rows read, ${report.rows_rejected} rejected, ${report.series} series, ${freq.name === 'day' ? 'daily' : 'weekly'} ${report.first_date} → ${report.last_date}`);
    const problem = rejectShareProblem(report, cfg.quality.maxRejectedShare);
    if (problem) {
      const failed = join(out, 'failed', runId);
      mkdirSync(join(out, 'failed'), { recursive: true });
      rmSync(failed, { recursive: true, force: true });
      renameSync(staging, failed);
      staging = null;
      throw new UserError(`${problem}; nothing published; see ${join(failed, 'rejects.csv')}`);
    }

    const task = seriesTask(cfg, freq);
    const keys = await readSeriesKeys(conn);
    events.stage('forecast');
    const plan = await calendarStage(conn, cfg, ingested, keys, task);
    const { results, calibration: builder } = await forecastStage(conn, pool, ingested, task, cfg, events, keys, plan);
    const calibration = builder.build(cfg.quantiles);

    events.stage('publish');
    const dates = targetDates(report.last_date, freq.days, task.horizon);
    const fiscal = cfg.calendars.fiscal === 'nrf-454' ? dates.map(fiscalLabel) : null;
    const writer = new ForecastCsvWriter(join(staging, 'forecasts.csv'), runId, cfg.quantiles, dates, fiscal);
    const seriesOut = new CsvWriter(join(staging, 'series.csv'), SERIES_COLUMNS);
    const perModel: Record<string, number> = {};
    const perClass: Record<string, number> = {};
    const fallbacks: { store_id: string; sku: string; model: string; reason: string }[] = [];
    const h = task.horizon;
    const F = SCORE_FIELDS.length;
    for (const { result, firstSid } of results) {
      const reasons = new Map(result.failures.map((f) => [f.series, f.reason]));
      for (let i = 0; i < result.labelIds.length; i++) {
        const sid = firstSid + i;
        const label = result.labels[result.labelIds[i]];
        const cls = demandClassOf(result.classIds[i]);
        perModel[label] = (perModel[label] ?? 0) + 1;
        perClass[cls] = (perClass[cls] ?? 0) + 1;
        const point = result.point.subarray(i * h, (i + 1) * h);
        const qs = seriesQuantiles(calibration, cls, point, result.sd.subarray(i * h, (i + 1) * h), calibrationUnit(result, i, h));
        writer.addSeries(keys.store[sid], keys.sku[sid], label, point, qs);
        const sc = result.scores.subarray(i * F, (i + 1) * F);
        seriesOut.add(seriesLine(keys.store[sid], keys.sku[sid], cls, label, sc[SCORE_FIELDS.indexOf('mase')], sc[SCORE_FIELDS.indexOf('rmsse')], sc[SCORE_FIELDS.indexOf('bias')], reasons.get(i) ?? ''));
      }
      for (const f of result.failures) {
        const sid = firstSid + f.series;
        fallbacks.push({ store_id: keys.store[sid], sku: keys.sku[sid], model: result.labels[result.labelIds[f.series]], reason: f.reason });
      }
      await writer.flush();
      await seriesOut.flush();
    }
    await writer.close();
    await seriesOut.close();
    await forecastCsvToParquet(conn, join(staging, 'forecasts.csv'), join(staging, 'forecasts.parquet'), cfg.quantiles, fiscal !== null);
    if (fiscal) await fiscalAggregate(conn, join(staging, 'forecasts.csv'), join(staging, 'forecasts-fiscal.csv'));
    const historyRows = await writeHistory(conn, ingested, join(staging, 'history.parquet'));
    const eventRows = plan ? await plan.writeEvents(join(staging, 'events.csv'), keys, historyStart(ingested), dates[dates.length - 1]) : 0;
    const files = await describeFiles(staging, {
      'forecasts.csv': writer.rows,
      'forecasts.parquet': writer.rows,
      'series.csv': seriesOut.rows,
      'history.parquet': historyRows,
      ...(plan ? { 'events.csv': eventRows } : {}),
      ...(fiscal ? { 'forecasts-fiscal.csv': undefined } : {}),
      'quality.json': undefined,
      'rejects.csv': report.rows_rejected,
    });
    const finished = Date.now();
    writeJson(join(staging, 'manifest.json'), {
      run_id: runId,
      kind: 'run',
      started_at: new Date(started).toISOString(),
      finished_at: new Date(finished).toISOString(),
      duration_s: (finished - started) / 1000,
      code_version: code,
      config_hash: configHash(forecastingSettings(cfg) as Config),
      // Settings only: server tokens never reach a published file.
      config: forecastingSettings(cfg),
      input: { ...fingerprint, format: source.format, columns: source.columns, rows_read: report.rows_read, rows_rejected: report.rows_rejected },
      data: { frequency: freq.name, first_date: report.first_date, last_date: report.last_date, series: report.series, horizon: h, seasons: task.seasons, target_dates: { first: dates[0], last: dates[dates.length - 1] } },
      calendars: plan ? { features: plan.featureNames().length, default_location: { country: cfg.calendars.country, region: cfg.calendars.region ?? null }, files: plan.versions() } : null,
      quantiles: cfg.quantiles,
      files,
      rows: { forecasts: writer.rows, rejected: report.rows_rejected },
      series_per_model: sortKeys(perModel),
      series_per_class: sortKeys(perClass),
      backtest: { windows: task.windows, metric: task.metric, combine: task.combine, selected: summarizeBacktest(results), calibration_errors: calibration.samples },
      fallbacks,
      threads,
      stage_seconds: stages(),
    });
    const dir = promote(out, staging, runId);
    staging = null;
    switchLatest(out, runId);
    return { runId, dir, series: report.series, rows: writer.rows, rowsRejected: report.rows_rejected, seriesPerModel: sortKeys(perModel), fallbacks: fallbacks.length, seconds: (Date.now() - started) / 1000 };
  } finally {
    if (staging) discardStaging(staging);
    await pool.destroy();
    conn.closeSync();
  }
}

/** Wraps events to time each stage, for the manifest and the benchmarks. */
function timedStages(inner: RunEvents): { events: RunEvents; stages: () => Record<string, number> } {
  const seconds: Record<string, number> = {};
  let current: { name: string; at: number } | null = null;
  const close = (): void => {
    if (current) seconds[current.name] = (seconds[current.name] ?? 0) + (Date.now() - current.at) / 1000;
  };
  return {
    events: {
      ...inner,
      stage(name) {
        close();
        current = { name, at: Date.now() };
        inner.stage(name);
      },
      progress: (d, t) => inner.progress(d, t),
      info: (m) => inner.info(m),
    },
    stages: () => {
      close();
      current = current ? { name: current.name, at: Date.now() } : null;
      return { ...seconds };
    },
  };
}

function sortKeys(o: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(o).sort(([a], [b]) => (a < b ? -1 : 1)));
}
