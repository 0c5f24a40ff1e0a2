import { DEMAND_CLASSES, type DemandClass } from '../models/classify.js';
import { forecastSeries, type ModelChooser, type SeriesTask } from './series.js';

/**
 * The wire format between the main thread and forecast workers. Series values travel as one
 * Float64Array with offsets, results as one Float64Array, so a batch crosses threads by
 * transferring buffers rather than cloning objects. Series identities never leave the main
 * thread: results are matched back by batch index and position.
 */
export interface SeriesBatch {
  readonly index: number;
  /** Series i occupies values[offsets[i] .. offsets[i+1]). Length = series + 1. */
  readonly offsets: Int32Array;
  /** Demand per period, NaN where unobserved. */
  readonly values: Float64Array;
}

export interface BatchRequest {
  readonly batch: SeriesBatch;
  readonly task: SeriesTask;
}

export interface BatchResult {
  readonly index: number;
  /** Row-major [series][step][point, quantile_1 .. quantile_k]. */
  readonly values: Float64Array;
  /** Per series: index into `labels`. */
  readonly labelIds: Uint16Array;
  readonly labels: string[];
  /** Per series: index into DEMAND_CLASSES. */
  readonly classIds: Uint8Array;
  readonly failures: { readonly series: number; readonly reason: string }[];
}

export function seriesCount(batch: SeriesBatch): number {
  return batch.offsets.length - 1;
}

/** Values per series in a result: one point forecast and k quantiles for each step. */
export function resultStride(task: SeriesTask): number {
  return task.horizon * (1 + task.levels.length);
}

/** Forecast every series of a batch. Pure: the worker calls it, and so can a test. */
export function forecastBatch(req: BatchRequest, choose?: ModelChooser): BatchResult {
  const { batch, task } = req;
  const k = seriesCount(batch);
  const h = task.horizon;
  const width = 1 + task.levels.length;
  const values = new Float64Array(k * resultStride(task));
  const labelIds = new Uint16Array(k);
  const classIds = new Uint8Array(k);
  const labels: string[] = [];
  const labelIndex = new Map<string, number>();
  const failures: { series: number; reason: string }[] = [];
  for (let i = 0; i < k; i++) {
    const y = batch.values.subarray(batch.offsets[i], batch.offsets[i + 1]);
    const f = forecastSeries(y, task, choose);
    let id = labelIndex.get(f.label);
    if (id === undefined) {
      id = labels.length;
      labels.push(f.label);
      labelIndex.set(f.label, id);
    }
    labelIds[i] = id;
    classIds[i] = DEMAND_CLASSES.indexOf(f.cls);
    if (f.fallback !== undefined) failures.push({ series: i, reason: f.fallback });
    const base = i * h * width;
    for (let s = 0; s < h; s++) {
      const row = base + s * width;
      values[row] = f.point[s];
      for (let q = 0; q < f.quantiles.length; q++) values[row + 1 + q] = f.quantiles[q][s];
    }
  }
  return { index: batch.index, values, labelIds, labels, classIds, failures };
}

export function demandClassOf(id: number): DemandClass {
  return DEMAND_CLASSES[id] ?? 'smooth';
}
