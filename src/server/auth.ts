import { createHash, timingSafeEqual } from 'node:crypto';
import type { ServerConfig } from '../config/schema.js';
import { UserError } from '../errors.js';
import { HttpError } from './http-error.js';

/**
 * Bearer tokens from the config (`server.tokens`, each given inline or by the name of an
 * environment variable) or from SHELFCAST_API_TOKEN. A token may be limited to route prefixes.
 * Only digests are kept and compared in constant time, so a token cannot be guessed byte by byte.
 */

/** A token for every route, taken from the environment so a one-off server needs no config file. */
const TOKEN_ENV = 'SHELFCAST_API_TOKEN';
const MIN_TOKEN_LENGTH = 16;

export interface ApiToken {
  readonly name: string;
  readonly digest: Buffer;
  /** Route prefixes this token may use; null: all. */
  readonly routes: readonly string[] | null;
  /** Whether it may change state (POST, DELETE: planner overrides), not only read. */
  readonly write: boolean;
}

const digest = (token: string): Buffer => createHash('sha256').update(token).digest();

export function resolveTokens(configured: ServerConfig['tokens'], env: NodeJS.ProcessEnv): ApiToken[] {
  const tokens: ApiToken[] = configured.map((t) => {
    const value = t.token ?? env[t.env ?? ''];
    if (value === undefined || value === '') throw new UserError(`server.tokens "${t.name}": environment variable ${t.env} is not set`);
    if (value.length < MIN_TOKEN_LENGTH) throw new UserError(`server.tokens "${t.name}": the token must be at least ${MIN_TOKEN_LENGTH} characters`);
    return { name: t.name, digest: digest(value), routes: t.routes ?? null, write: (t.scopes ?? ['read']).includes('write') };
  });
  const fromEnv = env[TOKEN_ENV];
  if (fromEnv !== undefined && fromEnv !== '') {
    if (fromEnv.length < MIN_TOKEN_LENGTH) throw new UserError(`${TOKEN_ENV} must be at least ${MIN_TOKEN_LENGTH} characters`);
    // The one token of a server without a config: its operator's, for every route and scope.
    tokens.push({ name: TOKEN_ENV, digest: digest(fromEnv), routes: null, write: true });
  }
  return tokens;
}

/** Paths that hold no forecast data: the page shell, its assets, the API description, health. */
export function isPublicPath(path: string): boolean {
  return path === '/' || path === '/health' || path === '/openapi.json' || path.startsWith('/assets/');
}

/** `/runs` allows `/runs` and `/runs/…`, not `/runsx`. */
function allows(routes: readonly string[] | null, path: string): boolean {
  return routes === null || routes.some((r) => {
    const prefix = r.endsWith('/') ? r.slice(0, -1) : r;
    return path === prefix || path.startsWith(`${prefix}/`);
  });
}

/** Methods that only read. Anything else (POST, DELETE) needs a token with the `write` scope. */
export const isReadMethod = (method: string): boolean => method === 'GET' || method === 'HEAD';

/** The name of the token that may use `path` with `method`; throws 401 (no or unknown token) or 403 (not this route, or a write without the write scope). */
export function authorize(tokens: readonly ApiToken[], authorization: string | undefined, path: string, method = 'GET'): string {
  const challenge = { 'WWW-Authenticate': 'Bearer realm="shelfcast"' };
  const m = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '');
  if (!m) throw new HttpError(401, 'send a token: Authorization: Bearer <token>', challenge);
  const presented = digest(m[1]);
  const token = tokens.find((t) => timingSafeEqual(t.digest, presented));
  if (!token) throw new HttpError(401, 'unknown token', challenge);
  if (!allows(token.routes, path)) throw new HttpError(403, `token "${token.name}" may not use ${path}`);
  if (!isReadMethod(method) && !token.write) throw new HttpError(403, `token "${token.name}" is read-only: ${method} ${path} needs a token with the "write" scope (server.tokens[].scopes)`);
  return token.name;
}

/** Host names that only this machine can reach. */
export function isLoopbackHost(host: string): boolean {
  return host === 'localhost' || host === '::1' || host === '[::1]' || /^127(\.\d{1,3}){3}$/.test(host);
}

/** The name in a Host header, without its port: "[::1]:8080" → "[::1]", "LocalHost:80" → "localhost". */
function hostName(header: string): string {
  const h = header.trim().toLowerCase();
  return h.startsWith('[') ? h.slice(0, h.indexOf(']') + 1) : h.replace(/:\d*$/, '');
}

/**
 * A tokenless server is open to whatever can reach loopback, including a web page whose own
 * domain an attacker re-points at 127.0.0.1 (DNS rebinding). Such a browser still sends that
 * domain as Host, so only loopback names, and those the operator allows, are answered.
 */
export function checkHost(header: string | undefined, allowed: readonly string[]): void {
  const name = hostName(header ?? '');
  if (isLoopbackHost(name) || allowed.some((a) => a.toLowerCase() === name)) return;
  throw new HttpError(403, `host "${header ?? ''}" is not allowed: a server without API tokens answers only to localhost, 127.0.0.1 and [::1] (add names with server.allowedHosts or --allow-host)`);
}
