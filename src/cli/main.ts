#!/usr/bin/env node
import { Command, Option } from 'commander';
import { loadConfig } from '../config/load.js';
import { UserError, environmentProblem, errorMessage } from '../errors.js';
import { runForecast, type RunKind, type RunSummary } from '../run/run.js';
import { validateInput } from '../run/validate.js';
import { abortOnSignals, RunStopped } from '../run/stop.js';
import { formatSummary, runBacktest } from '../run/backtest.js';
import { commandLog, setCommandLog, terminalEvents } from './progress.js';
import { backtestAnswer, printJson, runAnswer, type ValidateAnswer } from './answers.js';
import { formatRunSummary, formatValidation } from './summaries.js';
import { survivePipeReadersLeaving } from './pipes.js';
import { dataOptions, forecastOptions, overridesFrom, type DataFlags } from './options.js';
import { LOG_FORMATS, createLog, isoNow, logFormat } from './log.js';
import { codeVersion } from '../version.js';
import { registerServe } from './serve.js';
import { registerCalendars } from './calendars-command.js';
import { registerModels } from './models-command.js';
import { registerLifecycle } from './lifecycle-commands.js';
import { registerScaleOut } from './scale-commands.js';
import { parseShard, runShard } from '../run/sharded.js';
import { registerOverrides } from './overrides-command.js';

const program = new Command();

