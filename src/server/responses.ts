import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';
import type { Context } from 'hono';
import type { Artifact } from '../publish/run-store.js';
import { etagOfArtifact, etagOfBytes, ifNoneMatchHits } from './etag.js';

/**
 * Every artifact response carries an ETag and `Cache-Control: no-cache` (store, but revalidate):
 * a poller that sends If-None-Match gets 304 with no body until the content changes.
 */
const REVALIDATE = 'no-cache';

function notModified(etag: string): Response {
  return new Response(null, { status: 304, headers: { ETag: etag, 'Cache-Control': REVALIDATE } });
}

/** JSON tagged by the hash of its bytes. */
export function jsonResponse(c: Context, value: unknown): Response {
  return textResponse(c, JSON.stringify(value), 'application/json; charset=utf-8');
}

/** Small generated text (JSON, the page, metrics) tagged by the hash of its bytes. */
export function textResponse(c: Context, body: string, type: string, extra: Record<string, string> = {}): Response {
  const etag = etagOfBytes(body);
  if (ifNoneMatchHits(c.req.header('if-none-match'), etag)) return notModified(etag);
  return new Response(body, { headers: { 'Content-Type': type, ETag: etag, 'Cache-Control': REVALIDATE, ...extra } });
}

/**
 * A run file streamed from disk in chunks with back-pressure, never read whole into memory.
 * Data files download as `<run_id>-<file>`, so files from different runs do not overwrite each other.
 */
export function fileResponse(c: Context, runId: string, file: Artifact): Response {
  const etag = etagOfArtifact(file);
  if (ifNoneMatchHits(c.req.header('if-none-match'), etag)) return notModified(etag);
  const headers: Record<string, string> = {
    'Content-Type': file.mediaType,
    'Content-Length': String(file.bytes),
    ETag: etag,
    'Cache-Control': REVALIDATE,
  };
  if (!file.name.endsWith('.json')) headers['Content-Disposition'] = `attachment; filename="${runId}-${file.downloadName}"`;
  if (c.req.method === 'HEAD') return new Response(null, { headers });
  const body = Readable.toWeb(createReadStream(file.path)) as ReadableStream<Uint8Array>;
  return new Response(body, { headers });
}

/**
 * Generated CSV streamed page by page (filtered forecasts), so memory stays bounded. The caller
 * derives the tag from the source file's tag and the filter, so a 304 costs no query.
 */
export function csvStreamResponse(c: Context, chunks: () => AsyncIterable<string>, etag: string, filename: string): Response {
  if (ifNoneMatchHits(c.req.header('if-none-match'), etag)) return notModified(etag);
  const body = Readable.toWeb(Readable.from(chunks())) as ReadableStream<Uint8Array>;
  return new Response(body, {
    headers: { 'Content-Type': 'text/csv; charset=utf-8', ETag: etag, 'Cache-Control': REVALIDATE, 'Content-Disposition': `attachment; filename="${filename}"` },
  });
}
