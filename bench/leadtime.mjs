#!/usr/bin/env node
// Lead-time demand on held-out data (issue 18, item 4): forecast from train.csv with
// `leadtime.days` set, then count how often the sum of each series' actual demand over its lead
// time (the first periods of test.csv) falls inside the predicted band of leadtime.csv.
// Series without every test period of the lead time are left out (their sum is not known).
//
// usage: node bench/leadtime.mjs [--sets walmart-dept-weekly,walmart-stores-weekly] [--days 91,28] [--config file.json]
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const shared = resolve(root, '..', 'shared');
const args = process.argv.slice(2);
const opt = (k) => { const i = args.indexOf(k); return i >= 0 ? args[i + 1] : undefined; };
const sets = (opt('--sets') ?? 'walmart-dept-weekly,walmart-stores-weekly').split(',');
const daysList = (opt('--days') ?? '91,28').split(',').map(Number);
const userConfig = opt('--config') ? JSON.parse(readFileSync(opt('--config'), 'utf8')) : {};

function readCsv(p) {
  const lines = readFileSync(p, 'utf8').trimEnd().split('\n');
  const h = lines[0].split(',');
  return lines.slice(1).map((l) => { const f = l.split(','); return Object.fromEntries(h.map((k, i) => [k, f[i]])); });
}

console.log('| data set | lead time | series scored | coverage p10–p90 (80) | coverage p5–p95 (90) | pinball of the sum (scaled) | run time |');
console.log('|---|---|---|---|---|---|---|');
for (const set of sets) {
  const dir = join(shared, 'data', set);
  const test = readCsv(join(dir, 'test.csv'));
  const dates = [...new Set(test.map((r) => r.date))].sort();
  const bySeries = new Map();
  for (const r of test) { const k = `${r.store_id}\u0000${r.sku}`; const m = bySeries.get(k) ?? new Map(); m.set(r.date, Number(r.units)); bySeries.set(k, m); }
  for (const days of daysList) {
    const work = mkdtempSync(join(tmpdir(), 'shelfcast-lt-'));
    const cfg = { ...userConfig, quantiles: [0.05, 0.1, 0.5, 0.9, 0.95], leadtime: { days, ...(userConfig.leadtime ?? {}) } };
    writeFileSync(join(work, 'config.json'), JSON.stringify(cfg));
    const t0 = Date.now();
    execFileSync(process.execPath, [join(root, 'dist/src/cli/main.js'), 'run', '-i', join(dir, 'train.csv'), '-o', join(work, 'out'), '-c', join(work, 'config.json'), '--horizon', '13', '--quiet'], { stdio: ['ignore', 'ignore', 'inherit'] });
    const seconds = (Date.now() - t0) / 1000;
    const lt = readCsv(join(work, 'out', 'latest', 'leadtime.csv'));
    let n = 0, in80 = 0, in90 = 0, pin = 0;
    for (const r of lt) {
      const actual = bySeries.get(`${r.store_id}\u0000${r.sku}`);
      const periods = Number(r.periods);
      const span = dates.slice(0, periods);
      if (!actual || span.some((d) => !actual.has(d))) continue;
      const y = span.reduce((a, d) => a + actual.get(d), 0);
      n++;
      if (y >= Number(r.p10) && y <= Number(r.p90)) in80++;
      if (y >= Number(r.p5) && y <= Number(r.p95)) in90++;
      // Pinball over p10/p50/p90 of the sum, scaled by the sum's mean (so series weigh alike).
      const scale = Math.max(1e-9, Math.abs(Number(r.mean)));
      pin += [0.1, 0.5, 0.9].reduce((a, q) => { const f = Number(r[`p${q * 100}`]); return a + Math.max(q * (y - f), (q - 1) * (y - f)); }, 0) / 3 / scale;
    }
    console.log(`| ${set} | ${days} days (${Math.ceil(days / 7)} weeks) | ${n} | ${(100 * in80 / n).toFixed(1)} | ${(100 * in90 / n).toFixed(1)} | ${(pin / n).toFixed(4)} | ${seconds.toFixed(1)} s |`);
    rmSync(work, { recursive: true, force: true });
  }
}
