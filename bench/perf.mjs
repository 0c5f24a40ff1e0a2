#!/usr/bin/env node
// Speed and memory at retail scale (issue 5): the M5-shaped benchmark.
//
//   npm run bench                      # default plan: ingest of the full set, retrain and nightly
//                                      # on 2,000 series at 1 and 2 threads (≈ 6 min on 2 cores)
//   npm run bench -- --quick           # 500-series smoke of every stage, ≈ 1 min
//   npm run bench -- --sizes full --threads 2 --stages retrain,nightly   # the full 30,490 (≈ 12 min)
//   npm run bench -- --stages memory   # peak RSS on the M5 set and the 10× variant (304,900 series × 365 days)
//
// It generates what is missing (bench/data/m5.parquet: 30,490 series × 1,941 days, 59.2M rows;
// nested subsets m5-s<N>.parquet of it), then measures with the compiled CLI (dist/; `npm run
// bench` builds first):
//   ingest   `shelfcast validate --freq day` (read + data-quality rules) end to end, and the same
//            ingest in process at 1 and 2 DuckDB threads with a per-statement breakdown and the
//            time to stream the series out of DuckDB into typed arrays ("read");
//   retrain  `shelfcast retrain`: backtest and selection over the full model library, intervals,
//            publish, registration, at 1 and 2 worker threads;
//   nightly  `shelfcast run` on the retrain's output folder: registered versions reused; the feed
//            unchanged, then a feed with one new day (<input>-plus1.parquet, made once), that feed
//            again, and the new day with `--full` (the incremental ingest against a full one);
//   memory   the M5 set and the 10× variant: validate, and a run with the cheapest config.
// Every measurement is a fresh process: wall time, peak RSS (process.resourceUsage, worker
// threads included), CPU seconds, and the manifest's stage_seconds (ingest, calendars,
// forecast = read + fit + select on the pool, publish = files). Sizes below the full set are
// also extrapolated linearly to 30,490 series (the fit is printed with its inputs).
// Results: a table on stdout and bench/results/perf-<time>.json (the newest is the latest).
//
// Options: --quick, --stages a,b (ingest,retrain,nightly,memory), --sizes 500,2000,full,
// --memory-sets m5,x10 (which data sets the memory stage runs), --ingest-sizes …,
// --threads 1,2, --repeat N (best of N, default 1; all runs are kept), --retrain-repeat N (the
// retrain stage's N, default --repeat),
// --config FILE (shelfcast config for run/validate), --memory-limit X (DuckDB, in-process ingest),
// --input FILE, --dist DIR (compiled engine, default dist/),
// --snapshot [REF] (build git REF, default HEAD, into bench/data/snap-<sha>/ and measure that:
// immune to concurrent edits of src/), --out DIR, --keep (keep run outputs).
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, freemem, loadavg, tmpdir, totalmem } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { snapshot } from './perf/snapshot.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const argv = process.argv.slice(2);
const opt = (k, d) => { const i = argv.indexOf(k); return i >= 0 ? argv[i + 1] : d; };
const flag = (k) => argv.includes(k);
const list = (k, d) => String(opt(k, d)).split(',').map((s) => s.trim()).filter(Boolean);

const quick = flag('--quick');
const stages = list('--stages', quick ? 'ingest,retrain,nightly' : 'ingest,retrain,nightly');
const sizes = list('--sizes', quick ? '500' : '2000');
const ingestSizes = list('--ingest-sizes', quick ? '500' : 'full');
const threadsList = list('--threads', '1,2').map(Number);
const repeat = Number(opt('--repeat', 1));
// A full retrain takes minutes: it can be measured fewer times than the stages that follow it.
const retrainRepeat = Number(opt('--retrain-repeat', repeat));
const input = resolve(opt('--input', join(root, 'bench/data/m5.parquet')));
const outDir = resolve(opt('--out', join(root, 'bench/results')));
const config = opt('--config') ? ['-c', resolve(opt('--config'))] : [];
const memoryLimit = opt('--memory-limit');
const FULL_SERIES = 30490;

