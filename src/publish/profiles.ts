import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream, mkdirSync, rmSync } from 'node:fs';
import { dirname } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import type { DuckDBConnection } from '@duckdb/node-api';
import type { LevelName, OutputConfig, ProfileName } from '../config/erp.js';
import { sqlString } from '../db/duckdb.js';
import { CsvWriter } from './csv-writer.js';
import { csvField, formatNumber, quantileColumn } from './format.js';
import { memberPath } from './artifacts.js';
import type { Column } from './dictionary.js';

/**
 * Output profiles: the forecasts as an ERP or IBP system loads them, without a script between
 * (config `outputs`). A profile names the columns, picks the quantiles and whether the mean is
 * written, formats dates and labels weeks by the target's week start, rounds to whole units or
 * pack sizes, and writes CSV, gzipped CSV or Parquet, in one file or one per store. Rows of
 * hierarchy levels come from the reconciled table, and rounding keeps them adding up: each
 * series' mean is rounded so that running sums round as they should (cumulative rounding), and
 * every aggregate is the sum of its rounded series, exactly.
 *
 * Every profile also writes the final figure (`final`): the forecast with the planners'
 * overrides (publish/overrides.ts), equal to the mean where none applies. A series' final is the
 * overridden point; an aggregate's is its mean plus its members' override deltas (final − mean).
 * Rounded, a series' final is its rounded mean plus its change, rounded cumulatively too, so a
 * row without an override writes its mean exactly, an override of 500 units writes 500, and
 * every aggregate is the exact sum of its series' rounded finals.
 */

/** One row key of the table: a series (store × SKU) or an aggregate of the hierarchy. */
export interface TableNode {
  readonly level: LevelName;
  readonly store: string;
  readonly sku: string;
  readonly region: string;
  readonly category: string;
}

/** The forecasts every output is made from, [node][step]. */
export interface ForecastTable {
  readonly nodes: readonly TableNode[];
  readonly dates: readonly string[];
  readonly levels: readonly number[];
  readonly mean: Float64Array;
  /** The final figure: `mean` plus the planners' override deltas (series: the overridden point; aggregates: the sum of their members' deltas on top). */
  readonly final: Float64Array;
  /** Per quantile level. */
  readonly q: readonly Float64Array[];
  /** Per node: the series nodes it adds up (a series node: itself). */
  readonly members: readonly Int32Array[];
  /** Per node: pack size of its SKU (series nodes; 1 when unknown). */
  readonly pack: Float64Array;
}

export interface ResolvedProfile {
  readonly name: string;
  readonly profile: ProfileName;
  readonly columns: Readonly<Record<string, string>>;
  readonly quantiles: readonly number[];
  readonly mean: boolean;
  readonly dateFormat: string;
  readonly weekStart: 'input' | 'monday' | 'sunday';
  readonly round: 'none' | 'integer' | 'pack';
  readonly layout: 'file' | 'store';
  readonly format: 'csv' | 'csv.gz' | 'parquet';
  readonly levels: readonly LevelName[];
  readonly shape: 'wide' | 'long';
}

type Preset = Omit<ResolvedProfile, 'name' | 'profile' | 'levels'>;

