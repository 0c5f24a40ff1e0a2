import { CsvWriter } from './csv-writer.js';
import { csvField, formatNumber, quantileColumn } from './format.js';
import type { FiscalLabel } from '../calendars/fiscal454.js';

export const FISCAL_COLUMNS = ['fiscal_year', 'fiscal_period', 'fiscal_week'];

function forecastColumns(levels: readonly number[], fiscal = false): string[] {
  return ['run_id', 'store_id', 'sku', 'date', 'step', 'forecast', ...levels.map(quantileColumn), 'model', 'model_version', ...(fiscal ? FISCAL_COLUMNS : []), ...OVERRIDE_COLUMNS];
}

/**
 * Last in every row: the forecast a planner's override made of the statistical `forecast`
 * (equal to it where no override applies), and the id of that override (empty: none).
 */
export const OVERRIDE_COLUMNS = ['forecast_final', 'override'];

/**
 * Forecast rows, one series at a time, in the order given. `targetDates[s]` is the date of
 * step s+1, shared by every series.
 */
export class ForecastCsvWriter extends CsvWriter {
  private readonly fiscalSuffix: string[];

  /** `fiscal`: the retail-calendar label of each target date, appended to every row when given. */
  constructor(path: string, private readonly runId: string, levels: readonly number[], private readonly targetDates: readonly string[], fiscal: readonly FiscalLabel[] | null = null) {
    super(path, forecastColumns(levels, fiscal !== null));
    this.fiscalSuffix = targetDates.map((_, s) => (fiscal ? `,${fiscal[s].year},${fiscal[s].period},${fiscal[s].week}` : ''));
  }

  /**
   * `version`: the series' model version in the registry (null: none, e.g. a fallback).
   * `overridden`: the final forecast and the override id per step (publish/overrides.ts); absent: the statistical forecast.
   */
  addSeries(store: string, sku: string, model: string, point: ArrayLike<number>, quantiles: readonly ArrayLike<number>[], version: number | null, overridden?: { final: ArrayLike<number>; ids: ArrayLike<number> }): void {
    // The last gate before a number reaches an ERP: the engine guarantees finite,
    // non-negative, non-crossing rows, and a bug that breaks that must stop the run.
    assertPublishable(store, sku, point, quantiles);
    const prefix = `${this.runId},${csvField(store)},${csvField(sku)},`;
    const suffix = `,${csvField(model)},${version ?? ''}`;
    for (let s = 0; s < this.targetDates.length; s++) {
      let line = `${prefix}${this.targetDates[s]},${s + 1},${formatNumber(point[s])}`;
      for (const q of quantiles) line += ',' + formatNumber(q[s]);
      const final = overridden && overridden.ids[s] ? `,${formatNumber(overridden.final[s])},${overridden.ids[s]}` : `,${formatNumber(point[s])},`;
      this.add(line + suffix + this.fiscalSuffix[s] + final);
    }
  }
}

function assertPublishable(store: string, sku: string, point: ArrayLike<number>, quantiles: readonly ArrayLike<number>[]): void {
  for (let s = 0; s < point.length; s++) {
    let prev = 0;
    const ok = (v: number): boolean => Number.isFinite(v) && v >= prev && Math.abs(v) < 1e15;
    if (!(Number.isFinite(point[s]) && point[s] >= 0 && point[s] < 1e15)) throw new Error(`${store}/${sku} step ${s + 1}: forecast ${point[s]} is not publishable`);
    for (const q of quantiles) {
      if (!ok(q[s])) throw new Error(`${store}/${sku} step ${s + 1}: quantile ${q[s]} is not finite, non-negative and non-crossing`);
      prev = q[s];
    }
  }
}

export const SERIES_COLUMNS = ['store_id', 'sku', 'demand_class', 'model', 'model_version', 'selection', 'backtest_mase', 'backtest_rmsse', 'backtest_bias', 'scale', 'fallback', 'calendar_effects', 'closures'];

/**
 * One row per series: how it was classified, what it was forecast with (model and registry
 * version), why (selection: retrain, new, stale, drift, reused, pinned), how that scored in
 * backtest, the MASE scale of its history, how many calendar effects move its forecast (only
 * those its history and pool support, models/events.ts; empty with calendars off), and the
 * rule that closes its store (closures).
 */
export function seriesLine(store: string, sku: string, cls: string, model: string, version: number | null, selection: string, mase: number, rmsse: number, bias: number, scale: number, fallback: string, effects: number, closures: string): string {
  const num = (x: number): string => (Number.isFinite(x) ? formatNumber(x) : '');
  return [csvField(store), csvField(sku), cls, csvField(model), version ?? '', selection, num(mase), num(rmsse), num(bias), num(scale), csvField(fallback), effects < 0 ? '' : effects, csvField(closures)].join(',');
}
