#!/usr/bin/env node
// Where the per-series time goes: runs the engine's own per-series pipeline (forecastSeries from
// dist/, the function every worker calls) on M5-shaped series in this thread, with every
// candidate model wrapped in a timer, and reports time per series by demand class and per
// model family, split into backtest fits (one per window) and the final refit.
// Run under `node --cpu-prof` for function-level hot spots (see cpuprofile-top.mjs).
//
//   npm run build && node bench/perf/profile-series.mjs --series 300
//   node --cpu-prof --cpu-prof-dir bench/results/prof bench/perf/profile-series.mjs --series 300
//
// Options: --input FILE (default bench/data/m5.parquet; generated if missing), --series N (200),
// --dist DIR (compiled engine, default dist/),
// --seed K (sample seed, 1), --tail D (fit only the last D days of each series),
// --config FILE (shelfcast config: candidates, windows, combine…), --windows K, --combine K,
// --json FILE (default bench/results/profile-series-<series>[-tail<D>].json), --quiet.
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { availableParallelism, cpus, loadavg, totalmem } from 'node:os';
import { dirname, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { loadSeries } from './load-series.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const argv = process.argv.slice(2);
const opt = (k, d) => { const i = argv.indexOf(k); return i >= 0 ? argv[i + 1] : d; };
const dist = resolve(opt('--dist', resolve(root, 'dist')));
const imp = (p) => import(pathToFileURL(resolve(dist, p)).href);

const input = resolve(opt('--input', resolve(root, 'bench/data/m5.parquet')));
const count = Number(opt('--series', 200));
const seed = Number(opt('--seed', 1));
const tail = opt('--tail') ? Number(opt('--tail')) : null;
const quiet = argv.includes('--quiet');

if (!existsSync(input)) {
  if (opt('--input')) throw new Error(`no such file: ${input}`);
  execFileSync(process.execPath, [resolve(root, 'bench/m5/generate.mjs'), '--out', input], { stdio: 'inherit' });
}

const { forecastSeries } = await imp('src/forecast/series.js');
const { modelByName } = await imp('src/models/library.js');
const { imputeUnobserved } = await imp('src/models/impute.js');
const { loadConfig } = await imp('src/config/load.js');
const { seriesTask } = await imp('src/run/task.js');
const { DAY } = await imp('src/ingest/frequency.js');

const overrides = { 'models.windows': opt('--windows') ? Number(opt('--windows')) : undefined, 'models.combine': opt('--combine') ? Number(opt('--combine')) : undefined };
const cfg = loadConfig(opt('--config') ? resolve(opt('--config')) : undefined, overrides);
const task = seriesTask(cfg, DAY);

const tLoad = performance.now();
let series = await loadSeries(input, { limit: count, seed });
// The demand class on the whole history, so that --tail runs can be compared class by class
// (a shorter history can move a series to another class).
const { classifyDemand } = await imp('src/models/classify.js');
series = series.map((s) => ({ ...s, fullCls: classifyDemand(imputeUnobserved(s.y)).cls }));
if (tail) series = series.map((s) => ({ ...s, y: s.y.slice(Math.max(0, s.y.length - tail)) }));
const loadSeconds = (performance.now() - tLoad) / 1000;

// Timers use this process's CPU time (one busy thread here), not wall time: the machine is
// shared, and a descheduled thread would otherwise be billed for someone else's work.
const cpuMs = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1000; };
// Timers: key → { calls, ms }.
const timers = new Map();
const add = (key, ms) => { const t = timers.get(key) ?? { calls: 0, ms: 0 }; t.calls++; t.ms += ms; timers.set(key, t); };
let current = { n: 0, cls: '' };
const pending = [];
// The engine fits the candidates on at most task.maxHistory periods: the final fit is the one
// on that whole window, every shorter one is a backtest window.
const phaseOf = (y) => (y.length === Math.min(current.n, task.maxHistory) ? 'final' : 'backtest');
const timedCall = (name, phase, fn) => {
  const t0 = cpuMs();
  try {
    return fn();
  } finally {
    pending.push({ name, phase, ms: cpuMs() - t0 });
  }
};
// A fitted model with its forecast, refit and reselect timed; refit and reselect are kept
// (backtest windows after the first refit the previous window's fit, and the final fit starts
// from the newest window's, as in the engine), and what they return is timed too.
const timedFitted = (name, phase, fitted) => {
  const timedMethod = (method) => (fitted[method] ? { [method]: (y, ctx) => { const ph = phaseOf(y); return timedFitted(name, ph, timedCall(name, ph, () => fitted[method](y, ctx))); } } : {});
  return {
    label: fitted.label,
    params: fitted.params,
    forecast: (h) => timedCall(name, phase, () => fitted.forecast(h)),
    ...timedMethod('refit'),
    ...timedMethod('reselect'),
  };
};
const timed = (name) => {
  const model = modelByName(name);
  return {
    name: model.name,
    fit(y, ctx) {
      const phase = phaseOf(y);
      return timedFitted(name, phase, timedCall(name, phase, () => model.fit(y, ctx)));
    },
  };
};

