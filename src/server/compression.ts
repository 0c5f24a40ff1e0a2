import { Readable } from 'node:stream';
import { constants, createBrotliCompress } from 'node:zlib';
import type { MiddlewareHandler } from 'hono';
import { COMPRESSIBLE_CONTENT_TYPE_REGEX, compress } from 'hono/compress';

/**
 * Compressed responses for clients that ask (Accept-Encoding): Brotli when the client prefers
 * it (or rates it as high as gzip), else gzip or deflate through Hono's compress middleware.
 * Text only (CSV, JSON, Markdown): Parquet and .csv.gz files are compressed already. A
 * compressed body gets a weak ETag, which If-None-Match still matches (etag.ts).
 */

/** Below this many bytes compression costs more than it saves (Hono's default too). */
const THRESHOLD = 1024;

function quality(header: string, coding: string): number {
  let star = 0;
  for (const part of header.split(',')) {
    const [name, ...params] = part.trim().split(';');
    const q = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
    const value = q ? Number(q.slice(2)) : 1;
    if (name.trim().toLowerCase() === coding) return Number.isFinite(value) ? value : 0;
    if (name.trim() === '*') star = Number.isFinite(value) ? value : 0;
  }
  return star;
}

export function compression(): MiddlewareHandler {
  const others = compress({ threshold: THRESHOLD });
  return async (c, next) => {
    const accept = c.req.header('accept-encoding') ?? '';
    const br = quality(accept, 'br');
    if (!(br > 0 && br >= quality(accept, 'gzip'))) return others(c, next);
    await next();
    const res = c.res;
    const type = res.headers.get('Content-Type');
    const length = res.headers.get('Content-Length');
    if (!type || !COMPRESSIBLE_CONTENT_TYPE_REGEX.test(type)) return;
    const vary = res.headers.get('Vary');
    if (!vary || !/accept-encoding/i.test(vary)) res.headers.set('Vary', vary ? `${vary}, Accept-Encoding` : 'Accept-Encoding');
    if (res.status !== 200 || !res.body || c.req.method === 'HEAD' || res.headers.has('Content-Encoding') || (length !== null && Number(length) < THRESHOLD)) return;
    const body = Readable.fromWeb(res.body as import('node:stream/web').ReadableStream).pipe(createBrotliCompress({ params: { [constants.BROTLI_PARAM_QUALITY]: 5 } }));
    c.res = new Response(Readable.toWeb(body) as ReadableStream<Uint8Array>, res);
    // Hono carries the old response's headers over on assignment: change them after it.
    c.res.headers.delete('Content-Length');
    c.res.headers.set('Content-Encoding', 'br');
    const etag = c.res.headers.get('ETag');
    if (etag && !etag.startsWith('W/')) c.res.headers.set('ETag', `W/${etag}`);
  };
}
