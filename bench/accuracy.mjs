#!/usr/bin/env node
// Accuracy on the held-out periods of ../shared/data, with the protocol of its README: forecast
// from train.csv with `shelfcast run`, score against test.csv with ../shared/tools/score.mjs.
// Prints one markdown row per data set and variant.
//
// usage: node bench/accuracy.mjs [--sets a,b] [--variants none,de,…] [--config file.json]
//                                [--cut YYYY-MM-DD] [--shift-weeks] [--threads n] [--keep DIR]
//   --variants  named configurations per set (see VARIANTS); default: each set's default one
//   --config    a config file merged over every variant
//   --cut       a held-back window of another time: train on train.csv before the date, score on
//               the set's horizon of train.csv rows from it (e.g. rossmann-daily --cut 2015-04-25,
//               the six weeks of May Day, Ascension, Whit Monday and Corpus Christi)
//   --shift-weeks  move each series' values 1–12 whole weeks later (seeded per series), so that
//               calendars carry no signal: calendars on must then score as calendars off
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync, mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const shared = resolve(root, '..', 'shared');
const args = process.argv.slice(2);
const opt = (k) => { const i = args.indexOf(k); return i >= 0 ? args[i + 1] : undefined; };
const flag = (k) => args.includes(k);

const rossmann = join(shared, 'data', 'rossmann-daily');
/** Count data (whole units, many intermittent series) for the discrete distribution of issue 18: a cut of the set's own file. */
const countVariants = { default: {}, conformal: { intervals: { counts: 'conformal' } } };
/** How each set is forecast and scored (../shared/data/README.md). */
const SETS = {
  'walmart-dept-weekly': { season: 52, horizon: 13, days: 7, args: [], variants: { default: {}, off: { calendars: { enabled: false } } } },
  'walmart-stores-weekly': { season: 52, horizon: 13, days: 7, args: [], variants: { default: {}, off: { calendars: { enabled: false } } } },
  // The bundled demo data, its last 28 days held out.
  'demo-daily': { season: 7, horizon: 28, days: 1, args: ['--freq', 'day'], csv: () => join(root, 'data', 'demo', 'sales.csv'), cut: '2025-12-04', variants: countVariants },
  // 1,000 M5-shaped series (bench/m5/generate.mjs, seed 1), 730 days, the last 28 held out.
  'm5-sample-daily': { season: 7, horizon: 28, days: 1, args: ['--freq', 'day'], csv: m5Sample, cut: '2012-12-31', variants: countVariants },
  'rossmann-daily': {
    season: 7, horizon: 42, days: 1, args: ['--freq', 'day'],
    variants: {
      none: { calendars: { enabled: false } },
      de: { calendars: { country: 'DE', stores: join(rossmann, 'stores.csv') } },
      'de+promo': { calendars: { country: 'DE', stores: join(rossmann, 'stores.csv'), events: 'PROMO_PLAN' } },
      'de+promo+school': { calendars: { country: 'DE', stores: join(rossmann, 'stores.csv'), events: 'PROMO_PLAN+SCHOOL' } },
      // The same plan as known future inputs (input.future): promo and open per store and day.
      'de+future': { calendars: { country: 'DE', stores: join(rossmann, 'stores.csv') }, input: { future: 'FUTURE' } },
    },
  },
};

const sets = (opt('--sets') ?? 'walmart-dept-weekly,walmart-stores-weekly').split(',');
const threads = opt('--threads') ? ['-t', opt('--threads')] : [];
const userConfig = opt('--config') ? JSON.parse(readFileSync(opt('--config'), 'utf8')) : {};
const cutArg = opt('--cut');