const log = (s) => process.stderr.write(s + '\n');
const node = process.execPath;

const dist = argv.includes('--snapshot') ? snapshot(root, opt('--snapshot') ?? 'HEAD', log) : resolve(opt('--dist', join(root, 'dist')));
const cli = join(dist, 'src/cli/main.js');

if (!existsSync(cli) && !argv.includes('--snapshot')) {
  log('dist/ missing: npm run build');
  execFileSync('npm', ['run', 'build'], { cwd: root, stdio: 'inherit' });
}

// ---------------------------------------------------------------- data
function ensureFull() {
  if (existsSync(input)) return input;
  log(`generating ${input} (30,490 × 1,941 days; ≈ 30–60 s)`);
  execFileSync(node, [join(root, 'bench/m5/generate.mjs'), '--out', input], { stdio: ['ignore', 'inherit', 'inherit'] });
  return input;
}
function dataFor(size) {
  if (size === 'full' || Number(size) >= FULL_SERIES) return ensureFull();
  const file = join(dirname(input), `${input.split('/').pop().replace(/\.parquet$/, '')}-s${size}.parquet`);
  if (!existsSync(file)) {
    ensureFull();
    log(`subset ${file}`);
    execFileSync(node, [join(root, 'bench/m5/generate.mjs'), '--from', input, '--series', String(size), '--out', file, '--no-stats'], { stdio: ['ignore', 'inherit', 'inherit'] });
  }
  return file;
}
/**
 * The feed of the next night: `file` with one more day for every series (its last row copied
 * a day later), in the same store/SKU/date order, so every row after the first series moves.
 */
function plusOneDay(file) {
  const next = file.replace(/\.parquet$/, '-plus1.parquet');
  if (!existsSync(next)) {
    log(`one more day: ${next}`);
    const sql = `COPY (SELECT * FROM read_parquet('${file}') UNION ALL SELECT * REPLACE (date + 1 AS date) FROM read_parquet('${file}') WHERE date = (SELECT max(date) FROM read_parquet('${file}')) ORDER BY store_id, sku, date) TO '${next}' (FORMAT parquet)`;
    execFileSync(node, ['--input-type=module', '-e', `import { DuckDBInstance } from '@duckdb/node-api'; const db = await DuckDBInstance.create(':memory:', { memory_limit: '3GB', temp_directory: '${scratch}' }); await (await db.connect()).run(${JSON.stringify(sql)});`], { cwd: root, stdio: ['ignore', 'inherit', 'inherit'] });
  }
  return next;
}
function ensureTenfold() {
  const file = join(dirname(input), 'm5x10.parquet');
  if (!existsSync(file)) {
    log(`generating ${file} (304,900 series × 365 days, 111M rows)`);
    execFileSync(node, [join(root, 'bench/m5/generate.mjs'), '--series', '304900', '--days', '365', '--out', file], { stdio: ['ignore', 'inherit', 'inherit'] });
  }
  return file;
}

