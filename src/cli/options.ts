import { InvalidArgumentError, Option, type Command } from 'commander';
import type { Overrides } from '../config/load.js';
import { SOURCE_KINDS } from '../ingest/sources/index.js';

/** The flags of the commands that read sales data and forecast them, shared by run, retrain, backtest and plan. */
export interface DataFlags {
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

export const int = (name: string) => (v: string): number => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`${name} must be a whole number ≥ 1, got "${v}"`);
  return n;
};

const levels = (v: string): number[] => {
  const xs = v.split(',').map((s) => Number(s.trim()));
  if (xs.some((x) => !(x > 0 && x < 1))) throw new InvalidArgumentError(`quantiles are levels between 0 and 1, e.g. 0.1,0.5,0.9; got "${v}"`);
  return xs;
};

/** Flags override the config file key by key. */
export function overridesFrom(o: DataFlags): Overrides {
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

/** The flags of a command that forecasts: data, output, horizon, quantiles, backtest, threads. */
export function forecastOptions(cmd: Command): Command {
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

/** The flags of a command that reads sales data. */
export function dataOptions(cmd: Command): Command {
  return cmd
    .option('-c, --config <file>', 'JSON config file (column mapping, quality rules, quantiles…); flags override it')
    .option('-i, --input <file>', 'sales data: .csv, .parquet or a .duckdb database (default: the bundled demo data)')
    .addOption(new Option('--format <format>', 'input format when the extension does not tell').choices(Object.keys(SOURCE_KINDS)))
    .option('--table <name>', 'table inside a .duckdb input (default: sales)')
    .addOption(new Option('--freq <freq>', 'data frequency (default: inferred from the dates)').choices(['auto', 'day', 'week']));
}
