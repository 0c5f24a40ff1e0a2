#!/usr/bin/env node
// Micro-experiments behind the recommendations in bench/RESULTS-perf.md. Pure functions from
// dist/ on M5-shaped series, one thread, nothing in src/ changed:
//   lengths  fit time of every candidate model on the last 1941 / 1095 / 730 / 365 days
//   ets      Nelder–Mead evaluations per ETS form (a replica of fitEtsForm's objective built from
//            the exported etsFilter/initialStates/nelderMead, checked against fitEtsForm), and
//            what capped iterations, a looser tolerance, or a warm start from the previous
//            backtest window would cost in likelihood and save in evaluations
//   stl      MSTL [7, 365] against STL on 7 only, by history length
//
//   node bench/perf/experiments.mjs [--series 40] [--only lengths,ets,stl] [--json out.json]
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { loadSeries } from './load-series.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const argv = process.argv.slice(2);
const opt = (k, d) => { const i = argv.indexOf(k); return i >= 0 ? argv[i + 1] : d; };
const dist = resolve(opt('--dist', resolve(root, 'dist')));
const imp = (p) => import(pathToFileURL(resolve(dist, p)).href);
const only = opt('--only', 'lengths,ets,stl').split(',');
const count = Number(opt('--series', 40));

const { modelByName, DEFAULT_CANDIDATES } = await imp('src/models/library.js');
const { imputeUnobserved } = await imp('src/models/impute.js');
const { classifyDemand } = await imp('src/models/classify.js');
const { etsFilter, etsNegLogLik } = await imp('src/models/ets/filter.js');
const { initialStates } = await imp('src/models/ets/initial.js');
const { fitEtsForm } = await imp('src/models/ets/fit.js');
const { candidateForms } = await imp('src/models/ets/index.js');
const { nelderMead } = await imp('src/models/optim/nelder-mead.js');
const { mstl } = await imp('src/models/decompose/mstl.js');
const { stl } = await imp('src/models/decompose/stl.js');

// Enough series to find `count` smooth/erratic ones and `count` intermittent/lumpy ones.
const all = (await loadSeries(resolve(opt('--input', resolve(root, 'bench/data/m5.parquet'))), { limit: count * 8, seed: 11 }))
  .map((s) => ({ ...s, y: imputeUnobserved(s.y) }))
  .map((s) => ({ ...s, cls: classifyDemand(s.y).cls }));
const dense = all.filter((s) => s.cls === 'smooth' || s.cls === 'erratic').slice(0, count);
const sparse = all.filter((s) => s.cls === 'intermittent' || s.cls === 'lumpy').slice(0, count);
const ctx = { season: 7, seasons: [7, 365] };
// CPU time of this process (one busy thread), not wall time: the machine is shared.
const cpuMs = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1000; };
const time = (f) => { const t = cpuMs(); const r = f(); return [cpuMs() - t, r]; };
const result = { kind: 'experiments', at: new Date().toISOString(), series: { dense: dense.length, sparse: sparse.length } };
const p = (s) => process.stdout.write(s + '\n');

// Warm up the JIT on a few fits so the first model measured is not penalised.
for (const s of dense.slice(0, 3)) for (const m of DEFAULT_CANDIDATES.smooth) modelByName(m).fit(s.y, ctx).forecast(28);

if (only.includes('lengths')) {
  // Interleaved and repeated: each rep visits every series, model and length (length order
  // rotating), and the figure is the best rep's mean, so a burst of load on the shared
  // machine does not land on one length only.
  const lengths = (opt('--lengths') ?? '1941,1095,730,365').split(',').map(Number);
  const reps = Number(opt('--reps', 3));
  const out = {};
  const acc = new Map();
  for (let rep = 0; rep < reps; rep++) {
    for (const [group, set, names] of [['smooth/erratic', dense, DEFAULT_CANDIDATES.smooth], ['intermittent/lumpy', sparse, DEFAULT_CANDIDATES.intermittent]]) {
      set.forEach((s, i) => {
        for (const name of names) {
          const model = modelByName(name);
          for (let j = 0; j < lengths.length; j++) {
            const L = lengths[(i + j + rep) % lengths.length];
            const y = s.y.subarray(Math.max(0, s.y.length - L));
            const [ms] = time(() => model.fit(y, ctx).forecast(28));
            const k = `${group}|${name}|${L}|${rep}`;
            acc.set(k, (acc.get(k) ?? 0) + ms / set.length);
          }
        }
      });
    }
  }
  for (const k of acc.keys()) {
    const [group, name, L] = k.split('|');
    const key = `${group}|${name}`;
    out[key] ??= {};
    const v = acc.get(k);
    out[key][L] = Math.min(out[key][L] ?? Infinity, +v.toFixed(3));
  }
  result.fit_ms_by_length = out;
  result.fit_ms_by_length_note = `best of ${reps} interleaved reps; CPU ms per fit + 28-step forecast`;
  p(`fit + forecast CPU ms per call, by history length (mean over ${dense.length} smooth/erratic, ${sparse.length} intermittent/lumpy series; best of ${reps} interleaved reps)`);
  p(`  ${'model'.padEnd(32)} ${lengths.map((l) => String(l).padStart(8)).join('')}`);
  for (const [k, v] of Object.entries(out)) p(`  ${k.padEnd(32)} ${lengths.map((l) => v[l].toFixed(2).padStart(8)).join('')}`);
}

