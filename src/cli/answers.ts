import type { RunSummary } from '../run/run.js';
import type { BacktestOutcome } from '../run/backtest.js';
import type { QualityReport } from '../ingest/quality.js';
import type { MonitorReport } from '../monitor/monitor.js';
import type { Explanation } from '../run/explain.js';
import type { CalendarList, StoreCalendar } from '../calendars/describe.js';
import type { ModelSummary } from '../backtest/report.js';
import type { ModelsList, SeriesVersions } from '../registry/report.js';
import type { PinResult } from '../registry/pins.js';

/**
 * What each command prints with `--json`: one JSON document on stdout, numbers as numbers,
 * dates as YYYY-MM-DD strings, times as ISO 8601 with zone, absent values as null. One
 * shape per command, here; the README's "Machine-readable answers" describes them.
 */

/** `run`, `retrain`. */
export interface RunAnswer {
  readonly command: 'run' | 'retrain';
  readonly run_id: string;
  readonly dir: string;
  readonly series: number;
  readonly forecast_rows: number;
  readonly rows_rejected: number;
  readonly series_per_model: Record<string, number>;
  readonly model_versions: Record<string, number>;
  readonly fallbacks: number;
  readonly calendars: string;
  readonly warnings: readonly string[];
  readonly seconds: number;
  readonly finished_at: string;
}

export function runAnswer(s: RunSummary, finishedAt: string): RunAnswer {
  return {
    command: s.kind, run_id: s.runId, dir: s.dir, series: s.series, forecast_rows: s.rows, rows_rejected: s.rowsRejected,
    series_per_model: s.seriesPerModel, model_versions: s.decisions, fallbacks: s.fallbacks, calendars: s.calendars,
    warnings: s.warnings, seconds: s.seconds, finished_at: finishedAt,
  };
}

/** `backtest`: metrics per model (and "selected"), non-finite ones as null. */
export interface BacktestAnswer {
  readonly command: 'backtest';
  readonly dir: string;
  readonly series: number;
  readonly windows: number;
  readonly horizon: number;
  readonly seconds: number;
  readonly models: Record<string, { series: number; windows: number; metrics: Record<string, number | null> }>;
}

export function backtestAnswer(r: BacktestOutcome): BacktestAnswer {
  const finite = (m: ModelSummary['metrics']): Record<string, number | null> => Object.fromEntries(Object.entries(m).map(([k, v]) => [k, Number.isFinite(v) ? v : null]));
  return {
    command: 'backtest', dir: r.dir, series: r.series, windows: r.windows, horizon: r.horizon, seconds: r.seconds,
    models: Object.fromEntries(Object.entries(r.summary).map(([k, s]) => [k, { series: s.series, windows: s.windows, metrics: finite(s.metrics) }])),
  };
}

/** `validate`: whether a run would publish, why not, and the quality report (as in quality.json). */
export interface ValidateAnswer {
  readonly command: 'validate';
  readonly ok: boolean;
  readonly problem: string | null;
  readonly quality: QualityReport;
}

/** `monitor`: monitoring.json, and where it was written. */
export interface MonitorAnswer extends MonitorReport {
  readonly command: 'monitor';
  readonly files: readonly string[];
}

/** `explain`: the forecast row typed, the series row of series.csv typed, the source rows as read (CSV cells are text). */
export interface ExplainAnswer {
  readonly command: 'explain';
  readonly run: Explanation['run'];
  readonly forecast: { store_id: string; sku: string; date: string; step: number; forecast: number; quantiles: Record<string, number>; model: string; model_version: number | null };
  readonly series: Record<string, string | number | null> | null;
  readonly version: Explanation['version'];
  readonly live: Explanation['live'];
  readonly events: Explanation['events'];
  readonly input: { file: string; unchanged: boolean; row_label: string; rows: Record<string, unknown>[] };
  readonly components: Explanation['components'];
}

/** Columns of series.csv that hold numbers. */
const SERIES_NUMBERS = new Set(['model_version', 'backtest_mase', 'backtest_rmsse', 'backtest_bias', 'scale', 'calendar_effects']);

/** A cell as JSON: a DATE as YYYY-MM-DD, a BIGINT or DECIMAL as a number. */
export function jsonCell(v: unknown): unknown {
  if (v instanceof Date) return v.toISOString().slice(0, 10);
  if (typeof v === 'bigint') return Number(v);
  return v;
}

export function explainAnswer(e: Explanation): ExplainAnswer {
  const f = e.forecast;
  const num = (v: unknown): number => Number(jsonCell(v));
  const quantiles = Object.fromEntries(Object.keys(f).filter((k) => /^p\d/.test(k)).map((k) => [k, num(f[k])]));
  const series = e.series === null ? null : Object.fromEntries(Object.entries(e.series).map(([k, v]) => {
    if (v === null || v === '') return [k, null];
    return [k, SERIES_NUMBERS.has(k) && Number.isFinite(Number(v)) ? Number(v) : v];
  }));
  return {
    command: 'explain',
    run: e.run,
    forecast: {
      store_id: String(f.store_id), sku: String(f.sku), date: String(jsonCell(f.date)), step: num(f.step), forecast: num(f.forecast), quantiles,
      model: String(f.model), model_version: f.model_version === null || f.model_version === undefined ? null : num(f.model_version),
    },
    series,
    version: e.version,
    live: e.live,
    events: e.events,
    input: { file: e.input.file, unchanged: e.input.unchanged, row_label: e.input.rowLabel, rows: e.input.rows.map((r) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, jsonCell(v)]))) },
    components: e.components,
  };
}

/** `models list`, `models show`, `models rollback`, `models unpin`. */
export type ModelsListAnswer = ModelsList & { readonly command: 'models list' };
export type ModelsShowAnswer = SeriesVersions & { readonly command: 'models show' };
export interface RollbackAnswer { readonly command: 'models rollback'; readonly pins: readonly PinResult[] }
export interface UnpinAnswer { readonly command: 'models unpin'; readonly unpinned: number }

/** `calendars list`, `calendars show`. */
export type CalendarsListAnswer = CalendarList & { readonly command: 'calendars list' };
export type CalendarsShowAnswer = StoreCalendar & { readonly command: 'calendars show' };

/** One JSON document, then a newline. */
export function printJson(value: unknown): void {
  process.stdout.write(JSON.stringify(value, (_k, v: unknown) => jsonCell(v), 2) + '\n');
}
