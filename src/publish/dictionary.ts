import { writeFileSync } from 'node:fs';
import { withPath } from '../errors.js';
import { quantileColumn } from './format.js';
import { artifactSpec, type ArtifactName } from './artifacts.js';

/**
 * SCHEMA.md, the data dictionary published with every run: for each file the run wrote, what
 * it holds and every column with its type, unit and meaning, so whoever maps it into an ERP,
 * IBP or a warehouse needs nothing else. Generated from the run's own settings (its quantile
 * levels, the output profiles' column names), never from a template that could drift.
 */

export interface Column {
  readonly name: string;
  readonly type: string;
  readonly meaning: string;
}

export interface DictionaryEntry {
  readonly file: string;
  readonly about: string;
  /** null: not a table (JSON, Markdown). */
  readonly columns: readonly Column[] | null;
  readonly notes?: readonly string[];
}

const text = (name: string, meaning: string): Column => ({ name, type: 'text', meaning });
const num = (name: string, meaning: string): Column => ({ name, type: 'number', meaning });

/** What the mean and the quantiles are, said once for every file that carries them. */
export const DISTRIBUTION_NOTES = [
  '`forecast` / `mean` is the mean of the predictive distribution: the number to sum over days, stores or SKUs. It is the model\'s point forecast (for intermittent series the Croston-type demand rate per period, which is a mean).',
  'Quantile `pX` is the level X/100 of the predictive distribution: the actual is expected at or below it X % of the time. For intermittent and lumpy series whose history is whole units sold a few at a time (median sale at most 10) the distribution is discrete (negative binomial with the forecast\'s mean and the variance the backtest errors calibrate), so their quantiles are whole units, `p50` is often 0 while the mean is not, and the band [p10, p90] holds the actual at least 80 % of the time (the atoms at its ends count). Other series get the conformal band: mean ± the quantiles of what the models missed out of sample, so `p50` equals the mean.',
  'On a period the store is known to be closed, the mean and every quantile are 0.',
  'The final forecast (`forecast_final` in forecasts.csv and hierarchy.csv; each output profile\'s final column, e.g. `CONSENSUSDEMANDQTY` in sap-ibp) is the mean with the planners\' overrides: the override\'s figure where one sets a series\' date, the mean elsewhere; a level above the series is its mean plus its series\' changes, so every level still adds up. The quantiles stay the statistical band. Lead-time demand (leadtime.csv) is the statistical one: it does not include overrides.',
];

function quantileColumns(levels: readonly number[]): Column[] {
  return levels.map((l) => num(quantileColumn(l), `quantile ${l} of the demand of that period (units)`));
}

/** The columns of the files every run writes, by file. */
export function coreEntries(levels: readonly number[], fiscal: boolean): Partial<Record<ArtifactName, Column[] | null>> {
  return {
    'forecasts.csv': [
      text('run_id', 'the run that made the row'), text('store_id', 'store, as in the input'), text('sku', 'SKU, as in the input'),
      { name: 'date', type: 'date (YYYY-MM-DD)', meaning: 'target period: the day, or the week labelled as the input labels it' },
      { name: 'step', type: 'integer', meaning: 'periods ahead of the data end (1 = the next period)' },
      num('forecast', 'mean demand of the period (units)'), ...quantileColumns(levels),
      text('model', 'model or combination that made the forecast'), { name: 'model_version', type: 'integer', meaning: 'registered version of the series\' model (empty for a fallback)' },
      ...(fiscal ? [{ name: 'fiscal_year', type: 'integer', meaning: 'NRF 4-5-4 fiscal year' }, { name: 'fiscal_period', type: 'integer', meaning: 'fiscal period (month) 1–12' }, { name: 'fiscal_week', type: 'integer', meaning: 'fiscal week 1–53' }] : []),
      num('forecast_final', 'the forecast with the planners\' overrides: the override\'s figure where one sets the row, else equal to `forecast` (units)'),
      { name: 'override', type: 'integer', meaning: 'id of the override that set `forecast_final` (empty: none; `shelfcast overrides list`)' },
    ],
    'forecasts.parquet': null,
    'series.csv': [
      text('store_id', 'store'), text('sku', 'SKU'), text('demand_class', 'smooth, erratic, intermittent or lumpy (Syntetos–Boylan)'), text('model', 'model or combination'),
      { name: 'model_version', type: 'integer', meaning: 'registered version' }, text('selection', 'why: new, retrain, stale, drift, reused, pinned'),
      num('backtest_mase', 'mean absolute scaled error of the selection in backtest'), num('backtest_rmsse', 'root mean squared scaled error'), num('backtest_bias', 'mean error / scale'),
      num('scale', 'in-sample mean absolute one-step change (the MASE denominator, units)'), text('fallback', 'why a fallback model was used, if one was'),
      { name: 'calendar_effects', type: 'integer', meaning: 'calendar effects that move the forecast' }, text('closures', 'the rule that closes the store'),
    ],
    'history.parquet': null,
    'events.csv': null,
    'forecasts-fiscal.csv': null,
    'quality.json': null,
    'rejects.csv': null,
  };
}

/** The dictionary's text. */
export function dictionaryText(runId: string, entries: readonly DictionaryEntry[]): string {
  const lines = [
    `# Data dictionary of run ${runId}`,
    '',
    'Every file of this run folder, what it holds and its columns. CSV files are UTF-8, comma-separated, with a header; text that a spreadsheet would run as a formula is written with a leading `\'`. Numbers have at most 4 decimals unless a profile rounds them. Units are those of the input\'s `units` column.',
    '',
    '## Mean and quantiles',
    '',
    ...DISTRIBUTION_NOTES.map((n) => `- ${n}`),
    '',
  ];
  for (const e of entries) {
    lines.push(`## ${e.file}`, '', e.about, '');
    if (e.columns) {
      lines.push('| column | type | meaning |', '|---|---|---|');
      for (const c of e.columns) lines.push(`| \`${c.name}\` | ${c.type} | ${c.meaning.replaceAll('|', '\\|')} |`);
      lines.push('');
    }
    for (const n of e.notes ?? []) lines.push(`- ${n}`);
    if (e.notes?.length) lines.push('');
  }
  return lines.join('\n');
}

/** An entry for a registered artifact, with its registry description. */
export function artifactEntry(name: ArtifactName, columns: readonly Column[] | null, notes?: readonly string[]): DictionaryEntry {
  return { file: name, about: artifactSpec(name).about, columns, ...(notes ? { notes } : {}) };
}

export function writeDictionary(path: string, runId: string, entries: readonly DictionaryEntry[]): void {
  try {
    writeFileSync(path, dictionaryText(runId, entries));
  } catch (e) {
    throw withPath(e, path);
  }
}
