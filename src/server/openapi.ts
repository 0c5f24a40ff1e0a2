import { z } from 'zod';
import { codeVersion } from '../version.js';
import { isPublicPath } from './auth.js';
import { ForecastQuery, RunIdParam, SeriesDetailQuery, SeriesSearchQuery, SkuParam, StoreParam } from './inputs.js';
import { ARTIFACTS, FAMILIES } from '../publish/artifacts.js';

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
  '/runs/{id}/outputs': get('The ERP outputs of a run (config `outputs`): name, profile, format, layout and files with size, checksum and URL', [runId], { 200: json('outputs'), ...notModified }),
  '/runs/{id}/outputs/{path}': get(
    'An output by name (its file; the list of its files when it has one per store), or an output file by its path, e.g. `sap-ibp.csv`, `wide/S01.csv.gz` (only files the manifest lists)',
    [runId, { name: 'path', in: 'path', required: true, description: `${FAMILIES[0].about}`, schema: { type: 'string' } }],
    { 200: { description: 'the file, or the list of a per-store output', content: { 'text/csv; charset=utf-8': { schema: { type: 'string' } }, 'application/gzip': { schema: { type: 'string', format: 'binary' } }, 'application/vnd.apache.parquet': { schema: { type: 'string', format: 'binary' } }, 'application/json': { schema: { type: 'object' } } } }, ...notModified },
  ),
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
  if (isPublicPath(path.replace('{name}', 'x'))) (item.get as Json).security = [];
}

const schemas: Record<string, Json> = {
  Error: { type: 'object', properties: { error: { type: 'string' } }, required: ['error'] },
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
      history: { type: 'array', items: { type: 'object', properties: { date: { type: 'string' }, units: { type: 'number' }, stockout: { type: 'boolean' } } } },
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
