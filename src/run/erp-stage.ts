import { resolve } from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import type { Config } from '../config/schema.js';
import type { ReadBatch, SeriesKeys } from '../ingest/series-reader.js';
import { readStores } from '../calendars/scoped.js';
import { readItemTable, type ItemRow, type Location } from '../calendars/items.js';
import type { RunPlan } from './run-plan.js';
import { artifactPath, type ArtifactName } from '../publish/artifacts.js';
import { artifactEntry, coreEntries, writeDictionary, type DictionaryEntry } from '../publish/dictionary.js';
import { profileColumns, resolveProfile, writeProfile, type ForecastTable, type TableNode, type WrittenOutput } from '../publish/profiles.js';

/**
 * What the main thread learns about each series as it streams to the workers (before closures
 * mark closed periods unobserved): whether its history is whole units, which decides its
 * quantiles' distribution (backtest/distribution.ts).
 */
/** A count series sells few units at a time: the median of its positive sales is at most this (whole dollars are not units). */
export const MAX_COUNT_MEDIAN = 10;

export class SeriesObserver {
  /** Per series id: 1 where every observed value is a whole number, some positive, and the median positive one at most MAX_COUNT_MEDIAN. */
  readonly count: Uint8Array;
  private readonly taps: ((read: ReadBatch) => void)[] = [];

  constructor(series: number) {
    this.count = new Uint8Array(series);
  }

  /** Also hand every batch to `tap` (the hierarchy's aggregates). */
  onBatch(tap: (read: ReadBatch) => void): void {
    this.taps.push(tap);
  }

  observe(read: ReadBatch): void {
    const { batch, firstSid } = read;
    for (let i = 0; i + 1 < batch.offsets.length; i++) {
      let whole = true;
      let positive = 0;
      let small = 0;
      for (let j = batch.offsets[i]; j < batch.offsets[i + 1]; j++) {
        const v = batch.values[j];
        if (Number.isNaN(v)) continue;
        if (!Number.isInteger(v)) { whole = false; break; }
        if (v > 0) { positive++; if (v <= MAX_COUNT_MEDIAN) small++; }
      }
      // The (lower) median of the positive values is at most the limit exactly when more than
      // half of them, the median's index included, are: no sort on the main thread.
      this.count[firstSid + i] = whole && positive > 0 && small > (positive - 1) >> 1 ? 1 : 0;
    }
    for (const tap of this.taps) tap(read);
  }
}

/** Where each store is and what each SKU is: the stores table and the items table. */
export interface ErpTables {
  readonly regionOf: (store: string) => string;
  readonly items: ReadonlyMap<string, ItemRow>;
  /** Whether the items table gives any SKU a category (else the hierarchy has no category level). */
  readonly categories: boolean;
}

/**
 * The stores and items tables as a run needs them, as plain data (a sharded run's publish reads
 * them from the plan, not from the input's folder): the region of every store of the run, and
 * the items-table row of every SKU of the run.
 */
export function readErpTables(cfg: Config, keys: SeriesKeys): RunPlan['erp']['tables'] {
  const stores = cfg.calendars.stores ? readStores(resolve(cfg.calendars.stores)) : new Map<string, Location>();
  const itemsFile = cfg.items ?? cfg.calendars.items;
  const items = itemsFile ? readItemTable(resolve(itemsFile)) : new Map<string, ItemRow>();
  const fallback = cfg.calendars.region ? `${cfg.calendars.country}-${cfg.calendars.region.toUpperCase()}` : cfg.calendars.country;
  const regions: Record<string, string> = {};
  for (const store of keys.store) {
    const loc = stores.get(store);
    regions[store] ??= loc ? (loc.region ? `${loc.country}-${loc.region}` : loc.country) : fallback;
  }
  const rows: Record<string, ItemRow> = {};
  for (const sku of keys.sku) {
    const row = items.get(sku);
    if (row) rows[sku] = row;
  }
  return { regions, items: rows, categories: [...items.values()].some((r) => r.category !== undefined) };
}

/** The lookups of the plan's tables. */
export function erpTables(data: RunPlan['erp']['tables']): ErpTables {
  const items = new Map(Object.entries(data.items));
  return { regionOf: (store) => data.regions[store] ?? '', items, categories: data.categories };
}

/** Per series id, 1 where SeriesObserver found a count series, from the plan's text of 0s and 1s. */
export function countFlags(text: string): Uint8Array {
  return Uint8Array.from(text, (c) => (c === '1' ? 1 : 0));
}

/** A number as the published files have it (4 decimals): the ERP files are made from the published figures, so a republish (`overrides apply`) reads back the same table. */
export const published = (x: number): number => Math.round(x * 1e4) / 1e4;

/** The series' forecasts as a table of series nodes (before any hierarchy), at the published precision. */
export class SeriesTable {
  readonly mean: Float64Array;
  /** The forecast with the planners' overrides (forecast_final of forecasts.csv): `mean` where none applies. */
  readonly final: Float64Array;
  /** 1 where an override set the series' step. */
  readonly overridden: Uint8Array;
  readonly q: Float64Array[];

