import type { Config } from '../config/schema.js';
import type { LevelName } from '../config/erp.js';
import { CLOSED_FLAG, type ReadBatch, type SeriesKeys } from '../ingest/series-reader.js';
import type { CalendarPlan } from '../calendars/plan.js';
import type { ClosurePlan } from '../calendars/closure-plan.js';
import { demandClassOf, type SeriesBatch } from '../forecast/wire.js';
import type { SeriesTask } from '../forecast/types.js';
import { CalibrationBuilder, classDist, countVariance, type Calibration, type ClassDist } from '../backtest/conformal.js';
import { continuousQuantile, countCdf, countQuantile, gaussianQuantile, hashSeed, normalCdf, normalDraw, seededRandom, sortedQuantile } from '../backtest/distribution.js';
import { correlatedNormals, denseReconciler, diagonalReconciler, errorMatrix, shrinkageIntensity, type Errors, type HierarchyShape, type Reconciler } from '../models/reconcile.js';
import { CsvWriter } from '../publish/csv-writer.js';
import { csvField, formatNumber, quantileColumn } from '../publish/format.js';
import { artifactEntry, type DictionaryEntry } from '../publish/dictionary.js';
import { artifactPath } from '../publish/artifacts.js';
import { coherentFinals, coherentMeans, formatTicks, type ForecastTable, type TableNode } from '../publish/profiles.js';
import type { RunManifest } from '../publish/manifest.js';
import { calibrateSeries, calibrationUnit, type TaggedBatch } from './forecast-stage.js';
import { isCount, type SeriesResult } from './publish-stage.js';
import { packSizes, published, type ErpTables, type SeriesTable } from './erp-stage.js';

/**
 * The hierarchy (issue 18, item 3): the levels the stores table (store → region) and the items
 * table (SKU → category) define — store total, region, category × store, SKU × region, total —
 * forecast as more series through the same pool, then reconciled so that every level adds up
 * (models/reconcile.ts), with intervals from reconciled joint samples.
 *
 * - Each aggregate's history is the sum of its series as they sold: a closed period counts 0,
 *   an unobserved one (stock-out, outage) its interpolated demand.
 * - W comes from the one-step in-sample errors of every base forecast, aggregates and bottoms,
 *   over the last `hierarchy.insamplePeriods` periods (as MinT was derived for; a combination's
 *   are its members' weighted), or with `hierarchy.errors: "backtest"` from the out-of-selection
 *   backtest errors (windows × horizon error vectors, aligned on the same target dates). A
 *   series with none (a fallback; with backtest errors also a reused one) gets its calibrated
 *   variance and no correlation.
 * - Joint samples per date: each series' own predictive distribution (the published one:
 *   conformal band, or negative binomial for counts), coupled across series by a Gaussian
 *   copula with the shrunk correlation of the backtest errors (they span the horizon; one-step
 *   errors understate how a level error persists over it); each sample reconciled; negative
 *   series set to 0 and every aggregate re-added, so samples and means add up exactly.
 */

/** An aggregate of the hierarchy as published. */
interface AggregateNode extends TableNode {
  /** Bottom series (ids) it adds up, sorted. */
  readonly members: Int32Array;
  /** Index of the forecast aggregate series it is (several nodes with the same members share one); -1: a single series. */
  readonly series: number;
}

/** The forecast aggregate series: distinct member sets of two or more series. */
interface AggregateSeries {
  readonly members: Int32Array;
  /** For calendars: a store whose location the whole aggregate shares ('' : the default). */
  readonly calendarStore: string;
  /** For calendar scoping and pooled effects: the SKU it is one of ('' : several). */
  readonly sku: string;
  /** For closures: the store it lies in ('' : several stores). */
  readonly closureStore: string;
}

