import { rmSync } from 'node:fs';
import type { DuckDBConnection } from '@duckdb/node-api';
import { sqlString } from '../db/duckdb.js';
import type { SeriesKeys } from '../ingest/series-reader.js';
import type { CalendarPlan } from '../calendars/plan.js';
import type { EventKind } from '../calendars/catalog.js';
import { PROMO_FEATURE } from '../calendars/features.js';
import { isoAddDays } from '../ingest/dates.js';
import { artifactPath } from '../publish/artifacts.js';
import { CsvWriter } from '../publish/csv-writer.js';
import { csvField, formatNumber } from '../publish/format.js';
import { readPublishedCsv } from '../publish/csv-sql.js';
import type { SeriesResult } from './publish-stage.js';

/** Series written between flushes to disk. */
const FLUSH_EVERY = 200;

/**
 * Why each forecast is what it is, written beside it:
 * - components.parquet: every point forecast in additive parts, in units, that sum to it at
 *   every date: level/trend, each seasonal cycle, each holiday, event and promotion, and the
 *   floor at 0 where the models went below it; plus, as `kind = 'model'` rows (not part of the
 *   sum), what each model of the combination contributed, with its weight. A combination's
 *   parts are the weighted sum of its members' parts; calendar effects, multiplicative in the
 *   models, are the units they add on top of the rest (models/events.ts effectParts); closed
 *   periods have every part at 0.
 * - backtest.parquet: the selection's forecast in each backtest window, per date, beside what
 *   happened, so a planner sees how the same model did on the latest periods.
 */

export const COMPONENT_KINDS = ['level', 'seasonality', 'holiday', 'event', 'promo', 'floor', 'model'] as const;
export type ComponentKind = (typeof COMPONENT_KINDS)[number];

const COMPONENT_COLUMNS = ['store_id', 'sku', 'date', 'component', 'kind', 'units', 'weight'];

/** The name a planner reads for a seasonal cycle of `period` periods on data of `stepDays`. */
function seasonName(period: string, stepDays: number): string {
  const p = Number(period);
  if (!Number.isFinite(p)) return 'seasonality';
  const days = p * stepDays;
  if (days === 7) return 'weekly seasonality';
  if (days >= 360 && days <= 371) return 'yearly seasonality';
  if (days >= 28 && days <= 31) return 'monthly seasonality';
  return `seasonality (${p} periods)`;
}

/** Each event's kind by name, over the calendars of these stores (closures are not parts). */
export function eventKindsOf(plan: CalendarPlan, stores: readonly string[]): Record<string, EventKind> {
  const kinds: Record<string, EventKind> = {};
  for (const store of new Set(stores)) for (const e of plan.eventsOf(store)) if (e.kind !== 'closed' && !(e.name in kinds)) kinds[e.name] = e.kind;
  return kinds;
}

/** Part keys (models/types.ts ForecastPart, forecast/wire.ts ForecastParts) as component names and kinds. */
export class ComponentNames {
  private readonly cache = new Map<string, { name: string; kind: ComponentKind }>();

  constructor(private readonly stepDays: number, private readonly features: readonly string[], private readonly eventKinds: Readonly<Record<string, EventKind>>) {}

  of(key: string): { name: string; kind: ComponentKind } {
    let hit = this.cache.get(key);
    if (hit) return hit;
    const [head, rest = ''] = key.split(/:(.*)/s);
    if (head === 'level') hit = { name: 'level/trend', kind: 'level' };
    else if (head === 'season') hit = { name: seasonName(rest, this.stepDays), kind: 'seasonality' };
    else if (head === 'floor') hit = { name: 'floor at 0', kind: 'floor' };
    else if (head === 'model') hit = { name: rest, kind: 'model' };
    else if (head === 'event') {
      const feature = this.features[Number(rest)];
      if (feature === undefined) hit = { name: 'calendar effects', kind: 'event' };
      else if (feature === PROMO_FEATURE) hit = { name: 'promotion', kind: 'promo' };
      else {
        // "Christmas@-1" and "Christmas@0" are one holiday to a planner.
        const name = feature.replace(/@[^@]*$/, '');
        const kind = this.eventKinds[name] ?? 'event';
        hit = { name, kind: kind === 'promo' ? 'promo' : kind === 'holiday' ? 'holiday' : 'event' };
      }
    } else hit = { name: key, kind: 'event' };
    this.cache.set(key, hit);
    return hit;
  }
}

/**
 * Write components.parquet from the workers' parts. Numbers are rounded as in forecasts.csv,
 * and level/trend takes what the rounding of the other parts left over, so that the published
 * parts add up to the published forecast exactly (to float precision), not just to 4 decimals.
 */
