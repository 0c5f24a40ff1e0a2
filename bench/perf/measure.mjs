#!/usr/bin/env node
// Run a Node entry point in this process and, when it exits, record its wall time and peak RSS
// (process.resourceUsage().maxRSS: the whole process, worker threads included) as JSON.
// The benchmark harness runs the CLI through this so it needs no /usr/bin/time.
//   node bench/perf/measure.mjs RESULT.json ENTRY.js [args…]
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const [, , resultFile, entry, ...args] = process.argv;
const t0 = performance.now();
process.on('exit', (code) => {
  const u = process.resourceUsage();
  writeFileSync(resultFile, JSON.stringify({ code, wall_seconds: +((performance.now() - t0) / 1000).toFixed(3), peak_rss_mb: Math.round(u.maxRSS / 1024), user_seconds: +(u.userCPUTime / 1e6).toFixed(2), system_seconds: +(u.systemCPUTime / 1e6).toFixed(2) }) + '\n');
});
process.argv = [process.argv[0], resolve(entry), ...args];
await import(pathToFileURL(resolve(entry)).href);
