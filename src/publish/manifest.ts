import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { ColumnsSchema, ConfigSchema, InputSchema } from '../config/schema.js';
import { withPath } from '../errors.js';
import { IsoDate } from '../iso-date.js';
import { sha256File } from '../ingest/fingerprint.js';
import { ARTIFACTS, MANIFEST, memberPath, type ArtifactName } from './artifacts.js';

/**
 * manifest.json: what a run was made of and what it wrote. `RunManifest` is its one schema: the
 * run builds the manifest as this type and writes it through `writeManifest`, which checks it;
 * the server, monitor, explain and recovery read it back through `readManifest`. A key the run
 * adds is a key added here, or the run does not compile.
 */

/** Shape of a run id: `<last data date>-<10 hex>` (see run/run-id.ts). */
export const RUN_ID = /^\d{8}-[0-9a-f]{10}$/;

const Count = z.number().int().min(0);
const Sha256 = z.string().regex(/^[0-9a-f]{64}$/);
/** A mean over series, or null where JSON has no number for it (NaN). */
const Score = z.number().nullable();

const FileEntry = z.object({
  bytes: Count, sha256: Sha256, rows: Count.optional(),
  /** What the file was made from, as a checksum (history.parquet: publish/history.ts historyPrint): a later run that would make it from the same copies it. */
  print: z.string().optional(),
});
export type FileEntry = z.infer<typeof FileEntry>;

/** The settings that change what is forecast (run/run-id.ts forecastingSettings), file paths reduced to names. */
const PublishedSettings = ConfigSchema.omit({ out: true, threads: true, batchSize: true, memoryLimit: true, server: true, schedule: true, lifecycle: true, retention: true, webhook: true });

const CalendarsSummary = z.object({
  /** Which calendar the run's stores follow, most stores first. */
  locations: z.array(z.object({ location: z.string(), default: z.boolean(), stores: Count })),
  features: Count,
  default_location: z.object({ country: z.string(), region: z.string().nullable() }),
  /** Every calendar file read, with its checksum. */
  files: z.array(z.object({ file: z.string(), sha256: Sha256, entries: Count })),
  pooled_effects: z.enum(['from the last retrain', 'estimated by this run']),
});

const FutureSummary = z.object({
  file: z.string(),
  rows: Count,
  used: Count,
  outside_horizon: Count,
  unknown_series: Count,
  bad_date: Count,
  promo_periods: Count,
  closed_periods: Count,
  price_rows: Count,
});

/** How a global network was trained (registry/networks.ts TrainingRecord). */
const NetworkTraining = z.object({
  role: z.enum(['final', 'backtest']),
  backtest_network: z.string().optional(),
  backend: z.string(),
  cutoff_date: IsoDate,
  rows: Count,
  origins: Count,
  series: Count,
  epochs: Count,
  seed: Count,
  losses: z.array(z.number()).readonly(),
});

/** The global network a run forecast with (run/global-stage.ts). */
export const GlobalSummary = z.object({
  network: z.string(),
  /** The network that forecast the backtest windows (trained before them); null: none was needed. */
  backtest_network: z.string().nullable(),
  /** Its folder under the output folder. */
  dir: z.string(),
  /** Whether this run trained it (a nightly run predicts with the registered one). */
  trained: z.boolean(),
  training: z.array(NetworkTraining).optional(),
  seconds: z.number().min(0).optional(),
  /** Every network the run's workers had: the current one, its backtest network, older ones live versions name. */
  networks: z.array(z.string()),
});
export type GlobalSummary = z.infer<typeof GlobalSummary>;

/** input.newItems as read (ingest/new-items.ts). */
const NewItemsSummary = z.object({ file: z.string(), rows: Count, used: Count, known_series: Count, bad_rows: Count });