  constructor(readonly keys: SeriesKeys, readonly horizon: number, readonly levels: readonly number[]) {
    const n = keys.store.length;
    this.mean = new Float64Array(n * horizon);
    this.final = new Float64Array(n * horizon);
    this.overridden = new Uint8Array(n * horizon);
    this.q = levels.map(() => new Float64Array(n * horizon));
  }

  /** Series `sid`'s mean and quantiles, and with an override its final forecast and which steps it set (ids[s] ≠ 0). */
  collect(sid: number, point: ArrayLike<number>, qs: readonly ArrayLike<number>[], overridden?: { final: ArrayLike<number>; ids: ArrayLike<number> }): void {
    const h = this.horizon;
    for (let s = 0; s < h; s++) {
      const k = sid * h + s;
      this.mean[k] = published(point[s]);
      const set = overridden !== undefined && overridden.ids[s] !== 0;
      this.overridden[k] = set ? 1 : 0;
      this.final[k] = set ? published(overridden.final[s]) : this.mean[k];
      qs.forEach((q, l) => { this.q[l][k] = published(q[s]); });
    }
  }

  nodes(tables: ErpTables): TableNode[] {
    return this.keys.store.map((store, i) => ({ level: 'series', store, sku: this.keys.sku[i], region: tables.regionOf(store), category: tables.items.get(this.keys.sku[i])?.category ?? '' }));
  }

  /** The table of series only (no hierarchy). */
  table(tables: ErpTables, dates: readonly string[]): ForecastTable {
    const nodes = this.nodes(tables);
    return { nodes, dates, levels: this.levels, mean: this.mean, final: this.final, q: this.q, members: nodes.map((_, i) => Int32Array.of(i)), pack: packSizes(nodes, tables) };
  }
}

export function packSizes(nodes: readonly TableNode[], tables: ErpTables): Float64Array {
  return Float64Array.from(nodes, (n) => (n.level === 'series' ? tables.items.get(n.sku)?.packSize ?? 1 : 1));
}

export interface ErpWritten {
  readonly outputs: WrittenOutput[];
  readonly entries: DictionaryEntry[];
}

/** Write every configured output profile from `table`. */
export async function writeOutputs(conn: DuckDBConnection, staging: string, cfg: Pick<Config, 'outputs' | 'quantiles'> & { calendars: Pick<Config['calendars'], 'weekLabel'> }, table: ForecastTable, weekly: boolean): Promise<ErpWritten> {
  const outputs: WrittenOutput[] = [];
  const entries: DictionaryEntry[] = [];
  for (const o of cfg.outputs) {
    const p = resolveProfile(o, cfg.quantiles);
    const written = await writeProfile(conn, staging, p, table, weekly, cfg.calendars.weekLabel);
    outputs.push(written);
    const columns = profileColumns(p);
    for (const f of written.files) {
      entries.push({ file: f.path, about: `output \`${p.name}\` (profile ${p.profile}, ${p.format}${p.layout === 'store' ? ', one file per store' : ''}), served at /runs/{id}/${f.path}`, columns: p.format === 'parquet' ? columns.map((c) => ({ ...c, type: c.type === 'number' ? 'DOUBLE' : 'VARCHAR' })) : columns });
    }
  }
  return { outputs, entries };
}

/** SCHEMA.md: the core files the run wrote, then the ERP files. */
export function writeSchema(staging: string, runId: string, cfg: Config, written: readonly ArtifactName[], fiscal: boolean, extra: readonly DictionaryEntry[]): void {
  const core = coreEntries(cfg.quantiles, fiscal);
  const entries: DictionaryEntry[] = [];
  for (const name of written) {
    if (name === 'SCHEMA.md' || name === 'manifest.json' || extra.some((e) => e.file === name)) continue;
    const columns = core[name];
    entries.push(artifactEntry(name, columns ?? null));
  }
  writeDictionary(artifactPath(staging, 'SCHEMA.md'), runId, [...entries, ...extra]);
}

/**
 * The `run.published` webhook's body: which run, what it covers and its files with checksums,
 * as paths on the API (`/runs/<id>/<file>`), never the server's folders.
 */
export function publishedNotice(runId: string, kind: string, finished: Date, dates: readonly string[], lastDate: string, series: number, files: Readonly<Record<string, { bytes: number; sha256: string; rows?: number }>>) {
  return {
    event: 'run.published',
    run_id: runId,
    kind,
    finished_at: finished.toISOString(),
    data: { last_date: lastDate, series, target_dates: { first: dates[0], last: dates[dates.length - 1] } },
    manifest: `/runs/${runId}`,
    files: Object.fromEntries(Object.entries(files).map(([name, f]) => [name, { url: `/runs/${runId}/${name}`, ...f }])),
  };
}