// ---------------------------------------------------------------- measuring
const scratch = mkdtempSync(join(tmpdir(), 'shelfcast-perf-'));
let seq = 0;
/** Run the CLI in a fresh process through measure.mjs; returns wall, RSS, CPU, manifest. */
function measureCli(args, { out } = {}) {
  const resFile = join(scratch, `m${++seq}.json`);
  const load0 = loadavg()[0];
  let stdout = '';
  let error = null;
  try {
    // cwd = scratch: an in-memory DuckDB spills to ./.tmp, which should not land in the repository.
    stdout = execFileSync(node, [join(root, 'bench/perf/measure.mjs'), resFile, cli, ...args], { cwd: scratch, stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 1 << 28 }).toString();
  } catch (e) {
    error = (e.stderr?.toString() || e.message).split('\n').slice(0, 3).join(' ');
  }
  // The 1-minute load average before and after: the machine is shared, so this says how noisy a figure is.
  const m = { ...(existsSync(resFile) ? JSON.parse(readFileSync(resFile, 'utf8')) : { code: null }), load1: [+load0.toFixed(2), +loadavg()[0].toFixed(2)] };
  if (error || m.code !== 0) return { ...m, error: error ?? `exit ${m.code}` };
  let manifest = null;
  if (out && existsSync(join(out, 'latest/manifest.json'))) manifest = JSON.parse(readFileSync(join(out, 'latest/manifest.json'), 'utf8'));
  return { ...m, stdout: stdout.trim().split('\n')[0], manifest };
}
function best(runs) {
  const ok = runs.filter((r) => !r.error);
  return ok.length ? ok.reduce((a, b) => (b.wall_seconds < a.wall_seconds ? b : a)) : runs[0];
}
function inProcessIngest(file, threads) {
  const json = join(scratch, `ingest${++seq}.json`);
  const args = [join(root, 'bench/perf/ingest.mjs'), '--input', file, '--threads', String(threads), '--json', json, '--quiet', '--dist', dist];
  if (memoryLimit) args.push('--memory-limit', memoryLimit);
  if (opt('--config')) args.push('--config', resolve(opt('--config')));
  try {
    execFileSync(node, args, { cwd: scratch, stdio: ['ignore', 'ignore', 'pipe'] });
    return JSON.parse(readFileSync(json, 'utf8'));
  } catch (e) {
    return { error: (e.stderr?.toString() || e.message).split('\n').slice(0, 3).join(' ') };
  }
}

const rows = [];
const results = {
  kind: 'perf',
  at: new Date().toISOString(),
  machine: { cpus: availableParallelism(), cpu: cpus()[0]?.model, mem_gb: +(totalmem() / 2 ** 30).toFixed(1), free_gb_at_start: +(freemem() / 2 ** 30).toFixed(1), loadavg_at_start: loadavg().map((x) => +x.toFixed(2)), node: process.version },
  code: { ...gitState(), dist },
  plan: { stages, sizes, ingest_sizes: ingestSizes, threads: threadsList, repeat, retrain_repeat: retrainRepeat, config: opt('--config') ?? null, memory_limit: memoryLimit ?? null },
  ingest: [], retrain: [], nightly: [], memory: [], extrapolation: {},
};
function gitState() {
  try {
    const head = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: root }).toString().trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--', 'src', 'workers'], { cwd: root }).toString().trim().split('\n').filter(Boolean).length;
    return { head, dirty_files_in_src: dirty };
  } catch {
    return null;
  }
}
const rowsOf = (size) => (size === 'full' ? 59181090 : Number(size) * 1941);
const seriesOf = (size) => (size === 'full' ? FULL_SERIES : Number(size));

function record(stage, label, size, threads, runs, extra = {}) {
  const b = best(runs);
  const ms = b.manifest?.stage_seconds ?? {};
  const series = b.manifest?.data?.series ?? extra.series ?? seriesOf(size);
  const nrows = b.manifest?.input?.rows_read ?? extra.rows ?? rowsOf(size);
  const row = {
    stage, label, size: String(size), series, rows: nrows, threads,
    wall_s: b.wall_seconds, all_wall_s: runs.map((r) => r.wall_seconds), series_per_s: b.wall_seconds ? +(series / b.wall_seconds).toFixed(1) : null,
    rows_per_s: b.wall_seconds ? Math.round(nrows / b.wall_seconds) : null, peak_rss_mb: b.peak_rss_mb, cpu_s: b.user_seconds !== undefined ? +(b.user_seconds + b.system_seconds).toFixed(1) : null,
    stage_seconds: ms, error: b.error ?? null, ...extra,
  };
  rows.push(row);
  results[stage].push({ ...row, runs: runs.map(({ manifest, stdout, ...r }) => ({ ...r, stdout, stage_seconds: manifest?.stage_seconds, fallbacks: manifest?.fallbacks?.length, series_per_class: manifest?.series_per_class, decisions: manifest?.model_versions?.decisions })) });
  log(`  ${stage} ${label} ${size} × ${threads} thr: ${row.error ? `ERROR ${row.error}` : `${row.wall_s} s (${row.all_wall_s.join(', ')}), ${row.peak_rss_mb} MB, stages ${JSON.stringify(ms)}`}`);
  return row;
}

