#!/usr/bin/env node
// Every level of the hierarchy on held-out Walmart weeks (issue 18, item 3): forecast the
// walmart-dept-weekly train.csv with the hierarchy on (stores → total, departments across
// stores), once per reconciliation method, and score each level of hierarchy.csv against the
// test weeks summed the same way, with ../shared/tools/score.mjs (MASE and pinball scaled by
// each aggregated series' own in-sample naive error, as for the series).
//
// usage: node bench/hierarchy.mjs [--set walmart-dept-weekly] [--methods base,bottom-up,wls,mint-shrink] [--config file.json]
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const shared = resolve(root, '..', 'shared');
const args = process.argv.slice(2);
const opt = (k) => { const i = args.indexOf(k); return i >= 0 ? args[i + 1] : undefined; };
const set = opt('--set') ?? 'walmart-dept-weekly';
const methods = (opt('--methods') ?? 'base,bottom-up,wls,mint-shrink').split(',');
const userConfig = opt('--config') ? JSON.parse(readFileSync(opt('--config'), 'utf8')) : {};
const dir = join(shared, 'data', set);

function readCsv(p) {
  const lines = readFileSync(p, 'utf8').trimEnd().split('\n');
  const h = lines[0].split(',');
  return lines.slice(1).map((l) => { const f = l.split(','); return Object.fromEntries(h.map((k, i) => [k, f[i]])); });
}

/** The key of a row's node at each level, in the scorer's store_id,sku shape. */
const LEVELS = {
  series: (r) => [r.store_id, r.sku],
  store: (r) => [r.store_id, 'ALL'],
  'sku-region': (r) => ['ALL', r.sku],
  total: () => ['ALL', 'ALL'],
};

/** Input rows summed per node of a level and date. */
function aggregate(rows, level) {
  const sums = new Map();
  for (const r of rows) {
    const [s, k] = LEVELS[level](r);
    const key = `${s},${k},${r.date}`;
    sums.set(key, (sums.get(key) ?? 0) + Number(r.units));
  }
  return ['store_id,sku,date,units', ...[...sums].sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, v]) => `${k},${v}`)].join('\n') + '\n';
}

const work = mkdtempSync(join(tmpdir(), 'shelfcast-hier-'));
const train = readCsv(join(dir, 'train.csv'));
const test = readCsv(join(dir, 'test.csv'));
const files = {};
for (const level of Object.keys(LEVELS)) {
  files[level] = { train: join(work, `train-${level}.csv`), test: join(work, `test-${level}.csv`) };
  writeFileSync(files[level].train, aggregate(train, level));
  writeFileSync(files[level].test, aggregate(test, level));
}

console.log('| method | level | series | MASE | pinball | coverage80 | WAPE % |');
console.log('|---|---|---|---|---|---|---|');
for (const method of methods) {
  const cfg = { ...userConfig, hierarchy: { enabled: true, method, levels: ['store', 'sku-region', 'total'], ...(userConfig.hierarchy ?? {}) } };
  writeFileSync(join(work, 'config.json'), JSON.stringify(cfg));
  const out = join(work, `out-${method}`);
  execFileSync(process.execPath, [join(root, 'dist/src/cli/main.js'), 'run', '-i', join(dir, 'train.csv'), '-o', out, '-c', join(work, 'config.json'), '--horizon', '13', '--quiet'], { stdio: ['ignore', 'ignore', 'inherit'] });
  const rows = readCsv(join(out, 'latest', 'hierarchy.csv'));
  for (const level of Object.keys(LEVELS)) {
    const key = level === 'series' ? (r) => [r.store_id, r.sku] : level === 'store' ? (r) => [r.store_id, 'ALL'] : level === 'sku-region' ? (r) => ['ALL', r.sku] : () => ['ALL', 'ALL'];
    const mine = rows.filter((r) => r.level === level);
    const fc = join(work, `fc-${method}-${level}.csv`);
    writeFileSync(fc, ['store_id,sku,date,forecast,p10,p50,p90', ...mine.map((r) => [...key(r), r.date, r.mean, r.p10, r.p50, r.p90].join(','))].join('\n') + '\n');
    const score = JSON.parse(execFileSync(process.execPath, [join(shared, 'tools/score.mjs'), files[level].train, files[level].test, fc, '--season', '52', '--scale-lag', '1']).toString()).model;
    console.log(`| ${method} | ${level} | ${score.series} | ${score.MASE.toFixed(3)} | ${score.pinball.toFixed(3)} | ${score.coverage80.toFixed(1)} | ${score.WAPE.toFixed(2)} |`);
  }
}
rmSync(work, { recursive: true, force: true });
