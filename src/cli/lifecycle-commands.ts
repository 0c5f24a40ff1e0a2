import { resolve } from 'node:path';
import type { Command } from 'commander';
import { isoDateArg } from './args.js';
import { loadConfig } from '../config/load.js';
import { runMonitor, type Accuracy } from '../monitor/monitor.js';
import { explainForecast, formatExplanation } from '../run/explain.js';
import { runForecast } from '../run/run.js';
import { Scheduler, systemClock, type JobKind } from '../schedule/scheduler.js';
import { withState } from '../registry/state.js';
import { queryRows } from '../db/duckdb.js';
import { commandLog, terminalEvents } from './progress.js';
import { LIST_LIMIT, limited } from '../registry/report.js';
import { explainAnswer, printJson, type MonitorAnswer } from './answers.js';

interface Common { config?: string; out?: string; input?: string; quiet?: boolean }

const fmt = (a: Accuracy): string => {
  const n = (x: number | null, d = 3): string => (x === null ? '—' : x.toFixed(d));
  return `MASE ${n(a.mase)}  WAPE ${a.wape === null ? '—' : (100 * a.wape).toFixed(1) + '%'}  bias ${n(a.bias)}  pinball ${n(a.pinball)}  coverage ${a.coverage === null ? '—' : (100 * a.coverage).toFixed(1) + '%'}  (${a.series} series, ${a.points} points)`;
};

/** When a job of this kind last started; a retrain counts as a nightly run too (it also forecasts). */
async function lastStart(out: string, kind: JobKind): Promise<Date | null> {
  const kinds = kind === 'run' ? `('run', 'retrain')` : `('retrain')`;
  const rows = await withState(out, (db) => queryRows<{ t: string | null }>(db, `SELECT strftime(max(started_at), '%Y-%m-%dT%H:%M:%SZ') AS t FROM runs WHERE kind IN ${kinds}`));
  return rows[0]?.t ? new Date(rows[0].t) : null;
}

/** `shelfcast monitor`, `explain` and `schedule`: the production lifecycle. */
export function registerLifecycle(program: Command): void {
  program
    .command('monitor')
    .description('score published forecasts against actuals that have arrived; flag drifting series for retraining')
    .requiredOption('-i, --input <file>', 'new sales (same columns and config as the runs)')
    .option('-o, --out <dir>', 'output folder with the runs and state (default: ./shelfcast-out)')
    .option('-c, --config <file>', 'JSON config file (lifecycle.driftMargin, lifecycle.webhook…)')
    .option('--json', 'print monitoring.json (and where it was written) instead of the summary')
    .action(async (o: Common & { input: string; json?: boolean }) => {
      const cfg = loadConfig(o.config, { out: o.out });
      const events = terminalEvents(process.stderr);
      const r = await runMonitor(cfg, o.input, events);
      events.close();
      const files = [resolve(cfg.out, 'monitoring.json'), resolve(cfg.out, 'monitoring.csv')];
      if (o.json) return printJson({ command: 'monitor', ...r, files } satisfies MonitorAnswer);
      const lines = [
        `monitored ${r.input.first_date} to ${r.input.last_date} against ${r.runs_evaluated.length} runs`,
        `overall   ${fmt(r.overall)}`,
        ...limited(Object.entries(r.by_store).map(([s, a]) => `store ${s.padEnd(8)} ${fmt(a)}`), LIST_LIMIT, 'monitoring.json has every store'),
        `drifting: ${r.drifting.length} series${r.drifting.length ? ' (retrained by the next run)' : ''}`,
        ...(r.fva.overall ? [
          `overrides: forecast value added ${(100 * (r.fva.overall.fva ?? 0)).toFixed(1)}% of the statistical error (MAE ${r.fva.overall.mae_statistical.toFixed(2)} → ${r.fva.overall.mae_final.toFixed(2)}, ${r.fva.overall.overrides} overrides, ${r.fva.overall.points} points)`,
          ...limited(Object.entries(r.fva.by_planner).map(([who, f]) => `  by ${who}: ${(100 * (f.fva ?? 0)).toFixed(1)}% (${f.points} points)`), LIST_LIMIT, 'monitoring.json has FVA per planner, reason, store and override'),
        ] : []),
        ...limited(r.drifting.map((d) => `  ${d.store_id} / ${d.sku} v${d.model_version ?? '—'}: ${d.reason}`), LIST_LIMIT, 'monitoring.csv lists every series, with drift and reason'),
        `written: ${resolve(cfg.out, 'monitoring.json')}, monitoring.csv`,
      ];
      process.stdout.write(lines.join('\n') + '\n');
    });

  program
    .command('explain')
    .description('how one forecast number was made: run, model version and parameters, calendar, backtest, input rows')
    .requiredOption('-s, --store <id>')
    .requiredOption('-k, --sku <id>')
    .requiredOption('-d, --date <date>', 'target date', isoDateArg)
    .option('-r, --run <id>', 'run id (default: latest)')
    .option('-o, --out <dir>', 'output folder (default: ./shelfcast-out)')
    .option('-c, --config <file>', 'JSON config file')
    .option('--json', 'print JSON (numbers as numbers, dates as YYYY-MM-DD)')
    .action(async (o: Common & { store: string; sku: string; date: string; run?: string; json?: boolean }) => {
      const cfg = loadConfig(o.config, { out: o.out });
      const e = await explainForecast(cfg, o.store, o.sku, o.date, o.run);
      if (o.json) printJson(explainAnswer(e));
      else process.stdout.write(formatExplanation(e) + '\n');
    });

  program
    .command('schedule')
    .description('stay running: nightly run and weekly retrain on the cron times in config.schedule; stops cleanly on SIGTERM')
    .option('-c, --config <file>', 'JSON config file (schedule.run, schedule.retrain, schedule.timezone, input.path)')
    .option('-o, --out <dir>', 'output folder (default: ./shelfcast-out)')
    .option('-i, --input <file>', 'the sales feed each job reads (default: input.path)')
    .action(async (o: Common) => {
      const cfg = loadConfig(o.config, { out: o.out, 'input.path': o.input });
      const out = resolve(cfg.out);
      const log = (m: string): void => commandLog().info(m);
      const scheduler = new Scheduler(cfg.schedule, {
        clock: systemClock,
        log,
        lastStart: (kind) => lastStart(out, kind),
        execute: async (kind, at) => {
          const s = await runForecast(cfg, terminalEvents(process.stderr, true), at, kind);
          log(`${kind} ${s.runId}: ${s.series} series in ${s.seconds.toFixed(1)} s`);
        },
      });
      const stop = new AbortController();
      const onSignal = (sig: string): void => {
        log(`${sig}: stopping after the job in progress, if any`);
        stop.abort();
      };
      process.once('SIGTERM', () => onSignal('SIGTERM'));
      process.once('SIGINT', () => onSignal('SIGINT'));
      log(`scheduling run "${cfg.schedule.run}" and retrain "${cfg.schedule.retrain}" (${cfg.schedule.timezone}) on ${out}`);
      await scheduler.start(stop.signal);
    });
}