/** Output folders of the last retrain per (size, threads): the nightly stage runs on them. */
const retrained = new Map();
function runCli(command, file, threads, extraArgs = [], keepAs = null, times = repeat) {
  const runs = [];
  const cfgArgs = extraArgs.includes('-c') ? [] : config;
  for (let r = 0; r < times; r++) {
    const out = mkdtempSync(join(scratch, 'out-'));
    runs.push(measureCli([command, '-i', file, '-o', out, '--threads', String(threads), '--freq', 'day', '--quiet', ...cfgArgs, ...extraArgs], { out }));
    if (keepAs && !runs[runs.length - 1].error) {
      if (retrained.has(keepAs)) rmSync(retrained.get(keepAs), { recursive: true, force: true });
      retrained.set(keepAs, out);
    } else if (!flag('--keep')) rmSync(out, { recursive: true, force: true });
  }
  return runs;
}

// ---------------------------------------------------------------- stages
if (stages.includes('ingest')) {
  log('ingest');
  for (const size of ingestSizes) {
    const file = dataFor(size);
    const runs = [];
    for (let r = 0; r < repeat; r++) runs.push(measureCli(['validate', '-i', file, '--freq', 'day', ...config]));
    record('ingest', 'validate (CLI, DuckDB default threads)', size, 'default', runs);
    for (const t of threadsList) {
      const ins = [];
      for (let r = 0; r < repeat; r++) ins.push(inProcessIngest(file, t));
      const ok = ins.filter((x) => !x.error);
      const b = ok.length ? ok.reduce((a, c) => (c.ingest_seconds < a.ingest_seconds ? c : a)) : ins[0];
      const row = {
        stage: 'ingest', label: 'in process (quality rules; then read to typed arrays)', size: String(size), series: b.series ?? seriesOf(size), rows: b.rows ?? rowsOf(size), threads: t,
        wall_s: b.ingest_seconds, all_wall_s: ins.map((x) => x.ingest_seconds), series_per_s: null, rows_per_s: b.rows_per_second, peak_rss_mb: b.peak_rss_mb_self,
        read_s: b.read?.seconds, statements: b.statements, duckdb_table_mb: b.duckdb_table_memory_mb, error: b.error ?? null,
      };
      rows.push(row);
      results.ingest.push(row);
      log(`  ingest in-process ${size} × ${t} thr: ${row.error ? `ERROR ${row.error}` : `${row.wall_s} s, read ${row.read_s} s, ${row.peak_rss_mb} MB`}`);
    }
  }
}

if (stages.includes('retrain')) {
  log('retrain (backtest + selection over the full model library)');
  for (const size of sizes) {
    const file = dataFor(size);
    for (const t of threadsList) record('retrain', 'retrain', size, t, runCli('retrain', file, t, [], stages.includes('nightly') ? `${size}@${t}` : null, retrainRepeat));
  }
}

