import { z } from 'zod';
import { MODEL_NAMES } from '../models/library.js';
import { quantileColumn } from '../publish/format.js';
import { IsoDate } from '../iso-date.js';
import { HierarchySchema, IntervalsSchema, LeadtimeSchema, OutputSchema, WebhookSchema } from './erp.js';

/**
 * The one configuration file, validated at the edge. Every key has a default, so `shelfcast
 * run` works with no file at all; the parsed `Config` type is what the rest of the engine sees.
 */

function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

export const ColumnsSchema = z
  .object({
    store_id: z.string().min(1).default('store_id'),
    sku: z.string().min(1).default('sku'),
    date: z.string().min(1).default('date'),
    units: z.string().min(1).default('units'),
    price: z.string().min(1).optional(),
    promo: z.string().min(1).optional(),
    stockout: z.string().min(1).optional(),
    /** 0 on periods the store was closed: neither zero demand nor a gap (models skip them, forecasts are 0). */
    open: z.string().min(1).optional(),
  })
  .strict();

/** Text encodings `input.csv.encoding` accepts (ingest/encoding.ts reads them). */
export const CSV_ENCODINGS = ['utf-8', 'utf-16', 'utf-16le', 'utf-16be', 'latin-1', 'windows-1252'] as const;

export const CsvSchema = z
  .object({
    /** Field separator. Omitted: detected from the file (DuckDB's sniffer). */
    delimiter: z.enum([',', ';', '\t', '|']).optional(),
    /** Decimal mark of numbers in the file. Omitted: '.', and a file whose numbers look like '.' thousands groups ("1.500") stops with a question. */
    decimal: z.enum(['.', ',']).optional(),
    /** Thousands separator of numbers in the file (none by default). */
    thousands: z.enum(['', ',', '.', ' ', "'"]).optional(),
    /** How the date column is written, in DuckDB's strptime syntax (`%d.%m.%Y`, `%m/%d/%Y`). Omitted: ISO dates (YYYY-MM-DD) and timestamps. */
    dateFormat: z.string().regex(/%[a-zA-Z]/, 'expected a strptime format such as %d.%m.%Y').optional(),
    /** Text encoding of the file. Omitted: UTF-8, or UTF-16 when the file starts with its byte-order mark. `latin-1` is read as Windows-1252. */
    encoding: z.enum(CSV_ENCODINGS).optional(),
  })
  .strict()
  .refine((c) => c.thousands === undefined || c.thousands === '' || c.thousands !== (c.decimal ?? '.'), { message: 'the thousands separator must differ from the decimal mark' });

export const InputSchema = z
  .object({
    /** CSV, Parquet or DuckDB database file. Omitted: the bundled demo data. */
    path: z.string().min(1).optional(),
    format: z.enum(['csv', 'parquet', 'duckdb']).optional(),
    /** Table (or view) name inside a DuckDB database file. */
    table: z.string().min(1).default('sales'),
    columns: ColumnsSchema.default(ColumnsSchema.parse({})),
    /**
     * IANA zone of the stores (e.g. Europe/Berlin): a timestamp-with-zone column becomes the
     * calendar date it has there. Omitted: timestamps that are all at one time of day are read
     * as local midnights, others in UTC.
     */
    timezone: z.string().min(1).refine(isTimeZone, 'expected an IANA time zone such as Europe/Berlin').optional(),
    /** How a CSV file is written: separators, dates, encoding. */
    csv: CsvSchema.default({}),
    /**
     * Known future inputs: the planned promotions (`promo`), closures (`open` 0) and prices per
     * store, SKU and date of the horizon, one CSV or Parquet file with the columns of the sales
     * input (an empty SKU means every SKU of the store).
     */
    future: z.string().min(1).optional(),
    /**
     * What each nightly file holds: `full`, the whole history again (with its new days and any
     * corrections); `delta`, only new and corrected rows, which replace stored rows of the same
     * store, SKU and date in the output folder's stored history.
     */
    feed: z.enum(['full', 'delta']).default('full'),
    /**
     * New items with no sales yet: CSV `store_id,sku,category,launch_date` (category and launch
     * date optional). Each is forecast by the global network from similar series (cold start),
     * 0 before its launch date.
     */
    newItems: z.string().min(1).optional(),
  })
  .strict();

