import type { Context } from 'hono';
import { HttpError } from './http-error.js';

/**
 * Who is calling: the name of the token the request was authorised with (`local` on a
 * tokenless loopback server), recorded with every override as its author.
 */
const callers = new WeakMap<Request, string>();

export function setCaller(c: Context, name: string): void {
  callers.set(c.req.raw, name);
}

export function caller(c: Context): string {
  return callers.get(c.req.raw) ?? 'local';
}

/**
 * A write must be a JSON request from this server's own page or a program, never a form another
 * site's page posts (a cross-site form can send neither JSON nor an Authorization header
 * without a CORS preflight, which this server never grants): the body must be
 * application/json, and an Origin, when the browser sends one, must be this server's.
 */
export function checkWriteOrigin(c: Context): void {
  const origin = c.req.header('origin');
  const host = c.req.header('host');
  if (origin !== undefined && origin !== 'null') {
    let originHost = '';
    try {
      originHost = new URL(origin).host;
    } catch {
      // an Origin that is no URL is not this server's
    }
    if (originHost !== host) throw new HttpError(403, `origin ${origin} may not change this server's state; use the page this server serves, or a program`);
  } else if (origin === 'null') throw new HttpError(403, 'origin null may not change this server\'s state');
  const type = c.req.header('content-type') ?? '';
  if (c.req.method === 'POST' && !/^application\/json\b/i.test(type)) throw new HttpError(415, 'send the body as JSON: Content-Type: application/json');
}