// A replica of fitEtsForm (src/models/ets/fit.ts) that counts objective evaluations and takes
// optimiser settings and a start point. Checked below against fitEtsForm's own parameters.
const logistic = (u) => 1 / (1 + Math.exp(-u));
const logit = (q) => Math.log(q / (1 - q));
function etsReplica(y, form, m, { maxIter, tol = 1e-7, step = 0.6, start } = {}) {
  const n = y.length;
  const seasonal = form.season !== 'N';
  const hasTrend = form.trend !== 'N';
  const damped = form.trend === 'Ad';
  const init = initialStates(y, m, form.trend, form.season);
  let scale = 0;
  for (let i = 1; i < n; i++) scale += Math.abs(y[i] - y[i - 1]);
  scale = scale / Math.max(1, n - 1) || Math.abs(init.l0) || 1;
  const x0 = [logit(0.2)];
  if (hasTrend) x0.push(logit(0.1));
  if (seasonal) x0.push(logit(0.05));
  if (damped) x0.push(logit(0.5));
  x0.push(0);
  if (hasTrend) x0.push(0);
  const buf = new Float64Array(Math.max(1, m));
  const decode = (x) => {
    let k = 0;
    const alpha = 1e-4 + (1 - 2e-4) * logistic(x[k++]);
    const beta = hasTrend ? alpha * logistic(x[k++]) : 0;
    const gamma = seasonal ? (1 - alpha) * logistic(x[k++]) : 0;
    const phi = damped ? 0.8 + 0.18 * logistic(x[k++]) : 1;
    const l0 = init.l0 + x[k++] * scale;
    const b0 = hasTrend ? init.b0 + x[k++] * scale * 0.1 : 0;
    return { alpha, beta, gamma, phi, l0, b0, s0: init.s0 };
  };
  let evals = 0;
  const objective = (x) => { evals++; return etsNegLogLik(etsFilter(y, form, m, decode(x), buf), form, n); };
  const best = nelderMead(objective, start ?? x0, { maxIter: maxIter ?? 60 * x0.length + 100, tol, step });
  return { fx: best.fx, iterations: best.iterations, evals, x: Float64Array.from(best.x), params: decode(best.x), nParams: x0.length };
}

