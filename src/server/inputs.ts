import type { Context } from 'hono';
import { z } from 'zod';
import { IsoDate } from '../iso-date.js';
import { HttpError } from './http-error.js';
import { RUN_ID } from '../publish/manifest.js';

/**
 * Every value a client sends (path segments and query parameters) is parsed by one of these
 * schemas before it reaches the file system or DuckDB; anything else is a 400 naming the
 * parameter. The OpenAPI document is generated from the same schemas, so it cannot drift.
 */

/** A published run id (`<last data date>-<10 hex>`) or `latest`. Nothing else can name a folder. */
export const RunIdParam = z
  .string()
  .regex(new RegExp(`^(?:latest|${RUN_ID.source.slice(1, -1)})$`), 'expected a run id such as 20251231-6cb9999815, or latest')
  .describe('run id, or `latest` for the run the `latest` link points at');

/** A store or SKU code: free text, but bounded and printable. It is only ever a SQL parameter. */
const key = (what: string) =>
  z
    .string()
    .min(1, `${what} is empty`)
    .max(200, `${what} is longer than 200 characters`)
    .regex(/^[^\u0000-\u001f\u007f]+$/, `${what} contains control characters`);

export const StoreParam = key('store').describe('store id, as in the input data');
export const SkuParam = key('sku').describe('SKU, as in the input data');

const FORECAST_PAGE_LIMIT = { default: 1000, max: 10_000 } as const;

export const ForecastQuery = z
  .strictObject({
    store: StoreParam.optional(),
    sku: SkuParam.optional(),
    from: IsoDate.optional().describe('first target date, inclusive'),
    to: IsoDate.optional().describe('last target date, inclusive'),
    cursor: z.string().min(1).max(2000).optional().describe('`next_cursor` of the previous page'),
    limit: z.coerce
      .number()
      .int()
      .min(1)
      .max(FORECAST_PAGE_LIMIT.max)
      .default(FORECAST_PAGE_LIMIT.default)
      .describe('rows per page'),
  })
  .refine((q) => !q.from || !q.to || q.from <= q.to, { message: 'from is after to', path: ['from'] });

export const SeriesSearchQuery = z.strictObject({
  q: z.string().max(100).optional().describe('text contained in the store id or SKU (case-insensitive); omitted: all'),
  limit: z.coerce.number().int().min(1).max(1000).default(50).describe('series to return'),
  sort: z.enum(['series', 'mase', 'volume', 'bias', 'impact', 'class']).default('series').describe('order: store and SKU, or largest backtest MASE, forecast volume, absolute backtest bias or exception impact first, or by demand class'),
  class: z.enum(['smooth', 'erratic', 'intermittent', 'lumpy']).optional().describe('only series of this demand class'),
  flag: z.enum(['any', 'drift', 'bias', 'change', 'fallback', 'cold_start', 'interval_miss']).optional().describe('only series the run lists in exceptions.csv for this reason (any: for any)'),
});

export const SeriesDetailQuery = z.strictObject({
  run: RunIdParam.default('latest'),
});

export const NoQuery = z.strictObject({});

/** One line naming each bad parameter and why. */
function describeIssues(issues: readonly z.core.$ZodIssue[], where: string): string {
  return issues
    .map((i) => {
      if (i.code === 'unrecognized_keys') return `unknown ${where} parameter ${i.keys.map((k) => `"${k}"`).join(', ')}`;
      const name = i.path.join('.') || where;
      return `${name}: ${i.message.replace(/^Invalid input: /, '')}`;
    })
    .join('; ');
}

/** Parse a value with a schema or throw a 400 that says what was wrong. */
export function parseInput<S extends z.ZodType>(schema: S, value: unknown, where: string): z.output<S> {
  const r = schema.safeParse(value);
  if (!r.success) throw new HttpError(400, describeIssues(r.error.issues, where));
  return r.data;
}

/** Query parameters as single strings; a parameter given twice is ambiguous, so it is refused. */
function singleValued(queries: Record<string, string[]>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, vs] of Object.entries(queries)) {
    if (vs.length > 1) throw new HttpError(400, `query parameter "${k}" is given ${vs.length} times; give it once`);
    out[k] = vs[0];
  }
  return out;
}

/** The query string of a request, parsed by `schema`. */
export function parseQuery<S extends z.ZodType>(c: Context, schema: S): z.output<S> {
  return parseInput(schema, singleValued(c.req.queries()), 'query');
}
