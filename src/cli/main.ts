#!/usr/bin/env node
import { Command, InvalidArgumentError, Option } from 'commander';
import { loadConfig, type Overrides } from '../config/load.js';
import { UserError, environmentProblem, errorMessage } from '../errors.js';
import { runForecast, type RunKind, type RunSummary } from '../run/run.js';
import { validateInput } from '../run/validate.js';
import { abortOnSignals, RunStopped } from '../run/stop.js';
import { formatSummary, runBacktest } from '../run/backtest.js';
import { commandLog, setCommandLog, terminalEvents } from './progress.js';
import { backtestAnswer, printJson, runAnswer, type ValidateAnswer } from './answers.js';
import { formatRunSummary, formatValidation } from './summaries.js';
import { survivePipeReadersLeaving } from './pipes.js';
import { LOG_FORMATS, createLog, isoNow, logFormat } from './log.js';
import { codeVersion } from '../version.js';
import { registerServe } from './serve.js';
import { registerCalendars } from './calendars-command.js';
import { registerModels } from './models-command.js';
import { registerLifecycle } from './lifecycle-commands.js';
import { registerOverrides } from './overrides-command.js';

const program = new Command();

const int = (name: string) => (v: string): number => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`${name} must be a whole number ≥ 1, got "${v}"`);
  return n;
};
const levels = (v: string): number[] => {
  const xs = v.split(',').map((s) => Number(s.trim()));
  if (xs.some((x) => !(x > 0 && x < 1))) throw new InvalidArgumentError(`quantiles are levels between 0 and 1, e.g. 0.1,0.5,0.9; got "${v}"`);
  return xs;
};

interface DataFlags {
  config?: string;
  input?: string;
  format?: string;
  table?: string;
  out?: string;
  freq?: string;
  horizon?: number;
  quantiles?: number[];
  threads?: number;
  batchSize?: number;
  windows?: number;
  combine?: number;
  quiet?: boolean;
  json?: boolean;
  newState?: boolean;
}

/** Flags override the config file key by key. */
function overridesFrom(o: DataFlags): Overrides {
  return {
    'input.path': o.input,
    'input.format': o.format,
    'input.table': o.table,
    out: o.out,
    freq: o.freq,
    horizon: o.horizon,
    quantiles: o.quantiles,
    threads: o.threads,
    batchSize: o.batchSize,
    'models.windows': o.windows,
    'models.combine': o.combine,
  };
}

function forecastOptions(cmd: Command): Command {
  return dataOptions(cmd)
    .option('-o, --out <dir>', 'output folder (default: ./shelfcast-out)')
    .option('-H, --horizon <periods>', 'periods to forecast (default: 28 days or 13 weeks)', int('horizon'))
    .option('-q, --quantiles <levels>', 'quantile levels, comma separated (default: 0.1,0.5,0.9)', levels)
    .option('-w, --windows <k>', 'backtest windows per series for model selection (default: 3)', int('windows'))
    .option('--combine <k>', 'combine the best k models, weighted by backtest error (default: 5; 1 = pick the best)', int('combine'))
    .option('-t, --threads <n>', 'worker threads (default: one per core)', int('threads'))
    .option('--batch-size <n>', 'series per worker batch (default: 200)', int('batch-size'))
    .option('--quiet', 'log warnings only (stderr)')
    .option('--json', 'print the answer as JSON (numbers as numbers, dates as YYYY-MM-DD)');
}

function dataOptions(cmd: Command): Command {
  return cmd
    .option('-c, --config <file>', 'JSON config file (column mapping, quality rules, quantiles…); flags override it')
    .option('-i, --input <file>', 'sales data: .csv, .parquet or a .duckdb database (default: the bundled demo data)')
    .addOption(new Option('--format <format>', 'input format when the extension does not tell').choices(['csv', 'parquet', 'duckdb']))
    .option('--table <name>', 'table inside a .duckdb input (default: sales)')
    .addOption(new Option('--freq <freq>', 'data frequency (default: inferred from the dates)').choices(['auto', 'day', 'week']));
}

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

Input columns (rename with input.columns in the config):
  store_id, sku, date, units   required; one row per store, SKU and day or week
  stockout, promo, price       optional; stockout=1 marks demand as unobserved

Each run writes OUT/runs/<run_id>/ {forecasts.csv, forecasts.parquet, manifest.json,
quality.json, rejects.csv} and points OUT/latest at it. Exit code 0 on success, 1 with a
one-line reason on bad input or config, or an output folder that is read-only or full; 2 on
an internal error.`);

  const forecastCommand = (kind: RunKind, description: string): void => {
    forecastOptions(program.command(kind))
      .description(description)
      .option('--new-state', 'start a new registry when state.duckdb was lost while runs are published (versions restart at v1)')
      .action(async (o: DataFlags) => {
        const cfg = loadConfig(o.config, overridesFrom(o));
        const events = terminalEvents(process.stderr, o.quiet === true);
        const stop = abortOnSignals();
        let s: RunSummary;
        try {
          s = await runForecast(cfg, events, new Date(), kind, { stop: stop.signal, newState: o.newState });
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