export async function writeComponents(conn: DuckDBConnection, staging: string, keys: SeriesKeys, dates: readonly string[], series: readonly SeriesResult[], names: ComponentNames): Promise<number> {
  const csvPath = artifactPath(staging, 'components.parquet') + '.csv';
  const out = new CsvWriter(csvPath, COMPONENT_COLUMNS);
  const h = dates.length;
  try {
    let n = 0;
    for (const { sid, result, i } of series) {
      const parts = result.parts;
      const prefix = `${csvField(keys.store[sid])},${csvField(keys.sku[sid])},`;
      // The series' parts grouped by the name a planner reads (one holiday's days are one part), once per series.
      const groups = new Map<string, { kind: ComponentKind; rows: number[] }>();
      const models: { name: string; row: number }[] = [];
      if (parts) {
        for (let j = parts.offsets[i]; j < parts.offsets[i + 1]; j++) {
          const { name, kind } = names.of(parts.keys[j]);
          if (kind === 'model') { models.push({ name: csvField(name), row: j }); continue; }
          if (kind === 'level') continue;
          const g = groups.get(name);
          if (g) g.rows.push(j);
          else groups.set(name, { kind, rows: [j] });
        }
      }
      const named = [...groups].map(([name, g]) => ({ name: csvField(name), kind: g.kind, rows: g.rows }));
      for (let s = 0; s < h; s++) {
        const date = dates[s];
        let rest = Number(formatNumber(result.point[i * h + s]));
        const lines: string[] = [];
        for (const g of named) {
          let v = 0;
          for (const j of g.rows) v += (parts as NonNullable<typeof parts>).values[j * h + s];
          const r = Number(formatNumber(v));
          if (r === 0) continue;
          rest -= r;
          lines.push(`${prefix}${date},${g.name},${g.kind},${r},`);
        }
        out.add(`${prefix}${date},level/trend,level,${formatNumber(rest)},`);
        for (const l of lines) out.add(l);
        for (const m of models) out.add(`${prefix}${date},${m.name},model,${formatNumber((parts as NonNullable<typeof parts>).values[m.row * h + s])},${formatNumber((parts as NonNullable<typeof parts>).weights[m.row])}`);
      }
      if (++n % FLUSH_EVERY === 0) await out.flush();
    }
    await out.close();
    const types = `types = {'store_id': 'VARCHAR', 'sku': 'VARCHAR', 'date': 'DATE', 'component': 'VARCHAR', 'kind': 'VARCHAR', 'units': 'DOUBLE', 'weight': 'DOUBLE'}`;
    await conn.run(`COPY (SELECT * FROM ${readPublishedCsv(csvPath, ['store_id', 'sku', 'component'], types)})
      TO ${sqlString(artifactPath(staging, 'components.parquet'))} (FORMAT parquet, COMPRESSION zstd)`);
    return out.rows;
  } finally {
    rmSync(csvPath, { force: true });
  }
}

/**
 * Write backtest.parquet: per series, window (1 = oldest) and date, the selection's backtest
 * forecast, the window's origin (its last training date) and the actual from history.parquet
 * (null where the period was not observed). A series whose registered version this run reused
 * (a nightly run backtests nothing) keeps the windows its version was selected on, from the
 * previous run's file.
 */
export async function writeBacktestWindows(conn: DuckDBConnection, staging: string, keys: SeriesKeys, lastDate: string, stepDays: number, h: number, windows: number, series: readonly SeriesResult[], previous: string | null = null): Promise<number> {
  const csvPath = artifactPath(staging, 'backtest.parquet') + '.csv';
  const out = new CsvWriter(csvPath, ['store_id', 'sku', 'window', 'origin', 'date', 'forecast']);
  // Every window starts a whole number of steps before the data end: one date per offset, not per row.
  const dates = new Map<number, string>();
  const dateAt = (steps: number): string => {
    let d = dates.get(steps);
    if (d === undefined) { d = isoAddDays(lastDate, steps * stepDays); dates.set(steps, d); }
    return d;
  };
  try {
    let count = 0;
    for (const { sid, result, i } of series) {
      const fromEnd = result.backtestFromEnd;
      const fc = result.backtestPoint;
      if (!fromEnd || !fc) continue;
      const prefix = `${csvField(keys.store[sid])},${csvField(keys.sku[sid])},`;
      let n = 0;
      for (let w = 0; w < windows; w++) {
        const back = fromEnd[i * windows + w];
        if (back <= 0) continue;
        n++;
        const origin = dateAt(-back);
        for (let s = 0; s < h; s++) {
          const v = fc[(i * windows + w) * h + s];
          if (!Number.isFinite(v)) continue;
          out.add(`${prefix}${n},${origin},${dateAt(s + 1 - back)},${formatNumber(Math.max(0, v))}`);
        }
      }
      if (++count % FLUSH_EVERY === 0) await out.flush();
    }
    await out.close();
    const types = `types = {'store_id': 'VARCHAR', 'sku': 'VARCHAR', 'window': 'INTEGER', 'origin': 'DATE', 'date': 'DATE', 'forecast': 'DOUBLE'}`;
    const history = sqlString(artifactPath(staging, 'history.parquet'));
    await conn.run(`CREATE OR REPLACE TEMP TABLE fresh_windows AS SELECT b.*, CASE WHEN h.state IN ('observed', 'gap') THEN h.units END AS actual
      FROM ${readPublishedCsv(csvPath, ['store_id', 'sku'], types)} b LEFT JOIN read_parquet(${history}) h USING (store_id, sku, date)`);
    const kept = previous
      ? `UNION ALL SELECT store_id, sku, "window", origin, date, forecast, actual FROM read_parquet(${sqlString(previous)})
          WHERE (store_id, sku) NOT IN (SELECT DISTINCT store_id, sku FROM fresh_windows) AND (store_id, sku) IN (SELECT DISTINCT store_id, sku FROM read_parquet(${history}))`
      : '';
    await conn.run(`COPY (SELECT * FROM (SELECT * FROM fresh_windows ${kept}) ORDER BY store_id, sku, "window", date)
      TO ${sqlString(artifactPath(staging, 'backtest.parquet'))} (FORMAT parquet, COMPRESSION zstd)`);
    const n = await conn.runAndReadAll(`SELECT count(*)::INTEGER AS n FROM read_parquet(${sqlString(artifactPath(staging, 'backtest.parquet'))})`);
    return Number(n.getRowObjectsJS()[0].n);
  } finally {
    rmSync(csvPath, { force: true });
  }
}