export const QualitySchema = z
  .object({
    /** Negative units are returns exceeding sales: count them and set to 0, reject the row, or keep them. */
    negativeUnits: z.enum(['zero', 'reject', 'keep']).default('zero'),
    /** Repeated (store, sku, date) rows: reject all but the first, or sum them. */
    duplicates: z.enum(['reject', 'sum']).default('reject'),
    /** Periods with no row: zero sales, or unobserved (models interpolate). */
    gaps: z.enum(['zero', 'missing']).default('zero'),
    /** Rows dated after `asOf` (default: today). */
    futureDates: z.enum(['reject', 'keep']).default('reject'),
    asOf: IsoDate.optional(),
    /** Stop before publishing when more than this share of rows is rejected or corrected (set to 0, capped, unobserved). */
    maxRejectedShare: z.number().min(0).max(1).default(0.05),
    /**
     * A value more than `factor` times a series' usual highs (its 99th percentile, never its
     * own maximum) is a typo or a unit mix-up: `reject` it (the period is unobserved, not zero),
     * `cap` it at that bound, or `keep` it.
     */
    outliers: z.object({ action: z.enum(['reject', 'cap', 'keep']).default('reject'), factor: z.number().min(2).max(1e6).default(10) }).strict().default({ action: 'reject', factor: 10 }),
    /** Missing periods in a row that make an outage (unobserved, not zero sales) when the series' own row rate cannot explain them. Omitted: 14 days, 4 weeks. */
    outageMinPeriods: z.number().int().min(2).max(10000).optional(),
    /** A store with no rows at the data's end where it usually has some: `warn` (its series' latest periods are unobserved) or `stop` before publishing. */
    missingStores: z.enum(['warn', 'stop']).default('warn'),
    /** A feed that ends before the data of the last published run: `stop` before publishing (default), or `warn`. */
    olderFeed: z.enum(['stop', 'warn']).default('stop'),
  })
  .strict();

const modelList = z.array(z.enum(MODEL_NAMES)).min(1);

export const GlobalSchema = z
  .object({
    /** Train one network across all series at each retrain (src/models/global/): the `global` candidate, and the forecaster of series too short for the local models and of new items. */
    enabled: z.boolean().default(true),
    /**
     * Series too short for a backtest are forecast by the network whenever the run has one anyway
     * (`global` a candidate, `input.newItems`, a registered network on a nightly run). A network
     * is trained for them alone only when at least this share of the series with history is that
     * short (a launch wave, not a few stragglers: training costs about a minute whatever the
     * count); otherwise they get the local models' rule by demand class. 0: whenever any is; 1: only when all are.
     */
    coldStartShare: z.number().min(0).max(1).default(0.05),
    /** Training rows (origin × step windows) sampled across the series. */
    samples: z.number().int().min(100).max(5_000_000).default(100_000),
    /** Passes over the training rows. */
    epochs: z.number().int().min(1).max(200).default(8),
    /** Units of the two hidden layers. */
    hidden: z.tuple([z.number().int().min(2).max(512), z.number().int().min(2).max(512)]).default([64, 32]),
    learningRate: z.number().gt(0).max(1).default(0.002),
    /** Rows per optimiser step. */
    batch: z.number().int().min(8).max(65536).default(256),
    /** Seed of the sampling and the initial weights: the same data and seed train the same network. */
    seed: z.number().int().min(0).max(2 ** 31).default(1),
  })
  .strict();

export const ModelsSchema = z
  .object({
    /** Candidate models per demand class; omitted classes keep the defaults. */
    candidates: z.object({ smooth: modelList, erratic: modelList, intermittent: modelList, lumpy: modelList }).partial().strict().default({}),
    /** Rolling-origin backtest windows per series (0: no backtest, choose by demand class). */
    windows: z.number().int().min(0).max(20).default(3),
    /** Backtest error that ranks candidates. */
    metric: z.enum(['mase', 'rmsse']).default('mase'),
    /** Fit on at most this many recent periods. Omitted: three of the longest seasonal cycles (1,095 days, 156 weeks). */
    maxHistory: z.number().int().min(8).max(100000).optional(),
    /** Combine the best this many candidates, weighted by inverse squared backtest error (1: the single best). */
    combine: z.number().int().min(1).max(10).default(5),
    global: GlobalSchema.default(GlobalSchema.parse({})),
    /**
     * Series too short for a backtest (launches): `peers` forecasts each at its own level, shaped
     * as the same SKU's forecasts in the stores with history move from their level over the same
     * periods (where the SKU sells elsewhere); `model` keeps what forecast them (the network, or
     * the rule by demand class).
     */
    coldStart: z.enum(['peers', 'model']).default('peers'),
  })
  .strict();

