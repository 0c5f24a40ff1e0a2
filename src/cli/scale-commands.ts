import { writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { loadConfig } from '../config/load.js';
import { planRun, publishPlan } from '../run/sharded.js';
import { abortOnSignals, RunStopped } from '../run/stop.js';
import { terminalEvents } from './progress.js';
import { printJson, runAnswer } from './answers.js';
import { formatRunSummary } from './summaries.js';
import { isoNow } from './log.js';
import { forecastOptions, int, overridesFrom, type DataFlags } from './options.js';

interface Flags extends DataFlags { shards?: number; retrain?: boolean; full?: boolean }

/**
 * `shelfcast plan` and `shelfcast publish`: the first and last steps of one run split across
 * machines (run/sharded.ts); `shelfcast run --plan <id> --shard i/N` is the middle one.
 */
export function registerScaleOut(program: Command): void {
  forecastOptions(program.command('plan'))
    .description('prepare one run for N machines: ingest, quality gate, calendars and shard assignment once; prints the plan id (last line)')
    .requiredOption('--shards <n>', 'machines the run is split across (the output folder is on a volume every machine mounts)', int('shards'))
    .option('--retrain', 'plan the weekly retrain (every series re-selected) instead of the nightly run')
    .option('--new-state', 'start a new registry when state.duckdb was lost while runs are published')
    .option('--full', 'check the whole feed instead of only what changed since the stored history (OUT/ingest/)')
    .option('--id-file <file>', 'also write the plan id to this file (for a workflow step to pass on)')
    .action(async (o: Flags & { idFile?: string }) => {
      const cfg = loadConfig(o.config, overridesFrom(o));
      const events = terminalEvents(process.stderr, o.quiet === true);
      const p = await planRun(cfg, o.retrain ? 'retrain' : 'run', o.shards as number, events, new Date(), o.newState === true, o.full === true);
      events.close();
      if (o.idFile) writeFileSync(o.idFile, `${p.planId}\n`);
      if (o.json) return printJson({ command: 'plan', plan_id: p.planId, kind: p.kind, shards: p.shards, series_per_shard: p.series, cost_per_shard: p.cost, dir: p.dir, seconds: p.seconds });
      process.stdout.write(`plan of a ${p.kind === 'retrain' ? 'retrain' : 'nightly run'} in ${p.shards} shards: series ${p.series.join(' / ')}, estimated cost ${p.cost.join(' / ')} (${p.seconds.toFixed(1)} s)\n`);
      process.stdout.write(`next: shelfcast run --plan ${p.planId} --shard i/${p.shards} (i = 0 … ${p.shards - 1}), then shelfcast publish --plan ${p.planId}\n${p.planId}\n`);
    });

  program
    .command('publish')
    .description('publish a sharded run once every shard has finished: calibrate, write, register, switch latest')
    .requiredOption('--plan <id>', 'the plan id `shelfcast plan` printed, or `latest` for the newest plan')
    .option('-c, --config <file>', 'JSON config file')
    .option('-o, --out <dir>', 'output folder')
    .option('--quiet', 'log warnings only (stderr)')
    .option('--json', 'print the answer as JSON')
    .action(async (o: Flags & { plan: string }) => {
      const cfg = loadConfig(o.config, { out: o.out });
      const events = terminalEvents(process.stderr, o.quiet === true);
      const stop = abortOnSignals();
      try {
        const s = await publishPlan(cfg, o.plan, events, stop.signal);
        events.close();
        if (o.json) printJson(runAnswer(s, isoNow()));
        else process.stdout.write(formatRunSummary(s, isoNow()));
        if (stop.signal.aborted) throw new RunStopped(`stopped by ${String(stop.signal.reason)} after publishing run ${s.runId}`);
      } finally {
        stop.dispose();
      }
    });
}