/** The M5-shaped sample as one CSV (generated once per measurement into `work`). */
function m5Sample(work) {
  const parquet = join(work, 'm5.parquet');
  const csv = join(work, 'm5.csv');
  execFileSync(process.execPath, [join(root, 'bench/m5/generate.mjs'), '--series', '1000', '--days', '730', '--minimal', '--no-stats', '--out', parquet], { stdio: ['ignore', 'ignore', 'inherit'] });
  execFileSync(process.execPath, ['--input-type=module', '-e', `import { DuckDBInstance } from '@duckdb/node-api'; const c = await (await DuckDBInstance.create(':memory:')).connect(); await c.run("COPY (SELECT store_id, sku, strftime(date, '%Y-%m-%d') AS date, units FROM '${parquet}' ORDER BY store_id, sku, date) TO '${csv}' (HEADER)");`], { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] });
  return csv;
}
const shift = flag('--shift-weeks');

const csvLines = (p) => readFileSync(p, 'utf8').trimEnd().split('\n');
const addDays = (iso, d) => new Date(Date.parse(`${iso}T00:00:00Z`) + d * 86400000).toISOString().slice(0, 10);

function merge(a, b) {
  const out = { ...a };
  for (const [k, v] of Object.entries(b)) out[k] = v && typeof v === 'object' && !Array.isArray(v) && typeof out[k] === 'object' ? merge(out[k], v) : v;
  return out;
}

/** Train and test files for this measurement: the set's own, a cut window, or shifted dates. */
function files(set, spec, work) {
  const dir = join(shared, 'data', set);
  let train = spec.csv ? spec.csv(work) : join(dir, 'train.csv');
  let test = join(dir, 'test.csv');
  const cut = cutArg ?? spec.cut;
  if (cut) {
    const lines = csvLines(train);
    const end = addDays(cut, spec.horizon * spec.days);
    const dateCol = lines[0].split(',').indexOf('date');
    const rows = lines.slice(1).map((l) => [l, l.split(',')[dateCol]]);
    train = join(work, 'train.csv');
    test = join(work, 'test.csv');
    writeFileSync(train, [lines[0], ...rows.filter(([, d]) => d < cut).map(([l]) => l)].join('\n') + '\n');
    writeFileSync(test, [lines[0], ...rows.filter(([, d]) => d >= cut && d < end).map(([l]) => l)].join('\n') + '\n');
  }
  if (shift) {
    // Each series' values move k whole weeks later in time (k = 1–12, seeded by its key),
    // keeping the common end of train and test: values keep their weekdays and their yearly
    // cycle, but holidays no longer fall where the calendars say. The first k weeks of each
    // series are left empty and its last k weeks dropped.
    const offsetOf = (key) => {
      let h = 2166136261;
      for (const ch of key) h = Math.imul(h ^ ch.charCodeAt(0), 16777619) >>> 0;
      return 7 * (1 + (h % 12));
    };
    const trainLines = csvLines(train);
    const header = trainLines[0];
    const testLines = csvLines(test).slice(1);
    const lastTrain = trainLines.slice(1).reduce((m, l) => (l.split(',')[2] > m ? l.split(',')[2] : m), '');
    const lastTest = testLines.reduce((m, l) => (l.split(',')[2] > m ? l.split(',')[2] : m), '');
    const shifted = { train: [header], test: [header] };
    for (const l of [...trainLines.slice(1), ...testLines]) {
      const f = l.split(',');
      f[2] = addDays(f[2], offsetOf(`${f[0]},${f[1]}`));
      if (f[2] > lastTest) continue;
      shifted[f[2] <= lastTrain ? 'train' : 'test'].push(f.join(','));
    }
    train = join(work, 'train-shifted.csv');
    test = join(work, 'test-shifted.csv');
    writeFileSync(train, shifted.train.join('\n') + '\n');
    writeFileSync(test, shifted.test.join('\n') + '\n');
  }
  return { train, test };
}

