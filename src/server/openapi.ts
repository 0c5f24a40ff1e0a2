import { z } from 'zod';
import { codeVersion } from '../version.js';
import { isPublicPath } from './auth.js';
import { ForecastQuery, RunIdParam, SeriesDetailQuery, SeriesSearchQuery, SkuParam, StoreParam } from './inputs.js';
import { ARTIFACTS } from '../publish/artifacts.js';
import { OverrideRequest } from '../publish/overrides.js';
import { DiffQuery, ExceptionsQuery, OverrideIdParam, OverrideLogQuery, OverridesQuery, RunQuery } from './routes-workbench.js';

/**
 * The OpenAPI 3.1 description of every route. Parameters are generated from the zod schemas
 * that validate them, so the document states exactly what the server accepts.
 */

type Json = Record<string, unknown>;

/** A Hono route pattern in OpenAPI form: `/runs/:id/:file{regex}` → `/runs/{id}/{file}`. */
export function openApiPath(routePattern: string): string {
  return routePattern.replace(/:(\w+)(\{(?:[^{}]|\{[^{}]*\})*\})?/g, '{$1}');
}

function jsonSchema(schema: z.ZodType): Json {
  const { $schema: _drop, ...rest } = z.toJSONSchema(schema, { io: 'input' }) as Json;
  return rest;
}

function param(name: string, where: 'path' | 'query', schema: z.ZodType): Json {
  const { description, ...s } = jsonSchema(schema);
  return { name, in: where, required: where === 'path' || !schema.safeParse(undefined).success, description, schema: s };
}

function queryParams(schema: z.ZodObject): Json[] {
  return Object.entries(schema.shape).map(([name, s]) => param(name, 'query', s as z.ZodType));
}

const runId = param('id', 'path', RunIdParam);
const served = ARTIFACTS.filter((a) => a.served);
const error = (description: string) => ({ description, content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } });
const failures = {
  400: error('a parameter is invalid; `error` names it and says why'),
  401: error('no token, or an unknown one'),
  403: error('the token may not use this route'),
  404: error('no such run, series or file'),
};
const json = (description: string, schema: Json = { type: 'object' }) => ({ description, content: { 'application/json': { schema } } });
const notModified = { 304: { description: 'unchanged since the ETag sent in If-None-Match' } };

function get(summary: string, parameters: Json[], responses: Json, extra: Json = {}): Json {
  return { get: { summary, parameters, responses: { ...responses, ...failures }, ...extra } };
}

/** A state-changing operation: needs a token with the write scope and a JSON body (see caller.ts). */
function write(method: 'post' | 'delete', summary: string, parameters: Json[], responses: Json, body?: z.ZodType): Json {
  const requestBody = body ? { required: true, content: { 'application/json': { schema: jsonSchema(body) } } } : undefined;
  return {
    [method]: {
      summary, parameters, ...(requestBody ? { requestBody } : {}),
      responses: { ...responses, ...failures, 403: error('the token may not use this route, or it is read-only (no "write" scope), or the request came from another site\'s page'), 409: error('not possible in this state (no run published, the override is not active)'), 415: error('the body is not sent as application/json'), 503: error('state.duckdb is held open by another program; try again') },
    },
  };
}

const storeSku = [param('store', 'path', StoreParam), param('sku', 'path', SkuParam)];
const overrideId = param('id', 'path', OverrideIdParam);
const OverrideSchema = { $ref: '#/components/schemas/Override' };