async function main(argv: string[]): Promise<void> {
  survivePipeReadersLeaving();
  program
    .name('shelfcast')
    .description('Retail demand forecasting: reads store × SKU sales, forecasts every series with intervals, publishes files an ERP can load.')
    .version(codeVersion())
    .showHelpAfterError('(run with --help for usage)')
    .addOption(new Option('--log-format <format>', 'stderr as JSON lines (pino) or text, both with ISO timestamps (default: text on a terminal, else json; or SHELFCAST_LOG_FORMAT)').choices(LOG_FORMATS))
    .hook('preAction', (_root, action) => {
      const names: string[] = [];
      for (let c: Command | null = action; c && c !== program; c = c.parent) names.unshift(c.name());
      setCommandLog(createLog(logFormat(program.opts<{ logFormat?: string }>().logFormat), names.join(' ')));
    })
    .addHelpText('after', `
Examples:
  shelfcast run                                   forecast the bundled demo data into ./shelfcast-out
  shelfcast retrain -i sales.parquet -o /srv/fc     re-select every model (weekly); run reuses them (nightly)
  shelfcast run -i sales.csv -o ./forecasts --horizon 28 --freq day
  shelfcast run -c shelfcast.json --threads 4     settings from a file, one flag overridden
  shelfcast validate -i sales.parquet             check the data without forecasting
  shelfcast backtest -i sales.csv --windows 4     how every model would have done, per series
  shelfcast plan --shards 4 -c cfg.json           one run across 4 machines: plan, then on each
    shelfcast run --plan <id> --shard i/4         (a Kubernetes Indexed Job sets i itself),
    shelfcast publish --plan <id>                 and publish once all four are done

Input columns (rename with input.columns in the config):
  store_id, sku, date, units   required; one row per store, SKU and day or week
  stockout, promo, price       optional; stockout=1 marks demand as unobserved

Each run writes OUT/runs/<run_id>/ {forecasts.csv, forecasts.parquet, manifest.json,
quality.json, rejects.csv} and points OUT/latest at it. Exit code 0 on success, 1 with a
one-line reason on bad input or config, or an output folder that is read-only or full; 2 on
an internal error.`);

  const forecastCommand = (kind: RunKind, description: string): void => {
    const command = forecastOptions(program.command(kind));
    // A retrain always checks the whole feed.
    if (kind === 'run') command.option('--full', 'check the whole feed instead of only what changed since the stored history (OUT/ingest/)');
    command
      .description(description)
      .option('--new-state', 'start a new registry when state.duckdb was lost while runs are published (versions restart at v1)')
      .option('--plan <id>', 'forecast one shard of a plan made by `shelfcast plan` (with --shard), or `latest`: the newest plan')
      .option('--shard <i/N>', 'which shard, from 0 (default: JOB_COMPLETION_INDEX/JOB_COMPLETION_COUNT, as a Kubernetes Indexed Job sets them)')
      .action(async (o: DataFlags & { plan?: string; shard?: string; full?: boolean }) => {
        const cfg = loadConfig(o.config, overridesFrom(o));
        const events = terminalEvents(process.stderr, o.quiet === true);
        const stop = abortOnSignals();
        if (o.plan) {
          try {
            const shard = parseShard(o.shard);
            const r = await runShard(cfg, o.plan, shard, events, stop.signal);
            events.close();
            if (o.json) printJson({ command: 'shard', plan_id: o.plan, shard: shard.shard, shards: shard.shards, series: r.series, seconds: r.seconds });
            else process.stdout.write(`shard ${shard.shard}/${shard.shards} of plan ${o.plan}: ${r.series} series in ${r.seconds.toFixed(1)} s\n`);
          } finally {
            stop.dispose();
          }
          return;
        }
        let s: RunSummary;
        try {
          s = await runForecast(cfg, events, new Date(), kind, { stop: stop.signal, newState: o.newState, fullIngest: o.full === true });
        } finally {
          events.close();
          stop.dispose();
        }
        const finished = isoNow();
        if (o.json) printJson(runAnswer(s, finished));
        else process.stdout.write(formatRunSummary(s, finished));
        // The signal came once the run was registered, too late to take it back.
        if (stop.signal.aborted) throw new RunStopped(`stopped by ${String(stop.signal.reason)} after publishing run ${s.runId}`);
      });
  };
  forecastCommand('run', 'nightly: forecast every series with its registered model version (re-selecting new, stale, drifting ones) and publish the files');
  forecastCommand('retrain', 'weekly: re-select every series\' models by backtest, register new versions, and publish the files');

  forecastOptions(program.command('backtest'))
    .description('score every candidate model and the shipped selection on rolling windows at the end of each series')
    .action(async (o: DataFlags) => {
      const cfg = loadConfig(o.config, overridesFrom(o));
      const events = terminalEvents(process.stderr, o.quiet === true);
      const r = await runBacktest(cfg, events);
      events.close();
      if (o.json) return printJson(backtestAnswer(r));
      process.stdout.write(
        `backtest: ${r.series} series, ${r.windows} windows of ${r.horizon} periods, ${r.seconds.toFixed(1)} s\n` +
        `${formatSummary(r.summary)}\n  (errors scaled by the in-sample one-step naive error; "selected" is what run ships, chosen on these same windows)\n  files: ${r.dir}\n`,
      );
    });

  dataOptions(program.command('validate'))
    .description('check config and data against the quality rules; forecast and publish nothing')
    .option('--rejects <file>', 'write the rejected rows to this CSV')
    .option('--json', 'print whether a run would publish, and the quality report, as JSON')
    .action(async (o: DataFlags & { rejects?: string }) => {
      const cfg = loadConfig(o.config, overridesFrom(o));
      const r = await validateInput(cfg, o.rejects);
      if (o.json) printJson({ command: 'validate', ok: r.ok, problem: r.ok ? null : r.reason, quality: r.report } satisfies ValidateAnswer);
      else process.stdout.write(formatValidation(r.report, r.ok ? null : r.reason));
      if (!r.ok) throw new UserError(r.reason);
    });

  registerServe(program);
  registerCalendars(program);
  registerModels(program);
  registerLifecycle(program);
  registerScaleOut(program);
  registerOverrides(program);

  await program.parseAsync(argv);
}

main(process.argv).then(
  () => process.exit(process.exitCode ?? 0),
  (e: unknown) => {
    const reason = e instanceof UserError ? e.message : environmentProblem(e);
    let json = false;
    try {
      json = commandLog().format === 'json';
    } catch {
      // A bad SHELFCAST_LOG_FORMAT is itself the error being reported: as text.
    }
    if (reason !== null) {
      if (json) commandLog().error(reason, { exit_code: 1 });
      else process.stderr.write(`shelfcast: ${reason}\n`);
      process.exit(1);
    }
    const stack = e instanceof Error ? e.stack ?? '' : '';
    if (json) commandLog().error(`internal error: ${errorMessage(e)}`, { exit_code: 2, stack });
    else process.stderr.write(`shelfcast: internal error: ${errorMessage(e)}\n${stack}\n`);
    process.exit(2);
  },
);
