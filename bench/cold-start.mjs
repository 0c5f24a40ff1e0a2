#!/usr/bin/env node
// Cold start on walmart-dept-weekly (issue 16): a seeded 10 % of the series is cut to the last
// 8 weeks of train.csv (or to none, and listed in a new_items file), the set is forecast with
// `shelfcast run`, and the cut series alone are scored on test.csv (MASE scales from their full
// train.csv history, so the scores compare with the uncut ones). Rows: the engine as configured
// by default (the network, and launches shaped by their peers' forecasts), the network alone,
// the engine before issue 16 (no network, the local models' rule), peers without a network, and
// for 0 weeks, where today's engine has no forecast at all, a flat forecast of the mean the
// same department sells in the other stores (what a planner would start from).
//
// usage: node bench/cold-start.mjs [--weeks 8,0] [--share 0.1] [--seed 1] [--config file.json] [--threads n]
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const shared = resolve(root, '..', 'shared');
const args = process.argv.slice(2);
const opt = (k, d) => { const i = args.indexOf(k); return i >= 0 ? args[i + 1] : d; };
const weeksList = opt('--weeks', '8,0').split(',').map(Number);
const share = Number(opt('--share', '0.1'));
const seed = Number(opt('--seed', '1'));
const userConfig = opt('--config') ? JSON.parse(readFileSync(opt('--config'), 'utf8')) : {};
const threads = opt('--threads') ? ['-t', opt('--threads')] : [];

const dir = join(shared, 'data', 'walmart-dept-weekly');
const trainFile = join(dir, 'train.csv');
const lines = readFileSync(trainFile, 'utf8').trimEnd().split('\n');
const header = lines[0];
const rows = lines.slice(1).map((l) => { const f = l.split(','); return { line: l, key: `${f[0]},${f[1]}`, store: f[0], sku: f[1], date: f[2], units: Number(f[3]) }; });
const testLines = readFileSync(join(dir, 'test.csv'), 'utf8').trimEnd().split('\n');
const testKeys = new Set(testLines.slice(1).map((l) => l.split(',').slice(0, 2).join(',')));

// A seeded shuffle of the scored series (those in test.csv), sorted first so it is the same everywhere.
function random(s) { let a = s >>> 0; return () => { a = (a + 0x6d2b79f5) >>> 0; let t = Math.imul(a ^ (a >>> 15), a | 1); t ^= t + Math.imul(t ^ (t >>> 7), t | 61); return ((t ^ (t >>> 14)) >>> 0) / 4294967296; }; }
const keys = [...new Set(rows.map((r) => r.key))].filter((k) => testKeys.has(k)).sort();
const r = random(seed);
for (let i = keys.length - 1; i > 0; i--) { const j = Math.floor(r() * (i + 1)); [keys[i], keys[j]] = [keys[j], keys[i]]; }
const cut = new Set(keys.slice(0, Math.round(share * keys.length)));
const dates = [...new Set(rows.map((x) => x.date))].sort();

const merge = (a, b) => { const out = { ...a }; for (const [k, v] of Object.entries(b)) out[k] = v && typeof v === 'object' && !Array.isArray(v) && typeof out[k] === 'object' ? merge(out[k], v) : v; return out; };
const score = (work, forecasts) => {
  const test = join(work, 'test-cut.csv');
  writeFileSync(test, [testLines[0], ...testLines.slice(1).filter((l) => cut.has(l.split(',').slice(0, 2).join(',')))].join('\n') + '\n');
  return JSON.parse(execFileSync(process.execPath, [join(shared, 'tools/score.mjs'), trainFile, test, forecasts, '--season', '52', '--scale-lag', '1']).toString()).model;
};
const run = (work, train, cfg, name) => {
  const cfgFile = join(work, `${name}.json`);
  writeFileSync(cfgFile, JSON.stringify(merge(cfg, userConfig)));
  const out = join(work, name);
  const t0 = process.hrtime.bigint();
  execFileSync(process.execPath, [join(root, 'dist/src/cli/main.js'), 'run', '-i', train, '-o', out, '-c', cfgFile, '--horizon', '13', '--quiet', ...threads], { stdio: ['ignore', 'ignore', 'inherit'] });
  return { forecasts: join(out, 'latest/forecasts.csv'), seconds: Number(process.hrtime.bigint() - t0) / 1e9, manifest: JSON.parse(readFileSync(join(out, 'latest/manifest.json'), 'utf8')) };
};
const fmt = (m) => `${m.MASE.toFixed(3)} | ${Number.isFinite(m.pinball) ? m.pinball.toFixed(3) : '—'} | ${Number.isFinite(m.coverage80) ? m.coverage80.toFixed(1) : '—'} | ${m.WAPE.toFixed(2)}`;

