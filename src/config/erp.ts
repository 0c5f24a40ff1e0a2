import { z } from 'zod';

/**
 * The settings of what ERP/IBP systems load (issue 18): output profiles, the items table, the
 * hierarchy and its reconciliation, lead-time demand, and the signed webhooks. Each is off (or
 * empty) by default, so a run without them publishes exactly the files it always did.
 */

/** Ready-made layouts (publish/profiles.ts says what each one writes). */
export const PROFILES = ['sap-ibp', 'amazon-forecast-export', 'wide', 'long'] as const;
export type ProfileName = (typeof PROFILES)[number];

/** Levels of the hierarchy, bottom (`series`: store × SKU) first. */
export const LEVELS = ['series', 'store', 'region', 'category-store', 'sku-region', 'total'] as const;
export type LevelName = (typeof LEVELS)[number];

/** Canonical columns a profile can rename. */
export const PROFILE_COLUMNS = ['level', 'store_id', 'sku', 'region', 'category', 'date', 'step', 'mean', 'final', 'quantity_type', 'quantile', 'value'] as const;

export const OutputSchema = z
  .object({
    /** Which ready-made layout to start from; every key below overrides it. */
    profile: z.enum(PROFILES),
    /** File name (without extension) and API name of the output. Omitted: the profile's name. */
    name: z.string().regex(/^[a-z0-9][a-z0-9-]{0,39}$/, 'expected lower-case letters, digits and dashes, e.g. ibp-weekly').optional(),
    /** Canonical column → the name the target system wants (e.g. {"store_id": "LOCID"}); a quantile column is named by its level, e.g. {"p90": "UPPER"}. */
    columns: z.record(z.string().min(1), z.string().min(1).max(64)).optional(),
    /** Quantile levels to write: a subset of the run's `quantiles`. Omitted: the profile's (those the run has). */
    quantiles: z.array(z.number().gt(0).lt(1)).max(20).optional(),
    /** Write the mean (the point forecast an ERP sums). */
    mean: z.boolean().optional(),
    /** How dates are written: strftime-like (%Y %m %d %H %M %S %j %%). */
    dateFormat: z.string().min(1).max(40).optional(),
    /** Weekly data: label each week with the first day of the calendar week holding most of its days (`monday`, `sunday`), or as the input does (`input`). */
    weekStart: z.enum(['input', 'monday', 'sunday']).optional(),
    /** `integer` units, multiples of each item's `pack_size` (items table), or `none` (4 decimals). */
    round: z.enum(['none', 'integer', 'pack']).optional(),
    /** One file, or one file per store. */
    layout: z.enum(['file', 'store']).optional(),
    format: z.enum(['csv', 'csv.gz', 'parquet']).optional(),
    /** Hierarchy levels to write (needs `hierarchy.enabled` for any but `series`). */
    levels: z.array(z.enum(LEVELS)).min(1).optional(),
  })
  .strict();
export type OutputConfig = z.infer<typeof OutputSchema>;

export const HierarchySchema = z
  .object({
    /** Forecast every level (store total, region, category × store, SKU × region, total) and reconcile them so they add up. */
    enabled: z.boolean().default(false),
    /** Which levels above the series; a level the tables cannot form (no items: no category) is left out. */
    levels: z.array(z.enum(LEVELS)).default(['store', 'region', 'category-store', 'sku-region', 'total']),
    /** `mint-shrink` (Wickramasuriya et al. 2019), `wls` (diagonal), `bottom-up`, or `base` (not coherent: for comparison). */
    method: z.enum(['mint-shrink', 'wls', 'bottom-up', 'base']).default('mint-shrink'),
    /**
     * What W (mint-shrink, wls) is estimated from: `insample`, each base forecast's one-step
     * in-sample errors over the last `insamplePeriods` periods (as Wickramasuriya et al. 2019,
     * hts and hierarchicalforecast do), or `backtest`, the backtest windows' errors.
     */
    errors: z.enum(['insample', 'backtest']).default('insample'),
    /**
     * How many of the latest periods of one-step errors: two years of weeks. Enough samples for
     * the shrunk covariance (5× the 3 × 13 backtest errors), far enough from the start of a
     * 156-period fit that the recursions' initial states have worn off, and n × 104 × 8 bytes
     * of memory (30,000 series: 25 MB).
     */
    insamplePeriods: z.number().int().min(8).max(1000).default(104),
    /** Above this many aggregate series MinT falls back to WLS (a dense W would not fit). */
    maxDense: z.number().int().min(1).max(20000).default(2000),
    /** Joint samples per date for the reconciled intervals. */
    samples: z.number().int().min(50).max(20000).default(1000),
  })
  .strict();

export const LeadtimeSchema = z
  .object({
    /** Default lead time in days (an item's `lead_time_days`, or its supplier's, comes first). Omitted: no leadtime.csv. */
    days: z.number().int().min(1).max(3660).optional(),
    /** supplier → lead time in days, for items whose items-table row names a `supplier`. */
    suppliers: z.record(z.string().min(1), z.number().int().min(1).max(3660)).default({}),
    /** Service level of the reorder point and safety stock columns (omitted: none). */
    serviceLevel: z.number().gt(0.5).lt(1).optional(),
    /** Simulated demand paths per series. */
    samples: z.number().int().min(100).max(100000).default(2000),
    /** Seed of the simulation (the same seed, data and settings give the same file). */
    seed: z.number().int().min(0).max(2 ** 31 - 1).default(1),
  })
  .strict();

export const WebhookSchema = z
  .object({
    /** POST a signed `run.published` notice here when a run is published. */
    url: z.url({ protocol: /^https?$/, error: 'expected an http:// or https:// URL' }).optional(),
    /** Name of the environment variable holding the HMAC-SHA256 secret; signs this webhook and the drift webhook. */
    secretEnv: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'expected an environment variable name').optional(),
  })
  .strict();

export const IntervalsSchema = z
  .object({
    /** Intermittent and lumpy series whose history is whole units sold a few at a time (median sale ≤ 10): a `discrete` count distribution (negative binomial) or the `conformal` band. */
    counts: z.enum(['discrete', 'conformal']).default('discrete'),
  })
  .strict();