/** What groups the series of each level above them. */
export const LEVEL_KEYS: Readonly<Record<Exclude<LevelName, 'series'>, (n: TableNode) => string>> = {
  store: (n) => n.store,
  region: (n) => n.region,
  'category-store': (n) => `${n.store}\u0000${n.category}`,
  'sku-region': (n) => `${n.sku}\u0000${n.region}`,
  total: () => '',
};

/** Above this n × aggregates, W Cᵀ is not built densely (8 bytes each: 240 MB). */
const MAX_DENSE_CELLS = 3e7;

export class HierarchyPlan {
  readonly bottom: TableNode[];
  readonly nodes: AggregateNode[];
  readonly series: AggregateSeries[];
  /** Per bottom series: the aggregate series it belongs to. */
  private readonly parents: Int32Array[];
  /** [aggregate][t] the summed history, t = 0..lastT (allocated by the first tap: a publish needs only the structure). */
  private values: Float64Array[] | null = null;
  private readonly starts: Int32Array;
  readonly levelCounts: Record<string, number> = {};

  constructor(cfg: Config, keys: SeriesKeys, tables: ErpTables, private readonly lastT: number) {
    this.bottom = keys.store.map((store, i) => ({ level: 'series', store, sku: keys.sku[i], region: tables.regionOf(store), category: tables.items.get(keys.sku[i])?.category ?? '' }));
    const hasCategories = tables.categories;
    const levels = cfg.hierarchy.levels.filter((l): l is Exclude<LevelName, 'series'> => l !== 'series' && (l !== 'category-store' || hasCategories));
    this.nodes = [];
    this.series = [];
    const bySignature = new Map<string, number>();
    for (const level of levels) {
      const groups = new Map<string, number[]>();
      this.bottom.forEach((n, i) => { const k = LEVEL_KEYS[level](n); const g = groups.get(k); if (g) g.push(i); else groups.set(k, [i]); });
      const sorted = [...groups].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
      this.levelCounts[level] = sorted.length;
      for (const [, list] of sorted) {
        const members = Int32Array.from(list).sort();
        const first = this.bottom[members[0]];
        const same = (f: (n: TableNode) => string): string => (list.every((i) => f(this.bottom[i]) === f(first)) ? f(first) : '');
        const node: TableNode = { level, store: same((n) => n.store), sku: same((n) => n.sku), region: same((n) => n.region), category: same((n) => n.category) };
        let series = -1;
        if (members.length > 1) {
          const sig = members.join(',');
          series = bySignature.get(sig) ?? -1;
          if (series < 0) {
            series = this.series.length;
            bySignature.set(sig, series);
            const region = node.region;
            this.series.push({ members, calendarStore: region ? first.store : '', sku: node.sku, closureStore: node.store });
          }
        }
        this.nodes.push({ ...node, members, series });
      }
    }
    const parents: number[][] = keys.store.map(() => []);
    this.series.forEach((s, j) => { for (const b of s.members) parents[b].push(j); });
    this.parents = parents.map((p) => Int32Array.from(p));
    this.starts = new Int32Array(this.series.length).fill(lastT + 1);
  }

  /** Add a batch of bottom series (as read, before closures) into the aggregates' histories. */
  tap(read: ReadBatch): void {
    const { batch, firstSid, flags } = read;
    this.values ??= this.series.map(() => new Float64Array(this.lastT + 1));
    for (let i = 0; i + 1 < batch.offsets.length; i++) {
      const parents = this.parents[firstSid + i];
      if (!parents || parents.length === 0) continue;
      const lo = batch.offsets[i];
      const len = batch.offsets[i + 1] - lo;
      const t0 = this.lastT + 1 - len;
      const v = soldOrDemand(batch.values.subarray(lo, lo + len), flags.subarray(lo, lo + len));
      let first = 0;
      while (first < len && Number.isNaN(v[first])) first++;
      for (const j of parents) {
        const acc = this.values[j];
        for (let k = first; k < len; k++) acc[t0 + k] += v[k];
        if (t0 + first < this.starts[j]) this.starts[j] = t0 + first;
      }
    }
  }