if (stages.includes('nightly')) {
  // The retrain registers a version per series; the nightly run reuses them (issue 6). Measured
  // on the retrain stage's output folder, or on a fresh untimed retrain.
  log('nightly (run with stored selections)');
  for (const size of sizes) {
    const file = dataFor(size);
    for (const t of threadsList) {
      let out = retrained.get(`${size}@${t}`);
      if (!out) {
        out = mkdtempSync(join(scratch, 'nightly-'));
        measureCli(['retrain', '-i', file, '-o', out, '--threads', String(t), '--freq', 'day', '--quiet', ...config], { out });
      }
      const runs = [];
      for (let r = 0; r < repeat; r++) runs.push(measureCli(['run', '-i', file, '-o', out, '--threads', String(t), '--freq', 'day', '--quiet', ...config], { out }));
      record('nightly', 'run with stored selections, unchanged feed (incremental ingest)', size, t, runs);
      // The next night: one new day in every series, from the same folder state each time; then that feed again, unchanged.
      const next = plusOneDay(file);
      const newDay = [];
      const again = [];
      const full = [];
      for (let r = 0; r < repeat; r++) {
        const night = mkdtempSync(join(scratch, 'night-'));
        cpSync(out, night, { recursive: true, verbatimSymlinks: true });
        const twin = mkdtempSync(join(scratch, 'twin-'));
        cpSync(out, twin, { recursive: true, verbatimSymlinks: true });
        const args = (o) => ['run', '-i', next, '-o', o, '--threads', String(t), '--freq', 'day', '--quiet', ...config];
        newDay.push(measureCli(args(night), { out: night }));
        again.push(measureCli(args(night), { out: night }));
        full.push(measureCli([...args(twin), '--full'], { out: twin }));
        rmSync(night, { recursive: true, force: true });
        rmSync(twin, { recursive: true, force: true });
      }
      record('nightly', 'run, feed with one new day (incremental ingest)', size, t, newDay);
      record('nightly', 'run, the same feed again, unchanged (incremental ingest)', size, t, again);
      record('nightly', 'run, feed with one new day, --full (whole feed checked)', size, t, full);
      if (!flag('--keep')) rmSync(out, { recursive: true, force: true });
    }
  }
}