const perSeries = [];
const t0 = performance.now();
const c0 = cpuMs();
for (const s of series) {
  current = { n: imputeUnobserved(s.y).length, cls: '' };
  pending.length = 0;
  const a = cpuMs();
  const f = forecastSeries(s.y, task, timed);
  const ms = cpuMs() - a;
  let modelMs = 0;
  for (const p of pending) {
    add(`${f.cls}|${p.name}|${p.phase}`, p.ms);
    modelMs += p.ms;
  }
  add(`${f.cls}|(pipeline: impute, classify, select, combine)|other`, ms - modelMs);
  perSeries.push({ store: s.store, sku: s.sku, n: s.y.length, cls: f.cls, fullCls: s.fullCls, ms, label: f.label, fallback: f.kind === 'fallback' || f.kind === 'zero' ? f.reason : null, absError: f.score?.absError ?? NaN, absActual: f.score?.absActual ?? NaN });
}
const wallSeconds = (performance.now() - t0) / 1000;
const totalSeconds = (cpuMs() - c0) / 1000;

// Summaries.
const q = (xs, p) => { const a = [...xs].sort((x, y) => x - y); return a.length ? a[Math.min(a.length - 1, Math.floor(p * (a.length - 1) + 0.5))] : NaN; };
const classes = {};
for (const cls of ['smooth', 'erratic', 'intermittent', 'lumpy']) {
  const ms = perSeries.filter((s) => s.cls === cls).map((s) => s.ms);
  if (ms.length === 0) continue;
  const sum = ms.reduce((a, b) => a + b, 0);
  const sel = perSeries.filter((x) => x.cls === cls && Number.isFinite(x.absError));
  const wape = sel.reduce((a, x) => a + x.absError, 0) / sel.reduce((a, x) => a + x.absActual, 0);
  classes[cls] = { backtest_wape: +wape.toFixed(4), series: ms.length, share: +(ms.length / perSeries.length).toFixed(3), ms_mean: +(sum / ms.length).toFixed(2), ms_p50: +q(ms, 0.5).toFixed(2), ms_p95: +q(ms, 0.95).toFixed(2), ms_max: +Math.max(...ms).toFixed(2), seconds: +(sum / 1000).toFixed(2), time_share: +(sum / 1000 / totalSeconds).toFixed(3) };
}
const models = [...timers.entries()].map(([k, v]) => {
  const [cls, model, phase] = k.split('|');
  return { cls, model, phase, calls: v.calls, seconds: +(v.ms / 1000).toFixed(3), ms_per_call: +(v.ms / v.calls).toFixed(3), time_share: +(v.ms / 1000 / totalSeconds).toFixed(4) };
}).sort((a, b) => b.seconds - a.seconds);
const byModel = {};
for (const m of models) {
  const k = `${m.model}`;
  byModel[k] ??= { backtest: 0, final: 0, other: 0 };
  byModel[k][m.phase] += m.seconds;
}
const phases = { backtest: 0, final: 0, other: 0 };
for (const m of models) phases[m.phase] += m.seconds;

// Batch scheduling: makespan of 2 workers over batches of 200 in series order (what the pool
// does) against batches ordered by cost (longest first), from the measured per-series costs.
function makespan(batches, workers) {
  const free = new Array(workers).fill(0);
  for (const b of batches) { free.sort((a, c) => a - c); free[0] += b; }
  return Math.max(...free);
}
const batchSize = cfg.batchSize;
const inOrder = [];
for (let i = 0; i < perSeries.length; i += batchSize) inOrder.push(perSeries.slice(i, i + batchSize).reduce((a, s) => a + s.ms, 0));
const byCost = [...inOrder].sort((a, b) => b - a);

