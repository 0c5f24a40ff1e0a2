import { createHash } from 'node:crypto';
import type { Artifact } from '../publish/run-store.js';

/**
 * Entity tags let an ERP that polls every few minutes get a 304 until a new run lands. Run
 * files carry the checksum the publisher wrote into the manifest (no need to read them);
 * generated JSON is tagged by a hash of its bytes.
 */

export function etagOfBytes(body: string | Uint8Array): string {
  return `"${createHash('sha256').update(body).digest('base64url').slice(0, 32)}"`;
}

/** From the checksum the manifest lists; for a file it does not list, weak, from its size and modification time. */
export function etagOfArtifact(a: Artifact): string {
  return a.sha256 ? `"${a.sha256.slice(0, 32)}"` : `W/"${a.bytes.toString(16)}-${Math.floor(a.mtimeMs).toString(16)}"`;
}

/** Whether an If-None-Match header matches (weak comparison, as RFC 9110 asks for GET). */
export function ifNoneMatchHits(header: string | undefined, etag: string): boolean {
  if (!header) return false;
  const bare = (t: string) => t.trim().replace(/^W\//, '');
  return header.split(',').some((t) => t.trim() === '*' || bare(t) === bare(etag));
}