export const CalendarsSchema = z
  .object({
    /** Use holiday, event and promotion effects. */
    enabled: z.boolean().default(true),
    /** Country of stores not listed in `stores` (ISO 3166 two-letter code). */
    country: z.string().regex(/^[A-Z]{2}$/, 'expected a two-letter country code such as US').default('US'),
    /** Region (state, province) of stores not listed in `stores`. */
    region: z.string().min(1).optional(),
    /** CSV store_id,country[,region]: each store follows its own calendar. */
    stores: z.string().min(1).optional(),
    /** CSV sku,category: lets events and promotions be scoped to a category. */
    items: z.string().min(1).optional(),
    /** CSV name,start,end[,kind,store_id,sku,category]: your events and (kind=promo) promotions, past and planned. */
    events: z.string().min(1).optional(),
    /** A folder shaped like the shipped calendars/ (holidays/CC.csv, events/CC.csv) to use instead. */
    dir: z.string().min(1).optional(),
    /** Days around a public holiday in which it is expected to move demand. Omitted: the day before and after for daily data; the holiday's own week for weekly data. */
    holidayWindow: z.object({ before: z.number().int().min(0).max(14).default(0), after: z.number().int().min(0).max(14).default(0) }).strict().optional(),
    /** Series whose effects are pooled into a prior: the same SKU in every store, every SKU of a store, a category, or all. */
    pool: z.enum(['sku', 'store', 'category', 'all']).default('sku'),
    /** Occurrences the pooled effect is worth beyond what the series' own noise gives it (see src/models/events.ts). */
    priorWeight: z.number().min(0).max(100).default(1),
    /** Weekly dates label the last day of their week (end) or the first (start). */
    weekLabel: z.enum(['end', 'start']).default('end'),
    /** Label weekly output with the NRF 4-5-4 retail fiscal calendar. */
    fiscal: z.enum(['none', 'nrf-454']).default('none'),
  })
  .strict();

export const ClosuresSchema = z
  .object({
    /** A weekday on which a store sold nothing in each of the last this many weeks is closed (daily data; 0: never learn it). */
    weeks: z.number().int().min(0).max(520).default(8),
    /** Learn the holidays on which a store sold nothing on every past occurrence (daily data, needs calendars). */
    holidays: z.boolean().default(true),
  })
  .strict();

export const LifecycleSchema = z
  .object({
    /** A nightly run re-selects a series whose model version is older than this. */
    retrainAfterDays: z.number().min(0).max(366).default(7),
    /** What a nightly run does with a reused version: keep its parameters and extend the forecast over the new data, or re-estimate them within its structure. */
    nightly: z.enum(['extend', 'refit']).default('extend'),
    /** Flag drift when realised MASE exceeds the backtest MASE by this fraction (0.5: 50 % worse). */
    driftMargin: z.number().min(0).max(100).default(0.5),
    /** Flag drift when recent actuals' mean moves this many standard errors from the history's. */
    shiftThreshold: z.number().min(0).max(100).default(4),
    /** Actuals a series needs before its realised accuracy is judged. */
    minPoints: z.number().int().min(1).max(1000).default(4),
    /** POST drift alerts here (JSON). Only http(s): a file: or other scheme would make the monitor read or reach what it should not. */
    webhook: z.url({ protocol: /^https?$/, error: 'expected an http:// or https:// URL' }).optional(),
  })
  .strict();

export const RetentionSchema = z
  .object({
    /** Run folders kept under runs/ after a publish: the newest this many runs of any kind. */
    keep: z.number().int().min(1).max(100000).default(30),
    /** Besides those, the newest this many retrains (they hold the versions later runs reuse). */
    keepRetrains: z.number().int().min(0).max(100000).default(12),
  })
  .strict();