  /** Periods of aggregate j's history, once every series was tapped. */
  periods(j: number): number {
    return this.lastT + 1 - Math.min(this.starts[j], this.lastT);
  }

  /** The aggregate series as batches for the pool, each series from its first period; batch indexes from `firstIndex`. */
  batches(size: number, bottoms: number, firstIndex: number): ReadBatch[] {
    const values0 = this.values ?? this.series.map(() => new Float64Array(this.lastT + 1));
    const out: ReadBatch[] = [];
    for (let b = 0, index = firstIndex; b < this.series.length; b += size, index++) {
      const ids = Array.from({ length: Math.min(size, this.series.length - b) }, (_, k) => b + k);
      const offsets = new Int32Array(ids.length + 1);
      ids.forEach((j, k) => { offsets[k + 1] = offsets[k] + (this.lastT + 1 - Math.min(this.starts[j], this.lastT)); });
      const values = new Float64Array(offsets[ids.length]);
      ids.forEach((j, k) => values.set(values0[j].subarray(Math.min(this.starts[j], this.lastT)), offsets[k]));
      const batch: SeriesBatch = { index, offsets, values };
      out.push({ batch, firstSid: bottoms + b, flags: new Uint8Array(values.length) });
    }
    return out;
  }

  /** Keys of bottoms and aggregates by id: for calendars (location, SKU scope) and for closures (store). */
  keysFor(keys: SeriesKeys, use: 'calendar' | 'closure'): SeriesKeys {
    return {
      store: [...keys.store, ...this.series.map((s) => (use === 'calendar' ? s.calendarStore : s.closureStore))],
      sku: [...keys.sku, ...this.series.map((s) => s.sku)],
    };
  }
}

/** Closed periods sold 0; unobserved ones (NaN otherwise) get interpolated demand; before the first sale stays NaN. */
function soldOrDemand(y: Float64Array, flags: Uint8Array): Float64Array {
  const v = Float64Array.from(y, (x, k) => (flags[k] & CLOSED_FLAG ? 0 : x));
  let prev = -1;
  for (let k = 0; k < v.length; k++) {
    if (Number.isNaN(v[k])) continue;
    if (prev >= 0 && k - prev > 1) for (let j = prev + 1; j < k; j++) v[j] = v[prev] + ((v[k] - v[prev]) * (j - prev)) / (k - prev);
    prev = k;
  }
  if (prev >= 0) for (let j = prev + 1; j < v.length; j++) v[j] = v[prev];
  return v;
}

/**
 * The series' batches, then the hierarchy's aggregates as more batches (ids from the number of
 * series on, batch indexes after the last series batch), with calendars and closures as their
 * stores have them. `bottoms` must tap every series into `hp` as it streams (SeriesObserver).
 */
export async function* withAggregates(bottoms: AsyncIterable<TaggedBatch>, hp: HierarchyPlan, cfg: Config, keys: SeriesKeys, plan: CalendarPlan | null, closures: ClosurePlan | null, lastT: number): AsyncGenerator<TaggedBatch> {
  let index = 0;
  for await (const b of bottoms) {
    index = Math.max(index, b.batch.index + 1);
    yield b;
  }
  const calKeys = hp.keysFor(keys, 'calendar');
  const closeKeys = hp.keysFor(keys, 'closure');
  for (const read of hp.batches(cfg.batchSize, keys.store.length, index)) {
    const batch: SeriesBatch = {
      ...read.batch,
      ...(plan ? { events: plan.forBatch(read, calKeys, lastT) } : {}),
      ...(closures ? { closed: closures.forBatch(read, closeKeys) } : {}),
    };
    yield { batch, tag: Int32Array.from({ length: batch.offsets.length - 1 }, (_, i) => read.firstSid + i) };
  }
}

