#!/usr/bin/env node
// Summarise a V8 .cpuprofile (from `node --cpu-prof`): the functions with the most self time,
// and the most inclusive ("total") time, with file:line, as a table and optionally JSON.
//   node bench/perf/cpuprofile-top.mjs bench/results/prof/CPU.*.cpuprofile [--top 25] [--json out.json]
// Several files are merged (e.g. one per worker thread).
import { readFileSync, writeFileSync } from 'node:fs';
import { basename } from 'node:path';

const argv = process.argv.slice(2);
const opt = (k, d) => { const i = argv.indexOf(k); return i >= 0 ? argv[i + 1] : d; };
const top = Number(opt('--top', 25));
const files = argv.filter((a, i) => !a.startsWith('--') && !['--top', '--json', '--match'].includes(argv[i - 1]));
const match = opt('--match'); // only count samples whose stack contains a frame matching this

const self = new Map();
const total = new Map();
let allMs = 0;
const keyOf = (cf) => `${cf.functionName || '(anonymous)'} ${cf.url ? `${basename(cf.url)}:${cf.lineNumber + 1}` : ''}`.trim();

for (const file of files) {
  const prof = JSON.parse(readFileSync(file, 'utf8'));
  const nodes = new Map(prof.nodes.map((n) => [n.id, n]));
  const parent = new Map();
  for (const n of prof.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  // Time per sample from timeDeltas (µs); the sample's node gets it.
  const msById = new Map();
  const { samples, timeDeltas } = prof;
  for (let i = 0; i < samples.length; i++) {
    const dt = (timeDeltas[i + 1] ?? timeDeltas[i] ?? 0) / 1000;
    msById.set(samples[i], (msById.get(samples[i]) ?? 0) + dt);
  }
  for (const [id, ms] of msById) {
    const n = nodes.get(id);
    const stack = [];
    for (let cur = id; cur !== undefined; cur = parent.get(cur)) stack.push(keyOf(nodes.get(cur).callFrame));
    if (match && !stack.some((k) => k.includes(match))) continue;
    const name = keyOf(n.callFrame);
    if (name.startsWith('(idle)')) continue;
    allMs += ms;
    self.set(name, (self.get(name) ?? 0) + ms);
    for (const k of new Set(stack)) total.set(k, (total.get(k) ?? 0) + ms);
  }
}

const rows = (m) => [...m.entries()].sort((a, b) => b[1] - a[1]).slice(0, top).map(([k, ms]) => ({ fn: k, ms: +ms.toFixed(0), share: +(ms / allMs).toFixed(4) }));
const result = { files: files.map((f) => basename(f)), sampled_ms: +allMs.toFixed(0), match: match ?? null, self: rows(self), total: rows(total) };
if (opt('--json')) writeFileSync(opt('--json'), JSON.stringify(result, null, 2) + '\n');
const p = (s) => process.stdout.write(s + '\n');
p(`${files.length} profile(s), ${(allMs / 1000).toFixed(1)} s sampled${match ? ` (stacks through ${match})` : ''}`);
p(`\nself time (top ${top})`);
for (const r of result.self) p(`  ${(100 * r.share).toFixed(1).padStart(5)} %  ${String(r.ms).padStart(7)} ms  ${r.fn}`);
p(`\ninclusive time (top ${top})`);
for (const r of result.total) p(`  ${(100 * r.share).toFixed(1).padStart(5)} %  ${String(r.ms).padStart(7)} ms  ${r.fn}`);
