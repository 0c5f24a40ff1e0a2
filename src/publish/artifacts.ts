import { join } from 'node:path';

/**
 * The run-artifact registry: every file a published run holds in `runs/<run_id>/`, once. The
 * run lists its files in the manifest from it (manifest.ts), the server serves and describes
 * exactly these (server/routes-runs.ts, server/openapi.ts), the planner page offers the ones
 * with a download label, and readers of a published CSV take its text columns from here. A new
 * output is its writer plus one entry below (docs/extending.md).
 */

const CSV = 'text/csv; charset=utf-8';
const PARQUET = 'application/vnd.apache.parquet';
const JSON_TYPE = 'application/json';

export interface ArtifactSpec {
  /** File name inside `runs/<run_id>/`. */
  readonly name: string;
  readonly mediaType: string;
  /** What it holds, for the API description. */
  readonly about: string;
  /** The module that makes it (its stage); run/run.ts decides when and where it is written. */
  readonly writer: string;
  /** When only some runs write it, the setting that decides; absent: every run does. */
  readonly optional?: string;
  /** Served by `shelfcast serve` at `/runs/{id}/{name}`. */
  readonly served: boolean;
  /** Offered on the planner page as a download button with this label (`primary`: the filled one). */
  readonly download?: { readonly label: string; readonly primary?: boolean };
  /** CSV text columns that csvText may have prefixed with a quote, so readers undo it (csv-sql.ts). */
  readonly textColumns?: readonly string[];
}

/** In the order the manifest lists them (manifest.json itself last: it cannot list its own checksum). */
export const ARTIFACTS = [
  {
    name: 'forecasts.csv', mediaType: CSV, writer: 'src/publish/forecast-csv.ts', served: true,
    about: 'one row per store, SKU and target date: forecast, quantiles, model and its version',
    download: { label: 'Forecasts CSV', primary: true }, textColumns: ['store_id', 'sku', 'model'],
  },
  {
    name: 'forecasts.parquet', mediaType: PARQUET, writer: 'src/publish/parquet.ts', served: true,
    about: 'the rows of forecasts.csv, typed', download: { label: 'Forecasts Parquet', primary: true },
  },
  {
    name: 'series.csv', mediaType: CSV, writer: 'src/publish/forecast-csv.ts', served: true,
    about: 'per series: demand class, model, version, why, backtest scores, fallback, calendar effects, closures',
    download: { label: 'Series CSV' }, textColumns: ['store_id', 'sku', 'model', 'fallback', 'closures'],
  },
  {
    name: 'history.parquet', mediaType: PARQUET, writer: 'src/publish/history.ts', served: true,
    about: 'the recent cleaned history each forecast was fitted on: every period with its state (observed, gap, stockout, closed, unobserved)',
  },
  {
    name: 'components.parquet', mediaType: PARQUET, writer: 'src/run/explain-stage.ts', served: true,
    about: 'every point forecast in additive parts (level/trend, seasonality, each holiday, event and promotion, floor at 0) that sum to it; kind "model" rows: what each combined model contributed, with its weight',
  },
  {
    name: 'backtest.parquet', mediaType: PARQUET, writer: 'src/run/explain-stage.ts', served: true,
    about: 'the selected forecast of each backtest window per date, beside the actual',
  },
  {
    name: 'events.csv', mediaType: CSV, writer: 'src/calendars/plan.ts', optional: 'calendars.enabled', served: true,
    about: 'holidays and events each store sees over history and horizon', textColumns: ['store_id', 'name'],
  },
  {
    name: 'forecasts-fiscal.csv', mediaType: CSV, writer: 'src/publish/parquet.ts', optional: 'calendars.fiscal: "nrf-454"', served: true,
    about: 'point forecasts summed by NRF 4-5-4 fiscal year and period', download: { label: 'Fiscal periods CSV' }, textColumns: ['store_id', 'sku'],
  },
  {
    name: 'quality.json', mediaType: JSON_TYPE, writer: 'src/ingest/quality.ts', served: true,
    about: 'every data-quality rule and how many rows it caught; data end, gaps, outages, missing stores',
  },
  {
    name: 'rejects.csv', mediaType: CSV, writer: 'src/ingest/rejects.ts', served: true,
    about: 'each rejected or corrected input row with the rule, action and reason',
    download: { label: 'Rejected rows' }, textColumns: ['reason', 'store_id', 'sku', 'date', 'units'],
  },
  {
    name: 'exceptions.csv', mediaType: CSV, writer: 'src/run/exceptions.ts', served: true,
    about: 'series that need a planner, ranked by impact (units × error): drift, bias, a large change against the previous run, fallback, cold start, missed intervals',
    download: { label: 'Exceptions' }, textColumns: ['store_id', 'sku', 'detail'],
  },
  {
    name: 'manifest.json', mediaType: JSON_TYPE, writer: 'src/publish/manifest.ts', served: true,
    about: 'what was run on what: times, code, config, input fingerprint, row counts, checksums, accuracy',
  },
] as const satisfies readonly ArtifactSpec[];

export type ArtifactName = (typeof ARTIFACTS)[number]['name'];

/** The one artifact that describes the others. */
export const MANIFEST = 'manifest.json' satisfies ArtifactName;

const BY_NAME: ReadonlyMap<string, ArtifactSpec> = new Map(ARTIFACTS.map((a) => [a.name, a]));

export function artifactSpec(name: ArtifactName): ArtifactSpec {
  return BY_NAME.get(name) as ArtifactSpec;
}

/** Whether `name` is an artifact the server may serve (anything else in a run folder is not). */
export function isServedArtifact(name: string): name is ArtifactName {
  return BY_NAME.get(name)?.served === true;
}

/** Where artifact `name` goes in a run folder (or in staging, or in failed/): only registered names compile. */
export function artifactPath(dir: string, name: ArtifactName): string {
  return join(dir, name);
}

/** The text columns of a published CSV (see ArtifactSpec.textColumns). */
export function textColumns(name: ArtifactName): readonly string[] {
  return artifactSpec(name).textColumns ?? [];
}