/** The interval calibration of the aggregates, from their backtest errors in series order. */
export function aggregateCalibration(aggregates: readonly SeriesResult[], task: SeriesTask, levels: readonly number[]): Calibration {
  const builder = new CalibrationBuilder(task.horizon, task.windows);
  for (const { result, i } of aggregates) calibrateSeries(builder, result, i, task);
  return builder.build(levels);
}

/** One series of the reconciled vector: where its forecast is and which distribution it has. */
interface Member {
  readonly result: SeriesResult['result'];
  readonly i: number;
  readonly d: ClassDist | null;
  readonly count: boolean;
}

export interface HierarchyOutcome {
  readonly table: ForecastTable;
  readonly rows: number;
  readonly summary: NonNullable<RunManifest['hierarchy']>;
  readonly entry: DictionaryEntry;
}

/**
 * Reconcile and write hierarchy.csv; the table (every level) is what profiles with `levels`
 * write from.
 */
export async function reconcileAndWrite(staging: string, cfg: Config, hp: HierarchyPlan, bottomResults: readonly SeriesResult[], calibration: Calibration, count: Uint8Array | undefined, agg: { results: readonly SeriesResult[]; calibration: Calibration }, tables: ErpTables, dates: readonly string[], task: SeriesTask, seriesTable: SeriesTable): Promise<HierarchyOutcome> {
  const h = task.horizon;
  const nb = hp.bottom.length;
  const m = hp.series.length;
  const n = nb + m;
  const shape: HierarchyShape = { n, bottoms: nb, members: hp.series.map((s) => s.members) };
  const members: Member[] = new Array(n);
  for (const { result, sid, i } of bottomResults) {
    const cls = demandClassOf(result.classIds[i]);
    members[sid] = { result, i, d: classDist(calibration, cls), count: isCount(count, sid, cls) };
  }
  for (const { result, sid, i } of agg.results) members[sid] = { result, i, d: classDist(agg.calibration, demandClassOf(result.classIds[i])), count: false };
  for (let k = 0; k < n; k++) if (!members[k]) throw new Error(`hierarchy: no forecast of ${k < nb ? 'series' : 'aggregate'} ${k} (bug)`);
  const unitOf = (k: number): Float64Array => calibrationUnit(members[k].result, members[k].i, h);
  // W from the one-step in-sample errors when the workers returned them (task.insample), else
  // from the backtest windows (windows × steps error vectors on the same target dates).
  const source = wSource(cfg, task, members);
  const fallbackVariance = (k: number): number => {
    const { d } = members[k];
    const u = unitOf(k)[0];
    const m2 = d ? d.m2.reduce((a, v) => a + v, 0) / d.m2.length : 1;
    const sd = members[k].result.sd[members[k].i * h];
    return u > 0 && Number.isFinite(u) ? u * u * m2 : Number.isFinite(sd) ? sd * sd : 1;
  };
  const matrixOf = (from: 'insample' | 'backtest'): Errors => {
    const N = from === 'insample' ? task.insample ?? 0 : task.windows * h;
    return errorMatrix(N, n, (k) => {
      const { result, i } = members[k];
      const r = (from === 'insample' ? result.insample ?? new Float64Array(0) : result.residuals).subarray(i * N, (i + 1) * N);
      return r.some(Number.isFinite) ? r : null;
    }, fallbackVariance);
  };
  const errors = matrixOf(source);
  const lambda = shrinkageIntensity(errors);
  // The joint samples' correlation is that of errors over the horizon (the backtests'), which
  // one-step errors understate (a level error persists over the steps).
  const across = source === 'backtest' ? errors : matrixOf('backtest');
  const acrossLambda = across === errors ? lambda : shrinkageIntensity(across);
  const method = cfg.hierarchy.method;
  const dense = method === 'mint-shrink' && m <= cfg.hierarchy.maxDense && n * m <= MAX_DENSE_CELLS;
  const reconciler: Reconciler | null = method === 'mint-shrink' || method === 'wls'
    ? dense || (method === 'wls' && n * m <= MAX_DENSE_CELLS) ? denseReconciler(shape, errors, method === 'wls' ? 1 : lambda) : diagonalReconciler(shape, errors.diag)
    : null;
  const used = method === 'mint-shrink' && !dense ? 'wls (mint-shrink: too many aggregates for a dense W)' : method;

  // Base means and closed steps per series and step.
  const pointOf = (k: number, s: number): number => members[k].result.point[members[k].i * h + s];
  // Closed at a step: its store is (the worker's closures), or every one of its series is.
  const closedAt = Array.from({ length: h }, (_, s) => {
    const c = new Uint8Array(n);
    for (let k = 0; k < n; k++) c[k] = members[k].result.closed[members[k].i * h + s];
    for (let j = 0; j < m; j++) if (hp.series[j].members.every((b) => c[b] === 1)) c[nb + j] = 1;
    return c;
  });
  const closedOf = (k: number, s: number): boolean => closedAt[s][k] === 1;
  // Beyond the dense size each sample would cost a conjugate-gradient solve: samples then take
  // the reconciliation of the means as a shift of each series (still adding up exactly).
  let shift: Float64Array | null = null;
  const coherent = (y: Float64Array, sample = false): Float64Array => {
    if (method === 'base') return y;
    let rec: Float64Array;
    if (sample && shift) { rec = Float64Array.from(y); for (let b = 0; b < nb; b++) rec[b] += shift[b]; } else rec = reconciler ? reconciler.reconcile(y) : y;
    const out = new Float64Array(n);
    for (let b = 0; b < nb; b++) out[b] = Math.max(0, rec[b]);
    for (let j = 0; j < m; j++) { let s = 0; for (const b of hp.series[j].members) s += out[b]; out[nb + j] = s; }
    return out;
  };

  // Means and samples per date.
  const levels = cfg.quantiles;
  const S = cfg.hierarchy.samples;
  const meanAll = new Float64Array(n * h);
  const qAll = levels.map(() => new Float64Array(n * h));
  const draw = correlatedNormals(across, acrossLambda);
  const z = new Float64Array(n);
  const samples = new Float64Array(S * n);
  const sorted = new Float64Array(S);
  for (let s = 0; s < h; s++) {
    const y = new Float64Array(n);
    for (let k = 0; k < n; k++) y[k] = closedOf(k, s) ? 0 : pointOf(k, s);
    const mean = coherent(y);
    for (let k = 0; k < n; k++) meanAll[k * h + s] = mean[k];
    if (reconciler?.kind === 'diagonal-cg') { const rec = reconciler.reconcile(y); shift = Float64Array.from({ length: nb }, (_, b) => rec[b] - y[b]); }
    const r = seededRandom(hashSeed(`hierarchy\u0000${s}`, 1));
    const normal = (): number => normalDraw(r);
    const cdfs = members.map((mb, k) => (mb.count && mb.d && !closedOf(k, s) ? countCdf(pointOf(k, s), countVariance(mb.d, unitOf(k)[s] > 0 ? unitOf(k)[s] : 0, s)) : null));
    for (let p = 0; p < S; p++) {
      draw(normal, z);
      const base = new Float64Array(n);
      for (let k = 0; k < n; k++) {
        if (closedOf(k, s)) continue;
        const u = Math.min(1 - 1e-9, Math.max(1e-9, normalCdf(z[k])));
        const mb = members[k];
        const cdf = cdfs[k];
        const unit = unitOf(k)[s];
        base[k] = cdf ? countQuantile(cdf, u) : mb.d && unit > 0 && Number.isFinite(unit) ? continuousQuantile(pointOf(k, s), unit, mb.d.absGrid, s, u) : gaussianQuantile(pointOf(k, s), mb.result.sd[mb.i * h + s], u);
      }
      samples.set(coherent(base, true), p * n);
    }
    for (let k = 0; k < n; k++) {
      for (let p = 0; p < S; p++) sorted[p] = samples[p * n + k];
      sorted.sort();
      let floor = 0;
      levels.forEach((l, q) => { const v = Math.max(floor, sortedQuantile(sorted, l)); qAll[q][k * h + s] = v; floor = v; });
    }
  }

  // The published table: the series, then every aggregate node (nodes sharing members share a series).
  const nodes: TableNode[] = [...hp.bottom, ...hp.nodes.map(({ level, store, sku, region, category }) => ({ level, store, sku, region, category }))];
  const N2 = nodes.length;
  const mean = new Float64Array(N2 * h);
  const q = levels.map(() => new Float64Array(N2 * h));
  const vectorIndex = [...hp.bottom.map((_, i) => i), ...hp.nodes.map((a) => (a.series >= 0 ? nb + a.series : a.members[0]))];
  vectorIndex.forEach((k, row) => {
    mean.set(meanAll.subarray(k * h, (k + 1) * h), row * h);
    levels.forEach((_, l) => q[l].set(qAll[l].subarray(k * h, (k + 1) * h), row * h));
  });
  const members2 = [...hp.bottom.map((_, i) => Int32Array.of(i)), ...hp.nodes.map((a) => a.members)];
  const pack = packSizes(nodes, tables);
  // At the published precision (hierarchy.csv's figures), so a republish reads the same table back.
  const coherentTable = method !== 'base';
  const ticks = coherentTable ? coherentMeans({ nodes, dates, levels, mean, final: mean, q, members: members2, pack }, () => 1e-4) : null;
  for (let k = 0; k < mean.length; k++) mean[k] = ticks ? Number(ticks[k]) / 1e4 : published(mean[k]);
  for (const ql of q) for (let k = 0; k < ql.length; k++) ql[k] = published(ql[k]);
  const table = withFinals({ nodes, dates, levels, mean, q, members: members2, pack }, seriesTable.final, seriesTable.overridden);
  const w = await writeHierarchyCsv(staging, table, coherentTable);
  const levelCounts: Record<string, number> = { series: nb, ...hp.levelCounts };
  const entry = artifactEntry('hierarchy.csv', [
    { name: 'level', type: 'text', meaning: 'series (store × SKU), store, region, category-store, sku-region or total' },
    { name: 'store_id', type: 'text', meaning: 'the store, on series, store and category-store rows (empty above)' },
    { name: 'sku', type: 'text', meaning: 'the SKU, on series and sku-region rows' },
    { name: 'region', type: 'text', meaning: 'region of the stores (stores table: country-region; the default location for stores it does not list); empty when the row spans regions' },
    { name: 'category', type: 'text', meaning: 'category of the SKUs (items table); empty when the row spans categories' },
    { name: 'date', type: 'date', meaning: 'target period' }, { name: 'step', type: 'integer', meaning: 'periods ahead' },
    { name: 'mean', type: 'number', meaning: `reconciled mean (${used}); every row is the exact sum of its series rows, to the 4th decimal` },
    { name: 'forecast_final', type: 'number', meaning: 'the final forecast, with the planners\' overrides: on a series row forecasts.csv\'s `forecast_final` where an override sets the date, else the reconciled mean; on a level above, its mean plus its series\' changes (final − mean), so it is the exact sum of its series rows too' },
    ...levels.map((l) => ({ name: quantileColumn(l), type: 'number', meaning: `quantile ${l} of the reconciled joint samples (quantiles of a sum are not sums of quantiles)` })),
  ], [`Reconciliation ${used}${reconciler?.kind === 'diagonal-cg' ? ' (by conjugate gradients; the samples shifted by the reconciliation of the means)' : ''}${method === 'mint-shrink' && dense ? `, shrinkage λ = ${formatNumber(lambda)}` : ''}${reconciler ? `, W from ${source === 'insample' ? `the one-step in-sample errors of the last ${errors.N} periods` : 'the backtest errors'}` : ''}; ${S} joint samples per date; series forecast below 0 by the reconciliation are set to 0 and their aggregates re-added.`, 'The `series` rows are the reconciled series forecasts; forecasts.csv keeps the base forecasts. Use these rows (or a profile with `levels`) where totals must agree.', 'Quantiles are the statistical band: an override moves `forecast_final`, not the band.']);
  return { table, rows: w, entry, summary: { method: used, levels: levelCounts, aggregates: m, shrinkage: method === 'mint-shrink' && dense ? lambda : null, samples: S, rounding: 'series by cumulative rounding, aggregates their exact sums', errors: reconciler ? source : null, error_vectors: errors.N } };
}