export const ScheduleSchema = z
  .object({
    /** Nightly run (cron, 5 or 6 fields). */
    run: z.string().min(9).default('0 2 * * *'),
    /** Weekly retrain. */
    retrain: z.string().min(9).default('0 1 * * 0'),
    /** IANA time zone the cron times are in (the stores' local time). */
    timezone: z.string().min(1).default('UTC'),
  })
  .strict();

export const ApiTokenSchema = z
  .object({
    /** Who holds the token, for logs. */
    name: z.string().min(1),
    /** The bearer token itself; prefer `env` so secrets stay out of files. */
    token: z.string().min(16).optional(),
    /** Name of an environment variable holding the token. */
    env: z.string().min(1).optional(),
    /** Route prefixes this token may use, e.g. ["/runs"]; omitted: every route. */
    routes: z.array(z.string().startsWith('/')).optional(),
    /** What the token may do: `read` (every GET), `write` (also record and end planner overrides); omitted: read. */
    scopes: z.array(z.enum(['read', 'write'])).min(1).optional(),
  })
  .strict()
  .refine((t) => (t.token === undefined) !== (t.env === undefined), { message: 'give exactly one of token or env' });

export const ServerSchema = z
  .object({
    host: z.string().min(1).default('127.0.0.1'),
    port: z.number().int().min(0).max(65535).default(8080),
    tokens: z.array(ApiTokenSchema).default([]),
    /**
     * Host names (besides localhost, 127.0.0.1 and [::1]) a tokenless server answers to. Only
     * loopback names by default, so a web page cannot reach the server through DNS rebinding.
     */
    allowedHosts: z.array(z.string().regex(/^[A-Za-z0-9.-]+$|^\[[0-9A-Fa-f:.]+\]$/, 'expected a host name without port, e.g. planner.local')).default([]),
  })
  .strict();

/**
 * Each level is published as a column named by quantileColumn (4 decimals of a percent), so two
 * levels closer than that, or one that rounds to p0 or p100, would give duplicate or
 * meaningless columns.
 */
function distinctColumns(levels: number[], ctx: z.RefinementCtx): void {
  const byColumn = new Map<string, number>([[quantileColumn(0.5), 0.5]]);
  for (const level of levels) {
    const column = quantileColumn(level);
    const other = byColumn.get(column);
    if (column === 'p0' || column === 'p100') ctx.addIssue({ code: 'custom', message: `${level} would publish as column ${column}; levels must be at least 0.000001 from 0 and 1` });
    else if (other !== undefined && other !== level) ctx.addIssue({ code: 'custom', message: `${other} and ${level} would both publish as column ${column}${other === 0.5 ? ' (0.5 is always published)' : ''}; give levels that differ by at least 0.000001` });
    byColumn.set(column, level);
  }
}

/** A memory size as the config writes it: 2.5GB, 2500MB, 2GiB. */
const MEMORY_SIZE = /^(\d+(?:\.\d+)?)\s*(MB|GB|MiB|GiB)$/i;
const UNIT_BYTES: Readonly<Record<string, number>> = { mb: 1e6, gb: 1e9, mib: 2 ** 20, gib: 2 ** 30 };

/** Bytes of a memory size (MEMORY_SIZE). */
export function sizeBytes(size: string): number {
  const m = MEMORY_SIZE.exec(size);
  if (!m) throw new Error(`not a memory size: ${size}`);
  return Number(m[1]) * (UNIT_BYTES[m[2].toLowerCase()] as number);
}