/** The shipped profiles. */
export const PRESETS: Readonly<Record<ProfileName, Preset>> = {
  // SAP IBP key-figure upload: product, location, key-figure date (the Monday of the week), the statistical forecast,
  // the consensus demand (the forecast with the planners' overrides).
  'sap-ibp': {
    columns: { sku: 'PRDID', store_id: 'LOCID', date: 'KEYFIGUREDATE', mean: 'STATISTICALFORECASTQTY', final: 'CONSENSUSDEMANDQTY', p10: 'STATFCSTQTY_P10', p50: 'STATFCSTQTY_P50', p90: 'STATFCSTQTY_P90', level: 'PLANLEVEL', region: 'REGIONID', category: 'PRODCATEGORY' },
    quantiles: [0.1, 0.5, 0.9], mean: true, dateFormat: '%Y-%m-%d', weekStart: 'monday', round: 'none', layout: 'file', format: 'csv', shape: 'wide',
  },
  // As Amazon Forecast exports a predictor's forecasts: item, location dimension, ISO timestamp, quantile columns and the mean.
  'amazon-forecast-export': {
    columns: { sku: 'item_id', store_id: 'location', date: 'date', final: 'forecast_final' },
    quantiles: [0.1, 0.5, 0.9], mean: true, dateFormat: '%Y-%m-%dT%H:%M:%SZ', weekStart: 'input', round: 'none', layout: 'file', format: 'csv', shape: 'wide',
  },
  // A plain ERP layout: one row per store, SKU and date, the mean and one column per quantile, whole units.
  wide: { columns: { final: 'forecast_final' }, quantiles: [], mean: true, dateFormat: '%Y-%m-%d', weekStart: 'input', round: 'integer', layout: 'file', format: 'csv', shape: 'wide' },
  // One row per store, SKU, date and quantity (the mean, then each quantile): for a warehouse table.
  long: { columns: {}, quantiles: [], mean: true, dateFormat: '%Y-%m-%d', weekStart: 'input', round: 'none', layout: 'file', format: 'csv', shape: 'long' },
};

/** A configured output with its preset filled in; quantiles limited to those the run has (empty preset list: all of them). */
export function resolveProfile(o: OutputConfig, runLevels: readonly number[]): ResolvedProfile {
  const p = PRESETS[o.profile];
  const has = (l: number): boolean => runLevels.some((r) => Math.abs(r - l) < 1e-9);
  const quantiles = o.quantiles ?? (p.quantiles.length ? p.quantiles.filter(has) : runLevels);
  return {
    name: o.name ?? o.profile, profile: o.profile, columns: { ...p.columns, ...(o.columns ?? {}) }, quantiles: [...quantiles].sort((a, b) => a - b),
    mean: o.mean ?? p.mean, dateFormat: o.dateFormat ?? p.dateFormat, weekStart: o.weekStart ?? p.weekStart, round: o.round ?? p.round,
    layout: o.layout ?? p.layout, format: o.format ?? p.format, levels: o.levels ?? ['series'], shape: p.shape,
  };
}

// ---------------------------------------------------------------------------------------------
// Dates

const pad = (n: number, w = 2): string => String(n).padStart(w, '0');

/** An ISO date written by a strftime-like format: %Y %m %d %H %M %S (midnight) %j (day of year) %%. */
export function formatDate(iso: string, format: string): string {
  const d = new Date(`${iso}T00:00:00Z`);
  const doy = Math.round((d.getTime() - Date.UTC(d.getUTCFullYear(), 0, 1)) / 86400000) + 1;
  return format.replace(/%([YmdHMSjy%])/g, (_, c: string) => {
    switch (c) {
      case 'Y': return pad(d.getUTCFullYear(), 4);
      case 'y': return pad(d.getUTCFullYear() % 100);
      case 'm': return pad(d.getUTCMonth() + 1);
      case 'd': return pad(d.getUTCDate());
      case 'j': return pad(doy, 3);
      case '%': return '%';
      default: return '00';
    }
  });
}

/**
 * The label of a weekly period for a target whose weeks start on `start`: the first day of the
 * calendar week that holds most (4 or more) of the period's 7 days. `inputLabel` says whether
 * the input dates a week by its last day (`end`, e.g. Walmart's Fridays) or its first.
 */
export function weekLabel(iso: string, start: 'monday' | 'sunday', inputLabel: 'end' | 'start'): string {
  const t = Date.parse(`${iso}T00:00:00Z`);
  const middle = t + (inputLabel === 'end' ? -3 : 3) * 86400000;
  const dow = new Date(middle).getUTCDay(); // 0 = Sunday
  const back = start === 'monday' ? (dow + 6) % 7 : dow;
  return new Date(middle - back * 86400000).toISOString().slice(0, 10);
}