const meanMs = (totalSeconds * 1000) / perSeries.length;
const result = {
  kind: 'profile-series',
  at: new Date().toISOString(),
  machine: { cpus: availableParallelism(), model: cpus()[0]?.model, mem_gb: +(totalmem() / 2 ** 30).toFixed(1), node: process.version },
  input, series: perSeries.length, seed, tail, days: series[0]?.y.length,
  task: { horizon: task.horizon, seasons: task.seasons, windows: task.windows, combine: task.combine, metric: task.metric, candidates: task.candidates },
  load_seconds: +loadSeconds.toFixed(2),
  cpu_seconds: +totalSeconds.toFixed(2),
  wall_seconds: +wallSeconds.toFixed(2),
  loadavg_1min_end: +loadavg()[0].toFixed(2),
  ms_per_series: +meanMs.toFixed(2),
  series_per_second_1_thread: +(1000 / meanMs).toFixed(2),
  extrapolated_30490_series_seconds_1_thread: Math.round((30490 * meanMs) / 1000),
  classes,
  // Accuracy of what was selected on its own backtest windows (the last windows × horizon days,
  // the same target days whatever --tail is): WAPE = Σ|error| / Σ|actual|, scale-free.
  backtest_wape_by_full_history_class: Object.fromEntries(['smooth', 'erratic', 'intermittent', 'lumpy'].map((c) => {
    const sel = perSeries.filter((x) => x.fullCls === c && Number.isFinite(x.absError));
    return [c, { series: sel.length, wape: +(sel.reduce((a, x) => a + x.absError, 0) / sel.reduce((a, x) => a + x.absActual, 0)).toFixed(4) }];
  })),
  backtest_wape: (() => { const sel = perSeries.filter((x) => Number.isFinite(x.absError)); return +(sel.reduce((a, x) => a + x.absError, 0) / sel.reduce((a, x) => a + x.absActual, 0)).toFixed(4); })(),
  phases: Object.fromEntries(Object.entries(phases).map(([k, v]) => [k, { seconds: +v.toFixed(2), share: +(v / totalSeconds).toFixed(3) }])),
  by_model: Object.fromEntries(Object.entries(byModel).sort((a, b) => (b[1].backtest + b[1].final) - (a[1].backtest + a[1].final)).map(([k, v]) => [k, { backtest_s: +v.backtest.toFixed(2), final_s: +v.final.toFixed(2), other_s: +v.other.toFixed(2), share: +((v.backtest + v.final + v.other) / totalSeconds).toFixed(3) }])),
  models,
  batches: { size: batchSize, count: inOrder.length, makespan_2_workers_in_order_s: +(makespan(inOrder, 2) / 1000).toFixed(2), makespan_2_workers_cost_ordered_s: +(makespan(byCost, 2) / 1000).toFixed(2), ideal_s: +(totalSeconds / 2).toFixed(2), batch_s_min: +(Math.min(...inOrder) / 1000).toFixed(2), batch_s_max: +(Math.max(...inOrder) / 1000).toFixed(2) },
  slowest: [...perSeries].sort((a, b) => b.ms - a.ms).slice(0, 10).map((s) => ({ ...s, ms: +s.ms.toFixed(1) })),
  fallbacks: perSeries.filter((s) => s.fallback).length,
};
const out = resolve(opt('--json', resolve(root, `bench/results/profile-series-${perSeries.length}${tail ? `-tail${tail}` : ''}.json`)));
mkdirSync(dirname(out), { recursive: true });
writeFileSync(out, JSON.stringify(result, null, 2) + '\n');

if (!quiet) {
  const p = (s) => process.stdout.write(s + '\n');
  p(`${perSeries.length} series × ${result.days} days from ${input}${tail ? ` (last ${tail} days)` : ''}: ${totalSeconds.toFixed(1)} CPU s (${wallSeconds.toFixed(1)} s wall) on 1 thread = ${meanMs.toFixed(1)} ms/series (${result.series_per_second_1_thread} series/s); 30,490 series ≈ ${result.extrapolated_30490_series_seconds_1_thread} s on 1 thread`);
  p(`  backtest WAPE of the selection ${result.backtest_wape}; by class of the whole history: ${Object.entries(result.backtest_wape_by_full_history_class).map(([k, v]) => `${k} ${v.wape}`).join(', ')}`);
  p(`  phases: ${Object.entries(result.phases).map(([k, v]) => `${k} ${v.seconds} s (${(100 * v.share).toFixed(0)} %)`).join(', ')}`);
  p('  class          series  ms/series  p50     p95     max      share of time');
  for (const [k, v] of Object.entries(classes)) p(`  ${k.padEnd(14)} ${String(v.series).padStart(6)}  ${v.ms_mean.toFixed(1).padStart(8)}  ${v.ms_p50.toFixed(1).padStart(6)}  ${v.ms_p95.toFixed(1).padStart(6)}  ${v.ms_max.toFixed(1).padStart(7)}  ${(100 * v.time_share).toFixed(1)} %`);
  p('  model (all classes)   backtest s  final s  share');
  for (const [k, v] of Object.entries(result.by_model)) p(`  ${k.padEnd(22)} ${v.backtest_s.toFixed(2).padStart(9)}  ${v.final_s.toFixed(2).padStart(7)}  ${(100 * v.share).toFixed(1)} %`);
  p(`  batches of ${batchSize} on 2 workers: makespan ${result.batches.makespan_2_workers_in_order_s} s in series order, ${result.batches.makespan_2_workers_cost_ordered_s} s longest first, ideal ${result.batches.ideal_s} s`);
  p(`  → ${out}`);
}
