import { Hono } from 'hono';
import { routePath } from 'hono/route';
import { authorize, checkHost, isPublicPath, isReadMethod } from './auth.js';
import type { ServerDeps } from './deps.js';
import { HttpError } from './http-error.js';
import { openApiPath } from './openapi.js';
import { runRoutes } from './routes-runs.js';
import { seriesRoutes } from './routes-series.js';
import { serviceRoutes } from './routes-service.js';
import { checkWriteOrigin, setCaller } from './caller.js';
import { workbenchRoutes } from './routes-workbench.js';

/**
 * The HTTP application: request counting, bearer-token checks, the routes, and one error shape
 * (`{ "error": "…" }`) for every failure. Unexpected errors are logged and answered with a
 * generic 500, so no stack trace or file path leaks to a client.
 */
export function createApp(deps: ServerDeps): Hono {
  const app = new Hono();

  app.use('*', async (c, next) => {
    const t0 = performance.now();
    await next();
    const route = routePath(c, -1);
    deps.requests.record(c.req.method, route === '*' ? '(no route)' : openApiPath(route), c.res.status, (performance.now() - t0) / 1000);
  });

  app.use('*', async (c, next) => {
    c.header('X-Content-Type-Options', 'nosniff');
    // With no tokens the server listens on loopback only (checked at start), so all is open to
    // requests addressed to this machine.
    if (deps.tokens.length === 0) {
      checkHost(c.req.header('host'), deps.allowedHosts);
      setCaller(c, 'local');
    } else if (!isPublicPath(c.req.path)) setCaller(c, authorize(deps.tokens, c.req.header('authorization'), c.req.path, c.req.method));
    if (!isReadMethod(c.req.method)) checkWriteOrigin(c);
    await next();
  });

  runRoutes(app, deps);
  seriesRoutes(app, deps);
  serviceRoutes(app, deps);
  workbenchRoutes(app, deps);

  app.notFound((c) => c.json({ error: `no route ${c.req.method} ${c.req.path}` }, 404));
  app.onError((err, c) => {
    if (err instanceof HttpError) return c.json({ error: err.message }, err.status, err.headers);
    deps.log(`error on ${c.req.method} ${c.req.path}: ${err.stack ?? err.message}`);
    return c.json({ error: 'internal error' }, 500);
  });
  return app;
}