/** The date column of a profile for each target date. */
export function profileDates(p: ResolvedProfile, dates: readonly string[], weekly: boolean, inputLabel: 'end' | 'start'): string[] {
  return dates.map((d) => formatDate(weekly && p.weekStart !== 'input' ? weekLabel(d, p.weekStart, inputLabel) : d, p.dateFormat));
}

// ---------------------------------------------------------------------------------------------
// Rounding that adds up

/** Fixed-point unit of published numbers: 4 decimals. */
const TICKS = 1e4;

/**
 * `values` (per node and step, e.g. the means) of every node in ticks (1e-4 units), rounded to
 * each series' step: series by cumulative rounding (in `order`, within groups of equal step),
 * each the difference of rounded running sums, so any run of consecutive series adds up to
 * within one step of its true sum; every other node the exact sum of its series.
 */
function coherentTicks(t: ForecastTable, step: (node: number) => number, values: Float64Array): BigInt64Array {
  const h = t.dates.length;
  const out = new BigInt64Array(t.nodes.length * h);
  const series = t.nodes.map((n, i) => (n.level === 'series' ? i : -1)).filter((i) => i >= 0);
  // The rounding order: region, store, category, SKU, so a store's or a category's series are consecutive.
  const key = (i: number): string => { const n = t.nodes[i]; return `${n.region}\u0000${n.store}\u0000${n.category}\u0000${n.sku}`; };
  series.sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : a - b));
  const groups = new Map<number, number[]>();
  for (const i of series) { const st = Math.max(1, Math.round(step(i) * TICKS)); const g = groups.get(st); if (g) g.push(i); else groups.set(st, [i]); }
  for (let s = 0; s < h; s++) {
    for (const [st, members] of groups) {
      let cum = 0;
      let prev = 0;
      for (const i of members) {
        cum += values[i * h + s] * TICKS;
        const r = Math.round(cum / st) * st;
        out[i * h + s] = BigInt(r - prev);
        prev = r;
      }
    }
  }
  t.nodes.forEach((n, i) => {
    if (n.level === 'series') return;
    for (let s = 0; s < h; s++) {
      let sum = 0n;
      for (const b of t.members[i]) sum += out[b * h + s];
      out[i * h + s] = sum;
    }
  });
  return out;
}

/** Means of every node in ticks, coherent (coherentTicks). */
export function coherentMeans(t: ForecastTable, step: (node: number) => number): BigInt64Array {
  return coherentTicks(t, step, t.mean);
}

/**
 * Finals of every node in ticks: `means` (coherentMeans) plus each overridden series' change
 * from its rounded mean to its final, rounded the same cumulative way. A series without an
 * override (final = mean) changes by nothing, so its final is its rounded mean exactly; an
 * override to a figure the profile can write (500 units) is written as it is; an aggregate's
 * final is the exact sum of its series' finals.
 */
export function coherentFinals(t: ForecastTable, step: (node: number) => number, means: BigInt64Array): BigInt64Array {
  const h = t.dates.length;
  const delta = new Float64Array(t.mean.length);
  t.nodes.forEach((n, i) => {
    if (n.level !== 'series') return;
    for (let k = i * h; k < (i + 1) * h; k++) if (t.final[k] !== t.mean[k]) delta[k] = t.final[k] - Number(means[k]) / TICKS;
  });
  const d = coherentTicks(t, step, delta);
  for (let k = 0; k < d.length; k++) d[k] += means[k];
  return d;
}

/** Ticks as published text: 4 decimals at most, exact (no float sum is formatted). */
export function formatTicks(x: bigint): string {
  const neg = x < 0n;
  const a = neg ? -x : x;
  const int = a / 10000n;
  const frac = (a % 10000n).toString().padStart(4, '0').replace(/0+$/, '');
  return `${neg && a !== 0n ? '-' : ''}${int}${frac ? `.${frac}` : ''}`;
}

/** The step a profile rounds a node to: 1e-4, 1, or its pack size (aggregates of packs: whole units). */
function stepOf(p: ResolvedProfile, t: ForecastTable): (node: number) => number {
  if (p.round === 'none') return () => 1 / TICKS;
  if (p.round === 'integer') return () => 1;
  return (i) => (t.nodes[i].level === 'series' ? t.pack[i] || 1 : 1);
}

