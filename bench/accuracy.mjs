#!/usr/bin/env node
// Accuracy on the held-out weeks of ../shared/data, with the protocol of its README:
// forecast 13 weeks from train.csv with `shelfcast run`, score against test.csv with
// ../shared/tools/score.mjs. Prints one markdown row per data set (and per extra config).
// usage: node bench/accuracy.mjs [--config file.json] [--sets a,b] [--threads n]
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const shared = resolve(root, '..', 'shared');
const args = process.argv.slice(2);
const opt = (k) => { const i = args.indexOf(k); return i >= 0 ? args[i + 1] : undefined; };
const sets = (opt('--sets') ?? 'walmart-dept-weekly,walmart-stores-weekly').split(',');
const extra = opt('--config') ? ['-c', opt('--config')] : [];
const threads = opt('--threads') ? ['-t', opt('--threads')] : [];

console.log('| data set | series | MASE | pinball | coverage80 | WAPE % | sMAPE | seasonal naive MASE / pinball | run time |');
console.log('|---|---|---|---|---|---|---|---|---|');
for (const set of sets) {
  const dir = join(shared, 'data', set);
  const out = mkdtempSync(join(tmpdir(), 'shelfcast-acc-'));
  const t0 = process.hrtime.bigint();
  execFileSync(process.execPath, [join(root, 'dist/src/cli/main.js'), 'run', '-i', join(dir, 'train.csv'), '-o', out, '--quiet', ...threads, ...extra], { stdio: ['ignore', 'ignore', 'inherit'] });
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const r = JSON.parse(execFileSync(process.execPath, [join(shared, 'tools/score.mjs'), join(dir, 'train.csv'), join(dir, 'test.csv'), join(out, 'latest/forecasts.csv'), '--season', '52', '--scale-lag', '1']).toString());
  const m = r.model;
  console.log(`| ${set} | ${m.series} | ${m.MASE.toFixed(3)} | ${m.pinball.toFixed(3)} | ${m.coverage80.toFixed(1)} | ${m.WAPE.toFixed(2)} | ${m.sMAPE.toFixed(1)} | ${r.snaive.MASE.toFixed(3)} / ${r.snaive.pinball.toFixed(3)} | ${seconds.toFixed(1)} s |`);
  if (m.missing_series || m.bad_series) console.log(`  ! ${m.missing_series} series missing, ${m.bad_series} with bad rows`);
}