/**
 * Where W's errors come from: the one-step in-sample errors when the run asked for them and
 * every result carries them (a run made by code without them falls back), else the backtests.
 */
function wSource(cfg: Config, task: SeriesTask, members: readonly Member[]): 'insample' | 'backtest' {
  const N = task.insample ?? 0;
  return cfg.hierarchy.errors === 'insample' && N > 0 && members.every((mb) => mb.result.insample?.length === mb.result.classIds.length * N) ? 'insample' : 'backtest';
}

/**
 * `t` with its finals: a series step an override set (overridden = 1) gets `seriesFinal` (the
 * overridden point as forecasts.csv publishes it), every other its mean; a node above the series
 * its mean plus the sum of its series' deltas (final − mean).
 */
export function withFinals(t: Omit<ForecastTable, 'final'>, seriesFinal: Float64Array, overridden: Uint8Array): ForecastTable {
  const h = t.dates.length;
  const final = Float64Array.from(t.mean);
  t.nodes.forEach((n, i) => {
    if (n.level === 'series') {
      for (let k = i * h; k < (i + 1) * h; k++) if (overridden[k]) final[k] = seriesFinal[k];
      return;
    }
  });
  t.nodes.forEach((n, i) => {
    if (n.level === 'series') return;
    for (const b of t.members[i]) for (let s = 0; s < h; s++) final[i * h + s] += final[b * h + s] - t.mean[b * h + s];
  });
  return { ...t, final };
}