const paths: Record<string, Json> = {
  '/health': get('Liveness, with the number of runs and the latest run id', [], { 200: json('ok') }),
  '/runs': get('Published runs, newest first', [], { 200: json('runs', { $ref: '#/components/schemas/RunList' }), ...notModified }),
  '/runs/{id}': get('The manifest of a run: times, code version, config, input fingerprint, row counts, checksums, accuracy', [runId], {
    200: json('manifest.json of the run'),
    ...notModified,
  }),
  '/runs/{id}/forecasts': get(
    'Forecast rows, filtered and paged (JSON), or as CSV with Accept: text/csv (the whole file, or every row matching the filters)',
    [runId, ...queryParams(ForecastQuery)],
    {
      200: {
        description: 'a page of rows; follow `next` until it is null',
        content: { 'application/json': { schema: { $ref: '#/components/schemas/ForecastPage' } }, 'text/csv': { schema: { type: 'string' } } },
      },
      ...notModified,
      409: error('the cursor belongs to another run (for example `latest` moved on); continue with the run it names'),
    },
  ),
  '/runs/{id}/series': get('Series of a run (model, demand class, backtest MASE), searched by store and SKU', [runId, ...queryParams(SeriesSearchQuery)], {
    200: json('matching series'),
    ...notModified,
  }),
  '/runs/{id}/{file}': get(
    'A file of the run, streamed as published (checksum in the manifest)',
    [runId, { name: 'file', in: 'path', required: true, description: served.map((a) => `\`${a.name}\`: ${a.about}${'optional' in a ? ` (with ${a.optional})` : ''}`).join('; '), schema: { type: 'string', enum: served.map((a) => a.name) } }],
    { 200: { description: 'the file', content: Object.fromEntries(served.map((a) => [a.mediaType, { schema: { type: 'string', format: 'binary' } }])) }, ...notModified },
  ),
  '/series/{store}/{sku}': get(
    'One series: recent history, forecast with quantiles, the p10–p90 band columns, model, backtest scores and calendar events',
    [param('store', 'path', StoreParam), param('sku', 'path', SkuParam), ...queryParams(SeriesDetailQuery)],
    { 200: json('the series', { $ref: '#/components/schemas/SeriesDetail' }), ...notModified },
  ),
  '/series/{store}/{sku}/components': get(
    'Why this forecast: per date, the point forecast in additive parts (level/trend, seasonality, each holiday, event and promotion, floor at 0) that sum to it, each combined model\'s weighted forecast, the weights, and totals over the horizon',
    [...storeSku, ...queryParams(RunQuery)],
    { 200: json('the parts', { $ref: '#/components/schemas/Components' }), ...notModified },
  ),
  '/series/{store}/{sku}/past': get(
    'Past forecasts against what happened: the backtest windows\' forecasts per date, and earlier runs\' forecasts where actuals have arrived',
    [...storeSku, ...queryParams(RunQuery)],
    { 200: json('backtest windows and previous runs, each row with forecast and actual (null: not observed)'), ...notModified },
  ),
  '/exceptions': get(
    'What needs attention: series ranked by impact (units × error) for drift, bias over the last periods, a large change against the previous run, fallback, cold start, and missed intervals (exceptions.csv)',
    queryParams(ExceptionsQuery),
    { 200: json('rows by rank, with counts per reason'), ...notModified },
  ),
  '/monitoring': get('What the last `shelfcast monitor` found (monitoring.json): realised accuracy overall, per store, SKU and model version, drifting series, forecast value added of overrides', [], {
    200: json('monitoring.json'),
    204: { description: 'no monitoring yet: `shelfcast monitor` has not been run on this folder' },
    ...notModified,
  }),
  '/runs/{a}/diff/{b}': get(
    'Two runs compared: per series the total final forecast over the dates both cover, the change, and why (new model version, drift, new data, override, new or dropped series), largest change first',
    [param('a', 'path', RunIdParam), param('b', 'path', RunIdParam), ...queryParams(DiffQuery)],
    { 200: json('the comparison'), ...notModified },
  ),
  '/overrides': {
    ...get('Planner overrides, newest first: who (token name), when, what, why, and whether they are active, expired or removed', queryParams(OverridesQuery), {
      200: json('overrides', { type: 'object', properties: { overrides: { type: 'array', items: OverrideSchema } } }),
    }),
    ...write('post', 'Record an override: a store, SKU and date range set to a value or changed by a %, with a reason. Applied by the next published run (`shelfcast run` or `shelfcast overrides apply`) in forecast_final', [], {
      201: json('the override as recorded', { type: 'object', properties: { override: OverrideSchema, applies_from: { type: 'string' }, warning: { type: 'string' } } }),
    }, OverrideRequest),
  },
  '/overrides/log': get('The audit trail: every action on overrides (created, applied by a run, expired, removed), who and when, newest first', queryParams(OverrideLogQuery), {
    200: json('actions'),
  }),
  '/overrides/{id}/expire': write('post', 'Stop applying an override that has run its course (it stays in the audit trail)', [overrideId], { 200: json('the override', { type: 'object', properties: { override: OverrideSchema } }) }),
  '/overrides/{id}': write('delete', 'Withdraw an override (marked removed; it stays in the audit trail)', [overrideId], { 200: json('the override', { type: 'object', properties: { override: OverrideSchema } }) }),
  '/openapi.json': get('This document', [], { 200: json('OpenAPI 3.1'), ...notModified }),
  '/metrics': get('Prometheus metrics: runs, run durations, series, rejected rows, requests', [], {
    200: { description: 'text exposition format 0.0.4', content: { 'text/plain': { schema: { type: 'string' } } } },
  }),
  '/': get('The planner page', [], { 200: { description: 'HTML', content: { 'text/html': { schema: { type: 'string' } } } }, ...notModified }),
  '/assets/{name}': get('Script and style of the planner page', [{ name: 'name', in: 'path', required: true, schema: { type: 'string' } }], {
    200: { description: 'the asset' },
    ...notModified,
  }),
};

// Routes that serve no forecast data need no token.
for (const [path, item] of Object.entries(paths)) {
  if (isPublicPath(path.replace('{name}', 'x')) && item.get) (item.get as Json).security = [];
}