/** The promotion plan of the scored window, as calendar events (promo_plan.csv is the test's). */
function promoPlan(set, test, work) {
  if (!cutArg) return join(shared, 'data', set, 'promo_plan.csv');
  const lines = csvLines(test);
  const h = lines[0].split(',');
  const [s, d, p] = ['store_id', 'date', 'promo'].map((c) => h.indexOf(c));
  const out = join(work, 'promo_plan.csv');
  writeFileSync(out, ['name,start,end,kind,store_id,sku,category', ...lines.slice(1).map((l) => l.split(',')).filter((f) => f[p] === '1').map((f) => `Promo,${f[d]},${f[d]},promo,${f[s]},,`)].join('\n') + '\n');
  return out;
}

/** The known-future columns of the scored window (promo, open), without its sales. */
function futureFile(test, work) {
  const lines = csvLines(test);
  const h = lines[0].split(',');
  const keep = ['store_id', 'sku', 'date', 'promo', 'open'].map((c) => h.indexOf(c));
  const out = join(work, 'future.csv');
  writeFileSync(out, lines.map((l) => { const f = l.split(','); return keep.map((i) => f[i]).join(','); }).join('\n') + '\n');
  return out;
}

console.log('| data set | variant | series | MASE | pinball | coverage80 | WAPE % | sMAPE | seasonal naive MASE / pinball | run time |');
console.log('|---|---|---|---|---|---|---|---|---|---|');
for (const set of sets) {
  const spec = SETS[set];
  const variants = (opt('--variants') ?? Object.keys(spec.variants)[0]).split(',');
  for (const variant of variants) {
    const work = mkdtempSync(join(tmpdir(), 'shelfcast-acc-'));
    const { train, test } = files(set, spec, work);
    let cfg = merge(spec.variants[variant] ?? (() => { throw new Error(`unknown variant ${variant} for ${set}`); })(), userConfig);
    if (cfg.calendars?.events?.startsWith('PROMO_PLAN')) {
      const parts = [promoPlan(set, test, work), ...(cfg.calendars.events.includes('SCHOOL') ? [join(shared, 'data', set, 'school_holidays.csv')] : [])];
      const joined = join(work, 'events.csv');
      writeFileSync(joined, [csvLines(parts[0])[0], ...parts.flatMap((p) => csvLines(p).slice(1))].join('\n') + '\n');
      cfg = merge(cfg, { calendars: { events: joined } });
    }
    if (cfg.input?.future === 'FUTURE') cfg = merge(cfg, { input: { future: futureFile(test, work) } });
    const cfgFile = join(work, 'config.json');
    writeFileSync(cfgFile, JSON.stringify(cfg));
    const out = opt('--keep') ? join(resolve(opt('--keep')), `${set}-${variant}`) : join(work, 'out');
    // A fresh folder every time: a kept one holds a registry, and the run would reuse its models.
    rmSync(out, { recursive: true, force: true });
    mkdirSync(out, { recursive: true });
    const t0 = process.hrtime.bigint();
    execFileSync(process.execPath, [join(root, 'dist/src/cli/main.js'), 'run', '-i', train, '-o', out, '-c', cfgFile, '--horizon', String(spec.horizon), '--quiet', ...spec.args, ...threads], { stdio: ['ignore', 'ignore', 'inherit'] });
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    const r = JSON.parse(execFileSync(process.execPath, [join(shared, 'tools/score.mjs'), train, test, join(out, 'latest/forecasts.csv'), '--season', String(spec.season), '--scale-lag', '1']).toString());
    const m = r.model;
    const label = [variant, cutArg ? `cut ${cutArg}` : '', shift ? 'shifted' : ''].filter(Boolean).join(', ');
    console.log(`| ${set} | ${label} | ${m.series} | ${m.MASE.toFixed(3)} | ${m.pinball.toFixed(3)} | ${m.coverage80.toFixed(1)} | ${m.WAPE.toFixed(2)} | ${m.sMAPE.toFixed(1)} | ${r.snaive.MASE.toFixed(3)} / ${r.snaive.pinball.toFixed(3)} | ${seconds.toFixed(1)} s |`);
    if (m.missing_series || m.bad_series) console.log(`  ! ${m.missing_series} series missing, ${m.bad_series} with bad rows`);
  }
}