function roundTo(x: number, step: number): string {
  if (step <= 1 / TICKS) return formatNumber(x);
  return formatNumber(Math.round(x / step) * step);
}

// ---------------------------------------------------------------------------------------------
// Writing

/** File name of a store's file in a per-store layout: its id when it is a safe name, else a hash of it. */
export function storeFileName(store: string): string {
  // `all-stores` is the file of rows above the stores (regions, totals): a store of that name is hashed too.
  return /^[A-Za-z0-9][A-Za-z0-9_-]{0,79}$/.test(store) && store !== ABOVE_STORES ? store : `store-${createHash('sha256').update(store).digest('hex').slice(0, 12)}`;
}

/** The file of a per-store layout that holds the rows of levels above the stores. */
const ABOVE_STORES = 'all-stores';

const EXT: Readonly<Record<ResolvedProfile['format'], string>> = { csv: 'csv', 'csv.gz': 'csv.gz', parquet: 'parquet' };

/** The canonical columns of a profile's rows, before renaming. */
function canonicalColumns(p: ResolvedProfile): { keys: string[]; values: string[] } {
  const aggregates = p.levels.some((l) => l !== 'series');
  const keys = [...(aggregates ? ['level'] : []), 'store_id', 'sku', ...(aggregates ? ['region', 'category'] : []), 'date'];
  if (p.shape === 'long') return { keys, values: ['quantity_type', 'quantile', 'value'] };
  return { keys, values: [...(p.mean ? ['mean'] : []), 'final', ...p.quantiles.map(quantileColumn)] };
}

/** The columns of a profile's files, renamed, with their meaning: for the dictionary. */
export function profileColumns(p: ResolvedProfile): Column[] {
  const { keys, values } = canonicalColumns(p);
  const rounding = p.round === 'integer' ? ', whole units' : p.round === 'pack' ? ', in multiples of the pack size' : '';
  const meaning: Record<string, [string, string]> = {
    level: ['text', 'hierarchy level: series, store, region, category-store, sku-region or total'],
    store_id: ['text', 'store (empty on levels above stores)'], sku: ['text', 'SKU (empty on levels above SKUs)'],
    region: ['text', 'region of the store (stores table: country-region)'], category: ['text', 'category of the SKU (items table)'],
    date: ['text', `target period, written as ${p.dateFormat}${p.weekStart !== 'input' ? `; weekly periods labelled with the ${p.weekStart === 'monday' ? 'Monday' : 'Sunday'} starting the calendar week that holds most of their days` : ''}`],
    mean: ['number', `mean demand of the period (the statistical forecast)${rounding}; the levels add up exactly`],
    final: ['number', `the final forecast: the mean with the planners' overrides (equal to the mean where none applies; on a series row the override's figure, on a level above the mean plus its series' override changes)${rounding}; the levels add up exactly`],
    quantity_type: ['text', `\`mean\`, \`final\` (the mean with the planners' overrides; equal to the mean where none applies) or \`quantile\``], quantile: ['number', 'the quantile level (empty for the mean and the final)'], value: ['number', 'the mean, the final or the quantile (units)'],
  };
  for (const l of p.quantiles) meaning[quantileColumn(l)] = ['number', `quantile ${l} of the period's demand${p.round !== 'none' ? ' (rounded)' : ''}: the statistical band (overrides do not move it)`];
  return [...keys, ...values].map((c) => ({ name: p.columns[c] ?? c, type: meaning[c][0], meaning: meaning[c][1] }));
}

export interface WrittenOutput {
  readonly name: string;
  readonly profile: ProfileName;
  readonly format: ResolvedProfile['format'];
  readonly layout: ResolvedProfile['layout'];
  readonly levels: readonly LevelName[];
  /** Run-relative paths (outputs/…) and their rows. */
  readonly files: readonly { path: string; rows: number }[];
}