export const RunManifest = z.object({
  run_id: z.string().regex(RUN_ID),
  /** `overrides`: the run `base` republished with planner overrides applied (`shelfcast overrides apply`). */
  kind: z.enum(['run', 'retrain', 'overrides']),
  started_at: z.iso.datetime(),
  finished_at: z.iso.datetime(),
  duration_s: z.number().min(0),
  code_version: z.string(),
  config_hash: Sha256,
  config: PublishedSettings,
  input: z.object({
    path: z.string(),
    bytes: Count,
    sha256: Sha256,
    /** The source kind (ingest/sources/), as input.format names it. */
    format: InputSchema.shape.format.unwrap(),
    columns: ColumnsSchema,
    rows_read: Count,
    rows_rejected: Count,
  }),
  data: z.object({
    frequency: z.enum(['day', 'week']),
    first_date: IsoDate,
    last_date: IsoDate,
    series: Count,
    horizon: Count,
    seasons: z.array(Count).readonly(),
    /** The dates of step 1 and of the last step, shared by every series. */
    target_dates: z.object({ first: IsoDate, last: IsoDate }),
  }),
  /** null with calendars off. */
  calendars: CalendarsSummary.nullable(),
  closures: z.object({ stores: Count, horizon_periods: Count }),
  /** null without input.future. */
  future: FutureSummary.nullable(),
  /** The global network; null when the run had none (absent in runs before it). */
  global: GlobalSummary.nullable().optional(),
  /** null without input.newItems (absent in runs before it). */
  new_items: NewItemsSummary.nullable().optional(),
  quantiles: z.array(z.number().gt(0).lt(1)),
  /** Size, checksum and rows of every other artifact the run wrote (artifacts.ts), in registry order, then the family members (outputs/…). */
  files: z.record(z.string(), FileEntry),
  /** The ERP outputs (config `outputs`) and their files; absent in runs made before them. */
  outputs: z.array(z.object({
    name: z.string(), profile: z.string(), format: z.enum(['csv', 'csv.gz', 'parquet']), layout: z.enum(['file', 'store']),
    levels: z.array(z.string()), files: z.array(z.string()),
  })).optional(),
  /** The reconciled hierarchy (hierarchy.csv); absent without hierarchy.enabled. */
  hierarchy: z.object({
    method: z.string(), levels: z.record(z.string(), Count), aggregates: Count, shrinkage: z.number().nullable(), samples: Count, rounding: z.string(),
    /** What W was estimated from (`insample`, `backtest`; null: no W), and how many error vectors. */
    errors: z.string().nullable().optional(), error_vectors: Count.optional(),
  }).optional(),
  /** Lead-time demand (leadtime.csv); absent without leadtime.days. */
  leadtime: z.object({ default_days: Count, periods: z.record(z.string(), Count), samples: Count, seed: Count, service_level: z.number().nullable(), capped: Count }).optional(),
  rows: z.object({ forecasts: Count, rejected: Count }),
  series_per_model: z.record(z.string(), Count),
  series_per_class: z.record(z.string(), Count),
  model_versions: z.object({
    /** Series per decision: pinned, reused, new, stale, drift, retrain (registry/reuse.ts). */
    decisions: z.record(z.string(), Count),
    registered: Count,
    pins: z.array(z.object({ store_id: z.string(), sku: z.string(), version: Count })),
    calibration: z.enum(['from the last retrain', 'from this run']),
  }),
  backtest: z.object({
    windows: Count,
    metric: z.enum(['mase', 'rmsse']),
    combine: Count,
    /** Mean backtest scores of the selections; null when no series had a backtest. */
    selected: z.object({ series: Count, mase: Score, rmsse: Score, wape: Score, bias: Score }).nullable(),
    calibration_errors: z.record(z.string(), Count),
  }),
  fallbacks: z.array(z.object({ store_id: z.string(), sku: z.string(), model: z.string(), reason: z.string() })),
  warnings: z.array(z.string()),
  /** The planner overrides the forecasts carry in forecast_final (publish/overrides.ts); absent in runs before them. */
  overrides: z.object({
    /** With kind `overrides`: the run whose statistical forecasts were republished. */
    base_run: z.string().regex(RUN_ID).nullable(),
    active: Count,
    /** Overrides that set at least one forecast row, and the rows they set. */
    applied: Count,
    rows: Count,
  }).optional(),
  threads: Count,
  stage_seconds: z.record(z.string(), z.number()),
});
export type RunManifest = z.infer<typeof RunManifest>;

/** What a run wrote besides the manifest: rows per file, null for a file that is no table; optional artifacts it did not write are absent. */
export type WrittenFiles = { readonly [name in Exclude<ArtifactName, typeof MANIFEST>]?: number | null };

/**
 * `manifest.files`: size and checksum of every artifact in `dir` that the run wrote, in the
 * registry's order. Throws when a file every run writes is not in `written`.
 */
export async function describeFiles(dir: string, written: WrittenFiles, members: readonly { path: string; rows: number | null }[] = [], prints: Readonly<Record<string, string>> = {}): Promise<Record<string, FileEntry>> {
  const out: Record<string, FileEntry> = {};
  for (const a of ARTIFACTS) {
    if (a.name === MANIFEST) continue;
    const rows = written[a.name];
    if (rows === undefined) {
      if ('optional' in a) continue;
      throw new Error(`the run did not write ${a.name}, which every run publishes (publish/artifacts.ts)`);
    }
    const p = join(dir, a.name);
    out[a.name] = { bytes: statSync(p).size, sha256: await sha256File(p), ...(rows === null ? {} : { rows }), ...(prints[a.name] ? { print: prints[a.name] } : {}) };
  }
  for (const m of members) {
    const p = memberPath(dir, m.path);
    out[m.path] = { bytes: statSync(p).size, sha256: await sha256File(p), ...(m.rows === null ? {} : { rows: m.rows }) };
  }
  return out;
}

/** Write `dir`/manifest.json, refusing (a bug) a manifest that readers would not read back. */
export function writeManifest(dir: string, manifest: RunManifest): void {
  const text = JSON.stringify(manifest, null, 2) + '\n';
  const check = RunManifest.safeParse(JSON.parse(text));
  if (!check.success) throw new Error(`manifest.json of run ${manifest.run_id} does not match its schema (publish/manifest.ts): ${z.prettifyError(check.error)}`);
  writeText(join(dir, MANIFEST), text);
}

/**
 * The manifest in `dir`, read by `schema` (RunManifest, or a `.pick()` of it for a reader that
 * needs only a few keys); null when it is missing, not JSON, or not of that shape (a run
 * folder of another version, or one still being written).
 */
export function readManifest<S extends z.ZodType = typeof RunManifest>(dir: string, schema?: S): z.infer<S> | null {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(join(dir, MANIFEST), 'utf8'));
  } catch {
    return null;
  }
  const parsed = (schema ?? RunManifest).safeParse(raw);
  return parsed.success ? (parsed.data as z.infer<S>) : null;
}

export function writeJson(path: string, value: unknown): void {
  writeText(path, JSON.stringify(value, null, 2) + '\n');
}

function writeText(path: string, text: string): void {
  try {
    writeFileSync(path, text);
  } catch (e) {
    throw withPath(e, path);
  }
}