export const HIERARCHY_COLUMNS = (levels: readonly number[]): string[] => ['level', 'store_id', 'sku', 'region', 'category', 'date', 'step', 'mean', 'forecast_final', ...levels.map(quantileColumn)];

/**
 * hierarchy.csv from the table: with `coherent`, means and finals in ticks, every aggregate the
 * exact sum of its series (base: the aggregates as forecast). Returns its rows.
 */
export async function writeHierarchyCsv(staging: string, table: ForecastTable, coherent: boolean): Promise<number> {
  const { nodes, dates, levels, mean, final, q } = table;
  const h = dates.length;
  const tick = (): number => 1e-4;
  const ticks = coherent ? coherentMeans(table, tick) : null;
  const finals = ticks ? coherentFinals(table, tick, ticks) : null;
  const w = new CsvWriter(artifactPath(staging, 'hierarchy.csv'), HIERARCHY_COLUMNS(levels));
  nodes.forEach((node, row) => {
    const prefix = `${node.level},${csvField(node.store)},${csvField(node.sku)},${csvField(node.region)},${csvField(node.category)}`;
    for (let s = 0; s < h; s++) {
      const k = row * h + s;
      const meanText = ticks ? formatTicks(ticks[k]) : formatNumber(mean[k]);
      const finalText = finals ? formatTicks(finals[k]) : formatNumber(final[k]);
      w.add(`${prefix},${dates[s]},${s + 1},${meanText},${finalText},${levels.map((_, l) => formatNumber(q[l][k])).join(',')}`);
    }
  });
  await w.close();
  return w.rows;
}
