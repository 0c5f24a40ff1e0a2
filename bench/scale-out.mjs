#!/usr/bin/env node
// One run split into shards, the shards run one after another on this machine (issue 15):
// the plan, every shard and the publish are separate processes, each measured for wall time,
// peak RSS and CPU seconds (bench/perf/measure.mjs); then the wall time of a retailer with far
// more series is projected for P pods of this machine's size.
//
//   node bench/scale-out.mjs [--snapshot [REF]] [--input bench/data/m5.parquet] [--shards 4] [--retrain]
//        [--threads 2] [--project 20000000] [--pods 50,200,1000] [--json bench/results/scale-<time>.json]
//
// The projection: bench/perf/project.mjs. Its figures are lower bounds for a shared volume
// slower than this machine's disk.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir, loadavg } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { snapshot } from './perf/snapshot.mjs';
import { describeProjection, project } from './perf/project.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const argv = process.argv.slice(2);
const opt = (k, d) => { const i = argv.indexOf(k); return i >= 0 ? argv[i + 1] : d; };
const input = resolve(opt('--input', join(root, 'bench/data/m5.parquet')));
const shards = Number(opt('--shards', 4));
const threads = opt('--threads', '2');
const retrain = argv.includes('--retrain');
const projectTo = Number(opt('--project', 20_000_000));
const pods = String(opt('--pods', '50,200,1000')).split(',').map(Number);
if (!existsSync(input)) execFileSync(process.execPath, [join(root, 'bench/m5/generate.mjs'), '--out', input], { stdio: 'inherit' });

const out = mkdtempSync(join(tmpdir(), 'shelfcast-scale-'));
// Every step of a sharded run must run the same code: measure a snapshot build (--snapshot),
// or dist/ when nothing rebuilds it meanwhile.
const cli = join(argv.includes('--snapshot') ? snapshot(root, opt('--snapshot')) : join(root, 'dist'), 'src/cli/main.js');
const env = { ...process.env, SHELFCAST_LOG_FORMAT: 'text' };
function measured(label, args) {
  const result = join(out, `${label}.json`);
  const t0 = Date.now();
  const stdout = execFileSync(process.execPath, [join(root, 'bench/perf/measure.mjs'), result, cli, ...args], { env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 1 << 26 });
  const m = JSON.parse(readFileSync(result, 'utf8'));
  process.stderr.write(`${label}: ${m.wall_seconds} s, peak RSS ${m.peak_rss_mb} MB, load ${loadavg()[0].toFixed(1)} (${((Date.now() - t0) / 1000).toFixed(0)} s)\n`);
  return { ...m, stdout, load: +loadavg()[0].toFixed(2) };
}

const plan = measured('plan', ['plan', '--shards', String(shards), '-i', input, '--freq', 'day', '-o', out, '-t', threads, '--quiet', '--json', ...(retrain ? ['--retrain'] : [])]);
const planned = JSON.parse(plan.stdout);
const shardRuns = planned.series_per_shard.map((_, k) => ({ shard: k, series: planned.series_per_shard[k], ...measured(`shard-${k}`, ['run', '--plan', planned.plan_id, '--shard', `${k}/${shards}`, '-o', out, '-t', threads, '--quiet']) }));
const publish = measured('publish', ['publish', '--plan', planned.plan_id, '-o', out, '--quiet', '--json']);
const published = JSON.parse(publish.stdout);
const series = published.series;
const report = {
  input, series, shards, threads: Number(threads), kind: retrain ? 'retrain' : 'run',
  plan: { wall_seconds: plan.wall_seconds, peak_rss_mb: plan.peak_rss_mb, cpu_seconds: +(plan.user_seconds + plan.system_seconds).toFixed(1), load: plan.load },
  shards_measured: shardRuns.map((s) => ({ shard: s.shard, series: s.series, wall_seconds: s.wall_seconds, peak_rss_mb: s.peak_rss_mb, cpu_seconds: +(s.user_seconds + s.system_seconds).toFixed(1), load: s.load })),
  publish: { wall_seconds: publish.wall_seconds, peak_rss_mb: publish.peak_rss_mb, cpu_seconds: +(publish.user_seconds + publish.system_seconds).toFixed(1), load: publish.load },
};
report.projection = project(report, projectTo, pods);
const file = resolve(opt('--json', join(root, 'bench/results', `scale-${new Date().toISOString().replace(/[:.]/g, '').slice(0, 15)}.json`)));
mkdirSync(dirname(file), { recursive: true });
writeFileSync(file, JSON.stringify(report, null, 2) + '\n');
console.log('| step | series | wall s | peak RSS MB | CPU s |');
console.log('|---|---|---|---|---|');
console.log(`| plan | ${series} | ${report.plan.wall_seconds} | ${report.plan.peak_rss_mb} | ${report.plan.cpu_seconds} |`);
for (const s of report.shards_measured) console.log(`| shard ${s.shard}/${shards} | ${s.series} | ${s.wall_seconds} | ${s.peak_rss_mb} | ${s.cpu_seconds} |`);
console.log(`| publish | ${series} | ${report.publish.wall_seconds} | ${report.publish.peak_rss_mb} | ${report.publish.cpu_seconds} |`);
console.log(`\n${describeProjection(report.projection)}`);
console.log(`results: ${file}`);
rmSync(out, { recursive: true, force: true });
