import type { Hono } from 'hono';
import type { ServerDeps } from './deps.js';
import { HttpError } from './http-error.js';
import { NoQuery, parseQuery } from './inputs.js';
import { openApiDocument } from './openapi.js';
import { jsonResponse, textResponse } from './responses.js';

/** Health, metrics, the API description, and the planner page with its assets. */
export function serviceRoutes(app: Hono, { store, requests, assets }: ServerDeps): void {
  const openapi = openApiDocument();

  app.get('/health', (c) => {
    parseQuery(c, NoQuery);
    c.header('Cache-Control', 'no-store');
    return c.json({ status: 'ok', runs: store.list().length, latest: store.latestId() });
  });

  app.get('/metrics', async (c) => {
    parseQuery(c, NoQuery);
    const runs = store.list();
    const latestId = store.latestId();
    const latest = runs.find((m) => m.run_id === latestId) ?? null;
    c.header('Cache-Control', 'no-store');
    return c.body(await requests.render(runs, latest), 200, { 'Content-Type': requests.contentType });
  });

  app.get('/openapi.json', (c) => jsonResponse(c, openapi));

  const page = (name: string) => {
    const asset = assets.get(name);
    if (!asset) throw new HttpError(404, `no asset ${name}`);
    return asset;
  };
  app.get('/', (c) => {
    const index = page('index.html');
    // The page runs only its own scripts and talks only to this server.
    return textResponse(c, index.body, index.type, { 'Content-Security-Policy': "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'" });
  });
  app.get('/assets/:name', (c) => {
    const asset = page(c.req.param('name'));
    return textResponse(c, asset.body, asset.type);
  });
}