/**
 * Write one profile's files into the staging folder `dir`. `weekly`/`inputLabel`: how the
 * input dates its periods. Parquet is converted from a CSV of the raw text through DuckDB.
 */
export async function writeProfile(conn: DuckDBConnection, dir: string, p: ResolvedProfile, t: ForecastTable, weekly: boolean, inputLabel: 'end' | 'start'): Promise<WrittenOutput> {
  const h = t.dates.length;
  const dates = profileDates(p, t.dates, weekly, inputLabel);
  const step = stepOf(p, t);
  const means = coherentMeans(t, step);
  const finals = coherentFinals(t, step, means);
  const qIndex = p.quantiles.map((l) => t.levels.findIndex((r) => Math.abs(r - l) < 1e-9));
  const { keys, values } = canonicalColumns(p);
  const header = [...keys, ...values].map((c) => p.columns[c] ?? c);
  const raw = p.format === 'parquet';
  const field = (s: string): string => (raw ? (/[",\r\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s) : csvField(s));
  const aggregates = keys.includes('level');
  // Per store (or one file): the nodes it holds, in table order.
  const wanted = t.nodes.map((n, i) => (p.levels.includes(n.level) ? i : -1)).filter((i) => i >= 0);
  const parts = new Map<string, number[]>();
  for (const i of wanted) {
    const part = p.layout === 'store' ? (t.nodes[i].store ? storeFileName(t.nodes[i].store) : ABOVE_STORES) : '';
    const list = parts.get(part);
    if (list) list.push(i); else parts.set(part, [i]);
  }
  const files: { path: string; rows: number }[] = [];
  for (const [part, nodes] of [...parts].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    const rel = `outputs/${p.name}${part ? `/${part}` : ''}.${EXT[p.format]}`;
    const target = memberPath(dir, rel);
    mkdirSync(dirname(target), { recursive: true });
    const csvPath = p.format === 'csv' ? target : `${target}.tmp.csv`;
    const w = new CsvWriter(csvPath, header);
    for (const i of nodes) {
      const n = t.nodes[i];
      const st = step(i);
      const prefix = [...(aggregates ? [n.level] : []), field(n.store), field(n.sku), ...(aggregates ? [field(n.region), field(n.category)] : [])].join(',');
      for (let s = 0; s < h; s++) {
        const head = `${prefix},${field(dates[s])}`;
        const mean = formatTicks(means[i * h + s]);
        const final = formatTicks(finals[i * h + s]);
        const qs = qIndex.map((k) => roundTo(t.q[k][i * h + s], n.level === 'series' ? st : p.round === 'none' ? 1 / TICKS : 1));
        if (p.shape === 'long') {
          if (p.mean) w.add(`${head},mean,,${mean}`);
          w.add(`${head},final,,${final}`);
          p.quantiles.forEach((l, k) => w.add(`${head},quantile,${formatNumber(l)},${qs[k]}`));
        } else {
          w.add([head, ...(p.mean ? [mean] : []), final, ...qs].join(','));
        }
      }
      await w.flush();
    }
    await w.close();
    if (p.format === 'csv.gz') {
      await pipeline(createReadStream(csvPath), createGzip({ level: 9 }), createWriteStream(target));
      rmSync(csvPath);
    } else if (p.format === 'parquet') {
      const canonical = [...keys, ...values];
      const types = header.map((c, k) => `${sqlString(c)}: '${values.includes(canonical[k]) && canonical[k] !== 'quantity_type' ? 'DOUBLE' : 'VARCHAR'}'`).join(', ');
      await conn.run(`COPY (SELECT * FROM read_csv(${sqlString(csvPath)}, header = true, delim = ',', quote = '"', escape = '"', columns = {${types}})) TO ${sqlString(target)} (FORMAT parquet)`);
      rmSync(csvPath);
    }
    files.push({ path: rel, rows: w.rows });
  }
  return { name: p.name, profile: p.profile, format: p.format, layout: p.layout, levels: p.levels, files };
}