const schemas: Record<string, Json> = {
  Error: { type: 'object', properties: { error: { type: 'string' } }, required: ['error'] },
  Override: {
    type: 'object',
    properties: {
      id: { type: 'integer' }, store_id: { type: 'string' }, sku: { type: 'string' }, from: { type: 'string', format: 'date' }, to: { type: 'string', format: 'date' },
      mode: { type: 'string', enum: ['value', 'pct'] }, amount: { type: 'number' }, reason: { type: 'string' }, created_by: { type: 'string', description: 'the token name' },
      created_at: { type: 'string', format: 'date-time' }, expires: { type: ['string', 'null'], format: 'date' }, status: { type: 'string', enum: ['active', 'expired', 'removed'] },
      ended_at: { type: ['string', 'null'], format: 'date-time' }, ended_by: { type: ['string', 'null'] },
    },
  },
  Components: {
    type: 'object',
    properties: {
      run_id: { type: 'string' }, store_id: { type: 'string' }, sku: { type: 'string' },
      rows: {
        type: 'array',
        items: {
          type: 'object',
          properties: {
            date: { type: 'string', format: 'date' }, forecast: { type: 'number' }, forecast_final: { type: 'number' }, override: { type: ['integer', 'null'] },
            components: { type: 'object', additionalProperties: { type: 'number' }, description: 'units per part; they sum to forecast' },
            models: { type: 'object', additionalProperties: { type: 'number' }, description: 'each combined model\'s weighted forecast' },
          },
        },
      },
      kinds: { type: 'object', additionalProperties: { type: 'string', enum: ['level', 'seasonality', 'holiday', 'event', 'promo', 'floor'] } },
      weights: { type: 'object', additionalProperties: { type: 'number' } },
      totals: { type: 'array', items: { type: 'object', properties: { name: { type: 'string' }, kind: { type: 'string' }, units: { type: 'number' }, share: { type: ['number', 'null'] } } } },
    },
  },
  RunList: {
    type: 'object',
    properties: {
      runs: {
        type: 'array',
        items: {
          type: 'object',
          properties: {
            run_id: { type: 'string' },
            latest: { type: 'boolean' },
            finished_at: { type: 'string', format: 'date-time' },
            duration_s: { type: 'number' },
            series: { type: 'integer' },
            forecast_rows: { type: 'integer' },
            rejected_rows: { type: 'integer' },
            backtest_mase: { type: ['number', 'null'] },
          },
        },
      },
    },
  },
  ForecastPage: {
    type: 'object',
    properties: {
      run_id: { type: 'string' },
      quantiles: { type: 'array', items: { type: 'number' } },
      count: { type: 'integer' },
      rows: {
        type: 'array',
        items: {
          type: 'object',
          description: 'run_id, store_id, sku, date, step, forecast, one pNN column per quantile level, model',
          additionalProperties: true,
        },
      },
      next_cursor: { type: ['string', 'null'] },
      next: { type: ['string', 'null'], description: 'path of the next page, in the concrete run' },
    },
  },
  SeriesDetail: {
    type: 'object',
    properties: {
      run_id: { type: 'string' },
      store_id: { type: 'string' },
      sku: { type: 'string' },
      frequency: { type: 'string' },
      quantiles: { type: 'array', items: { type: 'number' } },
      band: { type: ['object', 'null'], properties: { lower: { type: 'string' }, upper: { type: 'string' } } },
      demand_class: { type: 'string' },
      model: { type: 'string' },
      backtest: { type: 'object', properties: { mase: { type: ['number', 'null'] }, rmsse: { type: ['number', 'null'] }, bias: { type: ['number', 'null'] } } },
      fallback: { type: ['string', 'null'] },
      history: { type: 'array', items: { type: 'object', properties: { date: { type: 'string' }, units: { type: ['number', 'null'] }, stockout: { type: 'boolean' }, state: { type: 'string', enum: ['observed', 'gap', 'stockout', 'closed', 'unobserved'] }, reason: { type: ['string', 'null'] } } } },
      forecast: { type: 'array', items: { type: 'object', additionalProperties: true } },
      events: { type: 'array', items: { type: 'object', properties: { date: { type: 'string' }, name: { type: 'string' }, kind: { type: 'string', enum: ['holiday', 'event', 'promo'] } } } },
    },
  },
};

export function openApiDocument(): Json {
  return {
    openapi: '3.1.0',
    info: {
      title: 'shelfcast',
      version: codeVersion(),
      description:
        'Forecast runs for ERP/IBP pulls and planners. Every artifact has an ETag: send If-None-Match to get 304 until a new run lands. ' +
        '`latest` works wherever a run id does.',
    },
    components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } }, schemas },
    security: [{ bearer: [] }],
    paths,
  };
}
