import type { SeriesBatch } from '../forecast/wire.js';

/** One series of a worker batch, with everything the batch carries for it. */
export interface SeriesSlice {
  readonly values: Float64Array;
  readonly events?: { readonly t: Int32Array; readonly f: Int32Array; readonly priors: Float64Array };
  readonly closed?: Int32Array;
  readonly fixed?: { readonly models: Int16Array; readonly weights: Float64Array; readonly labels: string[]; readonly params: string[] };
}

/** Series i of a batch (views into its arrays). */
export function sliceSeries(b: SeriesBatch, i: number): SeriesSlice {
  const span = (offsets: Int32Array): [number, number] => [offsets[i], offsets[i + 1]];
  const [v0, v1] = span(b.offsets);
  const out: { -readonly [K in keyof SeriesSlice]: SeriesSlice[K] } = { values: b.values.subarray(v0, v1) };
  if (b.events) {
    const [e0, e1] = span(b.events.offsets);
    const F = b.events.priors.length / (b.offsets.length - 1);
    out.events = { t: b.events.t.subarray(e0, e1), f: b.events.f.subarray(e0, e1), priors: b.events.priors.subarray(i * F, (i + 1) * F) };
  }
  if (b.closed) {
    const [c0, c1] = span(b.closed.offsets);
    out.closed = b.closed.t.subarray(c0, c1);
  }
  if (b.fixed) {
    const [f0, f1] = span(b.fixed.offsets);
    out.fixed = { models: b.fixed.models.subarray(f0, f1), weights: b.fixed.weights.subarray(f0, f1), labels: b.fixed.labels.slice(f0, f1), params: b.fixed.params.slice(f0, f1) };
  }
  return out;
}

/** A batch of its own arrays made of series slices (all from batches of one run, so alike in what they carry). */
export function assembleBatch(index: number, slices: readonly SeriesSlice[]): SeriesBatch {
  const offsetsOf = (len: (s: SeriesSlice) => number): Int32Array => {
    const o = new Int32Array(slices.length + 1);
    slices.forEach((s, k) => { o[k + 1] = o[k] + len(s); });
    return o;
  };
  const concat = <T extends Float64Array | Int32Array | Int16Array>(Ctor: new (n: number) => T, parts: T[]): T => {
    const out = new Ctor(parts.reduce((a, p) => a + p.length, 0));
    let at = 0;
    for (const p of parts) { out.set(p as never, at); at += p.length; }
    return out;
  };
  const first = slices[0];
  const offsets = offsetsOf((s) => s.values.length);
  return {
    index,
    offsets,
    values: concat(Float64Array, slices.map((s) => s.values)),
    ...(first?.events ? {
      events: {
        offsets: offsetsOf((s) => s.events?.t.length ?? 0),
        t: concat(Int32Array, slices.map((s) => s.events?.t ?? new Int32Array(0))),
        f: concat(Int32Array, slices.map((s) => s.events?.f ?? new Int32Array(0))),
        priors: concat(Float64Array, slices.map((s) => s.events?.priors ?? new Float64Array(0))),
      },
    } : {}),
    ...(first?.closed ? { closed: { offsets: offsetsOf((s) => s.closed?.length ?? 0), t: concat(Int32Array, slices.map((s) => s.closed ?? new Int32Array(0))) } } : {}),
    ...(first?.fixed ? {
      fixed: {
        offsets: offsetsOf((s) => s.fixed?.models.length ?? 0),
        models: concat(Int16Array, slices.map((s) => s.fixed?.models ?? new Int16Array(0))),
        weights: concat(Float64Array, slices.map((s) => s.fixed?.weights ?? new Float64Array(0))),
        labels: slices.flatMap((s) => s.fixed?.labels ?? []),
        params: slices.flatMap((s) => s.fixed?.params ?? []),
      },
    } : {}),
  };
}
