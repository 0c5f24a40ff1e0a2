#!/usr/bin/env node
// Do calendar effects pay? `shelfcast backtest` on each shared data set with calendars on and
// off; scores of what `run` ships ("selected"), split into holiday/event periods and the rest
// (the same periods in both runs). usage: node bench/calendars.mjs [--sets a,b]
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const shared = resolve(root, '..', 'shared');
const args = process.argv.slice(2);
const i = args.indexOf('--sets');
const sets = (i >= 0 ? args[i + 1] : 'walmart-dept-weekly,walmart-stores-weekly').split(',');
const tmp = mkdtempSync(join(tmpdir(), 'shelfcast-cal-'));

function backtest(set, enabled) {
  const out = join(tmp, `${set}-${enabled}`);
  const cfg = join(tmp, `cfg-${enabled}.json`);
  writeFileSync(cfg, JSON.stringify({ calendars: { enabled } }));
  execFileSync(process.execPath, [join(root, 'dist/src/cli/main.js'), 'backtest', '-c', cfg, '-i', join(shared, 'data', set, 'train.csv'), '-o', out, '--quiet'], { stdio: ['ignore', 'ignore', 'inherit'] });
  const dir = join(out, 'backtests', readdirSync(join(out, 'backtests'))[0]);
  return JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8')).models.selected.metrics;
}

const f = (x) => (x === undefined ? '—' : x.toFixed(3));
console.log('| data set | calendars | MASE event periods | pinball event periods | MASE other periods | pinball other periods | MASE all | coverage80 |');
console.log('|---|---|---|---|---|---|---|---|');
for (const set of sets) {
  for (const enabled of [false, true]) {
    const m = backtest(set, enabled);
    console.log(`| ${set} | ${enabled ? 'on' : 'off'} | ${f(m.mase_event)} | ${f(m.pinball_event)} | ${f(m.mase_other)} | ${f(m.pinball_other)} | ${f(m.mase)} | ${(100 * m.coverage_80).toFixed(1)} |`);
  }
}