console.log(`${cut.size} of ${keys.length} series cut (seed ${seed})\n`);
console.log('| history kept | forecast by | scored series | MASE | pinball | coverage80 | WAPE % | series.csv says | run time |');
console.log('|---|---|---|---|---|---|---|---|---|');
for (const weeks of weeksList) {
  const work = mkdtempSync(join(tmpdir(), 'shelfcast-cold-'));
  const keep = new Set(dates.slice(dates.length - weeks));
  const train = join(work, 'train.csv');
  writeFileSync(train, [header, ...rows.filter((x) => !cut.has(x.key) || keep.has(x.date)).map((x) => x.line)].join('\n') + '\n');
  const base = {};
  if (weeks === 0) {
    const items = join(work, 'new_items.csv');
    writeFileSync(items, ['store_id,sku,category,launch_date', ...[...cut].sort().map((k) => `${k},,`)].join('\n') + '\n');
    base.input = { newItems: items };
  }
  const says = (file) => {
    const series = readFileSync(file.replace('forecasts.csv', 'series.csv'), 'utf8').trim().split('\n').slice(1).map((l) => l.split(','));
    const counts = {};
    for (const s of series) if (cut.has(`${s[0]},${s[1]}`)) counts[s[5]] = (counts[s[5]] ?? 0) + 1;
    return Object.entries(counts).map(([k, v]) => `${k} ${v}`).join(', ');
  };
  const withNet = run(work, train, base, 'global');
  const m1 = score(work, withNet.forecasts);
  console.log(`| ${weeks} weeks | the engine (default: the network, launches from their peers) | ${m1.series} | ${fmt(m1)} | ${says(withNet.forecasts)} | ${withNet.seconds.toFixed(1)} s |`);
  if (weeks > 0) {
    const net = run(work, train, merge(base, { models: { coldStart: 'model' } }), 'network');
    const mn = score(work, net.forecasts);
    console.log(`| ${weeks} weeks | the network alone (\`models.coldStart: model\`) | ${mn.series} | ${fmt(mn)} | ${says(net.forecasts)} | ${net.seconds.toFixed(1)} s |`);
  }
  // The engine before issue 16: no network, and short series on the local models' rule.
  const off = run(work, train, merge(base, { models: { global: { enabled: false }, coldStart: 'model' } }), 'local');
  const m2 = score(work, off.forecasts);
  console.log(`| ${weeks} weeks | the engine before issue 16 (no network, no peers) | ${m2.series} | ${m2.series ? fmt(m2) : '— | — | — | —'} | ${m2.series ? says(off.forecasts) : `no forecast (${m2.missing_series} series missing)`} | ${off.seconds.toFixed(1)} s |`);
  if (weeks > 0) {
    const peers = run(work, train, merge(base, { models: { global: { enabled: false } } }), 'peers');
    const mp = score(work, peers.forecasts);
    console.log(`| ${weeks} weeks | peers without a network (\`models.global.enabled: false\`) | ${mp.series} | ${fmt(mp)} | ${says(peers.forecasts)} | ${peers.seconds.toFixed(1)} s |`);
  }
  if (weeks <= 8) {
    // The department's mean over the other stores' last `max(weeks, 8)` weeks, flat.
    const span = new Set(dates.slice(dates.length - Math.max(weeks, 8)));
    const sums = new Map();
    for (const x of rows) if (!cut.has(x.key) && span.has(x.date)) { const s = sums.get(x.sku) ?? { s: 0, n: 0 }; s.s += x.units; s.n++; sums.set(x.sku, s); }
    const testDates = [...new Set(testLines.slice(1).map((l) => l.split(',')[2]))].sort();
    const fc = join(work, 'peers.csv');
    writeFileSync(fc, ['store_id,sku,date,forecast', ...[...cut].flatMap((k) => { const s = sums.get(k.split(',')[1]); const v = s ? s.s / s.n : 0; return testDates.map((d) => `${k},${d},${v}`); })].join('\n') + '\n');
    const m3 = score(work, fc);
    console.log(`| ${weeks} weeks | the department's mean in the other stores (flat) | ${m3.series} | ${fmt(m3)} | — | — |`);
  }
}