if (stages.includes('memory')) {
  log('memory: the 10× variant');
  const sets = list('--memory-sets', 'm5,x10');
  const cheap = join(scratch, 'cheap.json');
  // The cheapest forecasting config: memory of the pipeline (read, batches, results, publish), not of the models.
  // windows 1, not 0: with no backtest the engine picks by demand class (ets or tsb), not the candidates.
  writeFileSync(cheap, JSON.stringify({ models: { windows: 1, combine: 1, candidates: { smooth: ['snaive'], erratic: ['snaive'], intermittent: ['snaive'], lumpy: ['snaive'] } }, calendars: { enabled: false } }));
  const todo = [];
  if (sets.includes('m5')) todo.push(['M5 shape', ensureFull(), FULL_SERIES, 59181090]);
  if (sets.includes('x10')) todo.push(['10× series (365 days)', ensureTenfold(), 304900, 304900 * 365]);
  for (const [label, f, series, nrows] of todo) {
    record('memory', `validate ${label}`, label, 'default', [measureCli(['validate', '-i', f, '--freq', 'day'])], { series, rows: nrows });
    const out = mkdtempSync(join(scratch, 'mem-'));
    record('memory', `run, cheapest config (snaive only, 1 window, no calendars) ${label}`, label, 2, [measureCli(['run', '-i', f, '-o', out, '--threads', '2', '--freq', 'day', '--quiet', '-c', cheap], { out })], { series, rows: nrows });
    rmSync(out, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------- extrapolation
// Least squares of seconds on series, per stage and thread count, over the measured sizes.
function fit(points) {
  const n = points.length;
  if (n === 0) return null;
  if (n === 1) return { slope: points[0][1] / points[0][0], intercept: 0 };
  const mx = points.reduce((a, p) => a + p[0], 0) / n;
  const my = points.reduce((a, p) => a + p[1], 0) / n;
  const sxx = points.reduce((a, p) => a + (p[0] - mx) ** 2, 0);
  const slope = points.reduce((a, p) => a + (p[0] - mx) * (p[1] - my), 0) / sxx;
  return { slope, intercept: my - slope * mx };
}
for (const stage of ['retrain', 'nightly']) {
  for (const t of threadsList) {
    const pts = results[stage].filter((r) => r.threads === t && !r.error && r.size !== 'full');
    if (pts.length === 0) continue;
    const wall = fit(pts.map((r) => [r.series, r.wall_s]));
    const fc = fit(pts.map((r) => [r.series, r.stage_seconds?.forecast ?? r.wall_s]));
    // CPU seconds of the whole process (all threads): robust to other load on the machine, which
    // stretches wall times and starves the second thread. Wall at t threads if the cores were ours
    // and the work split perfectly = CPU / t: a lower bound.
    const cpu = fit(pts.map((r) => [r.series, r.cpu_s]));
    results.extrapolation[`${stage}@${t}`] = {
      from: pts.map((r) => ({ series: r.series, wall_s: r.wall_s, forecast_s: r.stage_seconds?.forecast })),
      wall_seconds_per_1000_series: +(wall.slope * 1000).toFixed(2),
      forecast_seconds_per_1000_series: +(fc.slope * 1000).toFixed(2),
      wall_s_at_30490: Math.round(wall.intercept + wall.slope * FULL_SERIES),
      cpu_seconds_per_1000_series: +(cpu.slope * 1000).toFixed(2),
      cpu_s_at_30490: Math.round(cpu.intercept + cpu.slope * FULL_SERIES),
      ideal_wall_s_at_30490: Math.round((cpu.intercept + cpu.slope * FULL_SERIES) / t),
      load1_during: pts.map((r) => results[stage].find((x) => x === r)?.runs?.map((u) => u.load1)).flat(),
      forecast_s_at_30490: Math.round(fc.intercept + fc.slope * FULL_SERIES),
      note: 'linear in series count; ingest and publish grow with rows, see the ingest rows',
    };
  }
  const one = results.extrapolation[`${stage}@1`];
  const two = results.extrapolation[`${stage}@2`];
  if (one && two) results.extrapolation[`${stage}_speedup_2_vs_1_forecast_stage`] = +(one.forecast_seconds_per_1000_series / two.forecast_seconds_per_1000_series).toFixed(2);
}

// ---------------------------------------------------------------- report
const file = join(outDir, `perf-${results.at.replace(/[-:]/g, '').replace(/\..*/, '').replace('T', '-')}${quick ? '-quick' : ''}.json`);
mkdirSync(outDir, { recursive: true });
writeFileSync(file, JSON.stringify(results, null, 2) + '\n');
rmSync(scratch, { recursive: true, force: true });

const fmt = (v, d = 1) => (v === null || v === undefined || Number.isNaN(v) ? '—' : typeof v === 'number' ? v.toFixed(d) : String(v));
const p = (s) => process.stdout.write(s + '\n');
p(`\nshelfcast M5-shape benchmark, ${results.at} (${results.machine.cpus} cores, ${results.machine.mem_gb} GiB, ${results.machine.node}; engine ${dist.includes('/snap-') ? `snapshot ${dist.split('/snap-')[1].split('/')[0]}` : `${dist} built from ${results.code?.head}${results.code?.dirty_files_in_src ? ` + ${results.code.dirty_files_in_src} uncommitted files in src/workers` : ''}`}); best of ${repeat}`);
p('| stage | what | series | rows | threads | wall s (runs) | series/s | M rows/s | peak RSS MB | stage seconds |');
p('|---|---|---|---|---|---|---|---|---|---|');
for (const r of rows) {
  const st = r.error ? `ERROR ${r.error}` : Object.entries(r.stage_seconds ?? {}).map(([k, v]) => `${k} ${fmt(v)}`).join(', ') + (r.read_s !== undefined ? `read ${fmt(r.read_s)}` : '');
  p(`| ${r.stage} | ${r.label} | ${r.series} | ${r.rows} | ${r.threads} | ${fmt(r.wall_s)} (${r.all_wall_s.map((x) => fmt(x)).join(', ')}) | ${fmt(r.series_per_s)} | ${fmt(r.rows_per_s / 1e6, 2)} | ${r.peak_rss_mb ?? '—'} | ${st} |`);
}
for (const [k, v] of Object.entries(results.extrapolation)) {
  if (typeof v === 'number') p(`${k}: ${v}×`);
  else p(`${k}: ${v.forecast_seconds_per_1000_series} s forecast stage per 1,000 series → 30,490 series ≈ ${v.forecast_s_at_30490} s forecast stage, ${v.wall_s_at_30490} s wall; ${v.cpu_seconds_per_1000_series} CPU s per 1,000 series → ${v.cpu_s_at_30490} CPU s, ≥ ${v.ideal_wall_s_at_30490} s wall on ${k.split('@')[1]} free core(s) (linear fits over ${v.from.map((x) => x.series).join(', ')} series)`);
}
p(`→ ${file}`);