if (only.includes('ets')) {
  const variants = {
    default: {},
    'maxIter 100': { maxIter: 100 },
    'tol 1e-4': { tol: 1e-4 },
    'maxIter 100 + tol 1e-4': { maxIter: 100, tol: 1e-4 },
  };
  const stats = {};
  const byForm = {};
  let checked = 0;
  let mismatched = 0;
  let filterMs = 0;
  let filterCalls = 0;
  const warm = { evals_cold: 0, evals_warm: 0, dlik_warm: [], fits: 0 };
  for (const s of dense) {
    const forms = candidateForms(s.y, 7);
    for (const form of forms) {
      const key = `${form.error}${form.trend}${form.season}`;
      // The real thing, for the check and the timing.
      const [msReal, real] = time(() => fitEtsForm(s.y, form, 7));
      const base = etsReplica(s.y, form, 7);
      checked++;
      if (real && Math.abs(real.params.alpha - base.params.alpha) > 1e-9) mismatched++;
      byForm[key] ??= { fits: 0, ms: 0, evals: 0, iterations: 0, params: base.nParams };
      byForm[key].fits++;
      byForm[key].ms += msReal;
      byForm[key].evals += base.evals;
      byForm[key].iterations += base.iterations;
      for (const [v, o] of Object.entries(variants)) {
        const [ms, r] = time(() => etsReplica(s.y, form, 7, o));
        stats[v] ??= { ms: 0, evals: 0, dlik: [] };
        stats[v].ms += ms;
        stats[v].evals += r.evals;
        if (Number.isFinite(base.fx) && base.fx < 1e300) stats[v].dlik.push(r.fx - base.fx);
      }
      // One filter pass, for the cost per evaluation.
      const params = base.params;
      const [fms] = time(() => { for (let k = 0; k < 20; k++) etsFilter(s.y, form, 7, params, new Float64Array(7)); });
      filterMs += fms / 20;
      filterCalls++;
      // Backtest windows: fit on y[0..n-28·k); the next window (28 days more) starts from the
      // previous window's optimum with a small simplex.
      const n = s.y.length;
      const w1 = etsReplica(s.y.subarray(0, n - 84), form, 7);
      const w2cold = etsReplica(s.y.subarray(0, n - 56), form, 7);
      const w2warm = etsReplica(s.y.subarray(0, n - 56), form, 7, { start: w1.x, step: 0.1 });
      warm.fits++;
      warm.evals_cold += w2cold.evals;
      warm.evals_warm += w2warm.evals;
      if (Number.isFinite(w2cold.fx) && w2cold.fx < 1e300) warm.dlik_warm.push(w2warm.fx - w2cold.fx);
    }
  }
  const q = (xs, pr) => { const a = [...xs].sort((x, y) => x - y); return a.length ? a[Math.floor(pr * (a.length - 1))] : NaN; };
  result.ets = {
    fits: checked,
    replica_alpha_mismatches: mismatched,
    filter_pass_ms_1941: +(filterMs / filterCalls).toFixed(4),
    by_form: Object.fromEntries(Object.entries(byForm).map(([k, v]) => [k, { fits: v.fits, params: v.params, ms_per_fit: +(v.ms / v.fits).toFixed(2), evals_per_fit: Math.round(v.evals / v.fits), iterations_per_fit: Math.round(v.iterations / v.fits) }])),
    variants: Object.fromEntries(Object.entries(stats).map(([k, v]) => [k, { ms_per_fit: +(v.ms / checked).toFixed(2), evals_per_fit: Math.round(v.evals / checked), loglik_worse_median: +q(v.dlik, 0.5).toFixed(4), loglik_worse_p90: +q(v.dlik, 0.9).toFixed(3), loglik_worse_max: +Math.max(...v.dlik).toFixed(3) }])),
    warm_start_next_window: { fits: warm.fits, evals_cold: Math.round(warm.evals_cold / warm.fits), evals_warm: Math.round(warm.evals_warm / warm.fits), loglik_diff_median: +q(warm.dlik_warm, 0.5).toFixed(4), loglik_diff_p90: +q(warm.dlik_warm, 0.9).toFixed(3) },
  };
  const e = result.ets;
  p(`\nETS on ${dense.length} smooth/erratic series × 1941 days: ${e.fits} form fits; replica matches fitEtsForm on ${e.fits - e.replica_alpha_mismatches}/${e.fits}; one filter pass ${e.filter_pass_ms_1941} ms`);
  p('  form   params  ms/fit  evaluations  NM iterations');
  for (const [k, v] of Object.entries(e.by_form)) p(`  ${k.padEnd(6)} ${String(v.params).padStart(6)} ${v.ms_per_fit.toFixed(1).padStart(7)} ${String(v.evals_per_fit).padStart(12)} ${String(v.iterations_per_fit).padStart(14)}`);
  p('  optimiser variant        ms/fit  evaluations  −2logL worse: median  p90  max');
  for (const [k, v] of Object.entries(e.variants)) p(`  ${k.padEnd(24)} ${v.ms_per_fit.toFixed(1).padStart(6)} ${String(v.evals_per_fit).padStart(12)}  ${String(v.loglik_worse_median).padStart(20)} ${String(v.loglik_worse_p90).padStart(6)} ${String(v.loglik_worse_max).padStart(6)}`);
  const w = e.warm_start_next_window;
  p(`  next backtest window warm-started from the previous one (step 0.1): ${w.evals_warm} evaluations vs ${w.evals_cold} cold; −2logL difference median ${w.loglik_diff_median}, p90 ${w.loglik_diff_p90}`);
}

if (only.includes('stl')) {
  const out = {};
  for (const L of [1941, 1095, 730]) {
    let msM = 0;
    let ms7 = 0;
    let ms365 = 0;
    for (const s of dense) {
      const y = s.y.slice(s.y.length - L);
      msM += time(() => mstl(y, [7, 365]))[0];
      ms7 += time(() => mstl(y, [7]))[0];
      if (L >= 730) ms365 += time(() => stl(y, 365, { seasonalSpan: 11 }))[0];
    }
    out[L] = { mstl_7_365_ms: +(msM / dense.length).toFixed(2), stl_7_ms: +(ms7 / dense.length).toFixed(2), stl_365_once_ms: +(ms365 / dense.length).toFixed(2) };
  }
  result.stl = out;
  p('\nSTL/MSTL ms per decomposition (mean), by history length');
  for (const [L, v] of Object.entries(out)) p(`  ${L}: MSTL [7, 365] ${v.mstl_7_365_ms} ms (2 rounds × 2 periods), STL 7 only ${v.stl_7_ms} ms, one STL pass at 365 ${v.stl_365_once_ms} ms`);
}

const out = resolve(opt('--json', resolve(root, 'bench/results/experiments.json')));
mkdirSync(dirname(out), { recursive: true });
writeFileSync(out, JSON.stringify(result, null, 2) + '\n');
p(`→ ${out}`);
