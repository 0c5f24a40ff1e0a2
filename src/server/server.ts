import { existsSync, statSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { serve } from '@hono/node-server';
import type { ServerConfig } from '../config/schema.js';
import { UserError } from '../errors.js';
import { createApp } from './app.js';
import { isLoopbackHost, resolveTokens } from './auth.js';
import { QueryEngine } from './db.js';
import { RequestMetrics } from './metrics.js';
import { loadPageAssets } from './page-assets.js';
import { RunStore } from '../publish/run-store.js';

export interface ServeOptions {
  readonly out: string;
  readonly host: string;
  readonly port: number;
  readonly tokens: ServerConfig['tokens'];
  /** Extra Host names a tokenless server answers to (see auth.ts checkHost). */
  readonly allowedHosts?: readonly string[];
  readonly env?: NodeJS.ProcessEnv;
  readonly log?: (line: string) => void;
}

export interface RunningServer {
  /** Base URL, e.g. http://127.0.0.1:8080 (with the real port when 0 was asked for). */
  readonly url: string;
  /** Stop accepting, let requests in flight finish (at most `graceMs`), then release DuckDB. Idempotent. */
  close(graceMs?: number): Promise<void>;
}

function listen(server: Server): Promise<AddressInfo> {
  return new Promise((resolve, reject) => {
    if (server.listening) return resolve(server.address() as AddressInfo);
    server.once('error', reject);
    server.once('listening', () => {
      server.off('error', reject);
      resolve(server.address() as AddressInfo);
    });
  });
}

/**
 * Start `shelfcast serve`. Without tokens anyone who can connect reads every forecast, so the
 * server then refuses any address but loopback and says so at start.
 */
export async function startServer(opts: ServeOptions): Promise<RunningServer> {
  const log = opts.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  if (!existsSync(opts.out) || !statSync(opts.out).isDirectory()) {
    throw new UserError(`output folder ${opts.out} does not exist; publish a run there first (shelfcast run --out ${opts.out})`);
  }
  const tokens = resolveTokens(opts.tokens, opts.env ?? process.env);
  if (tokens.length === 0 && !isLoopbackHost(opts.host)) {
    throw new UserError(`no API tokens configured: refusing to serve forecasts on ${opts.host}; set SHELFCAST_API_TOKEN or server.tokens, or serve on 127.0.0.1`);
  }
  const store = new RunStore(opts.out);
  const assets = loadPageAssets();
  const db = await QueryEngine.open();
  const app = createApp({ store, db, tokens, allowedHosts: opts.allowedHosts ?? [], requests: new RequestMetrics(), assets, log });
  const server = serve({ fetch: app.fetch, port: opts.port, hostname: opts.host }) as Server;
  let address: AddressInfo;
  try {
    address = await listen(server);
  } catch (e) {
    db.close();
    throw new UserError(`cannot listen on ${opts.host}:${opts.port}: ${(e as Error).message}`);
  }
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const url = `http://${host}:${address.port}`;
  const latest = store.latestId();
  log(`shelfcast serve: ${url}/ (planner page), API described at ${url}/openapi.json`);
  log(`  serving ${store.root}: ${store.list().length} runs, latest ${latest ?? '(none yet)'}; new runs appear without a restart`);
  if (tokens.length === 0) {
    log('  WARNING: NO API TOKENS CONFIGURED — anyone on this machine can read every forecast. Listening on loopback only;');
    log('           set SHELFCAST_API_TOKEN or server.tokens in the config to serve other machines.');
  } else {
    log(`  bearer tokens: ${tokens.map((t) => t.name + (t.routes ? ` (${t.routes.join(', ')})` : '')).join(', ')}`);
  }

  let closing: Promise<void> | null = null;
  const close = (graceMs: number) =>
    new Promise<void>((resolve, reject) => {
      const force = setTimeout(() => server.closeAllConnections(), graceMs);
      // Keep-alive connections go idle only once their response is sent; close each as it does.
      const sweep = setInterval(() => server.closeIdleConnections(), 50);
      server.close((err) => {
        clearTimeout(force);
        clearInterval(sweep);
        db.close();
        if (err) reject(err);
        else resolve();
      });
      server.closeIdleConnections();
    });
  return { url, close: (graceMs = 10_000) => (closing ??= close(graceMs)) };
}