export const ConfigSchema = z
  .object({
    input: InputSchema.default(InputSchema.parse({})),
    /** Output folder: runs/<run_id>/ and the `latest` link live here. */
    out: z.string().min(1).default('shelfcast-out'),
    freq: z.enum(['auto', 'day', 'week']).default('auto'),
    /** Periods ahead. Omitted: 28 for daily data, 13 for weekly. */
    horizon: z.number().int().min(1).max(3660).optional(),
    /** Periods per seasonal cycle. Omitted: 7 for daily data, 52 for weekly. */
    season: z.number().int().min(1).max(400).optional(),
    /** Quantile levels to publish; 0.5 is always included. */
    quantiles: z.array(z.number().gt(0).lt(1)).min(1).max(20).default([0.1, 0.5, 0.9]).superRefine(distinctColumns),
    /** Worker threads. Omitted: one per core. */
    threads: z.number().int().min(1).max(256).optional(),
    /**
     * DuckDB's memory; larger data spills to the system temp folder instead of growing the
     * process. 1.5GB keeps a 30,490-series M5 retrain under 3 GB in all, at no cost in time
     * (2.5GB: 4 GB, as DuckDB overshoots its limit while writing Parquet; BENCHMARKS.md).
     */
    memoryLimit: z.string().regex(MEMORY_SIZE, 'expected a size such as 2.5GB or 2500MB').default('1.5GB'),
    /** Series per batch sent to a worker. */
    batchSize: z.number().int().min(1).max(100000).default(200),
    quality: QualitySchema.default(QualitySchema.parse({})),
    models: ModelsSchema.default(ModelsSchema.parse({})),
    calendars: CalendarsSchema.default(CalendarsSchema.parse({})),
    /** When stores are closed: forecast 0, and not demand in the history. */
    closures: ClosuresSchema.default(ClosuresSchema.parse({})),
    lifecycle: LifecycleSchema.default(LifecycleSchema.parse({})),
    /** Which published run folders a successful publish keeps; never the latest, pinned runs, or runs a live version comes from. */
    retention: RetentionSchema.default(RetentionSchema.parse({})),
    schedule: ScheduleSchema.default(ScheduleSchema.parse({})),
    /** `shelfcast serve`: where to listen and who may pull. */
    server: ServerSchema.default(ServerSchema.parse({})),
    /** Extra files for ERP/IBP systems (config/erp.ts); none by default. */
    outputs: z.array(OutputSchema).max(20).default([]),
    /** CSV sku,category[,department,lead_time_days,supplier,pack_size]: the items table. Omitted: calendars.items. */
    items: z.string().min(1).optional(),
    hierarchy: HierarchySchema.default(HierarchySchema.parse({})),
    leadtime: LeadtimeSchema.default(LeadtimeSchema.parse({})),
    /** Signed notices to other systems: a run published (and the drift alerts, signed the same way). */
    webhook: WebhookSchema.default({}),
    /** What the quantiles of count series come from (backtest/distribution.ts). */
    intervals: IntervalsSchema.default(IntervalsSchema.parse({})),
  })
  .strict();

/** ConfigSchema with the checks across keys (an output's quantiles are the run's; levels need the hierarchy). */
export const CheckedConfigSchema = ConfigSchema.superRefine((c, ctx) => {
    const names = new Set<string>();
    c.outputs.forEach((o, i) => {
      const name = o.name ?? o.profile;
      if (names.has(name)) ctx.addIssue({ code: 'custom', path: ['outputs', i, 'name'], message: `two outputs are named ${name}; give each a different name` });
      names.add(name);
      for (const q of o.quantiles ?? []) if (!c.quantiles.some((l) => Math.abs(l - q) < 1e-9) && q !== 0.5) ctx.addIssue({ code: 'custom', path: ['outputs', i, 'quantiles'], message: `${q} is not one of the run's quantiles (${c.quantiles.join(', ')})` });
      if (o.levels?.some((l) => l !== 'series') && !c.hierarchy.enabled) ctx.addIssue({ code: 'custom', path: ['outputs', i, 'levels'], message: 'levels above series need hierarchy.enabled' });
    });
});

export type Config = z.infer<typeof ConfigSchema>;
export type InputConfig = z.infer<typeof InputSchema>;
export type QualityConfig = z.infer<typeof QualitySchema>;
export type ServerConfig = z.infer<typeof ServerSchema>;
export type CalendarsConfig = z.infer<typeof CalendarsSchema>;
export type GlobalConfig = z.infer<typeof GlobalSchema>;
export type LifecycleConfig = z.infer<typeof LifecycleSchema>;
export type ScheduleConfig = z.infer<typeof ScheduleSchema>;
export type RetentionConfig = z.infer<typeof RetentionSchema>;
