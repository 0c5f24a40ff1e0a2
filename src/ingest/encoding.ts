import { closeSync, createReadStream, createWriteStream, mkdtempSync, openSync, readSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Transform } from 'node:stream';
import { UserError, errorMessage } from '../errors.js';

import type { CSV_ENCODINGS } from '../config/schema.js';

export type CsvEncoding = (typeof CSV_ENCODINGS)[number];

const transcoded: string[] = [];
process.once('exit', () => {
  for (const dir of transcoded) rmSync(dir, { recursive: true, force: true });
});

/** The encoding a byte-order mark at the start of the file announces, if any. */
export function bomEncoding(path: string): 'utf-16le' | 'utf-16be' | null {
  const fd = openSync(path, 'r');
  try {
    const head = Buffer.alloc(2);
    const n = readSync(fd, head, 0, 2, 0);
    if (n < 2) return null;
    if (head[0] === 0xff && head[1] === 0xfe) return 'utf-16le';
    if (head[0] === 0xfe && head[1] === 0xff) return 'utf-16be';
    return null;
  } finally {
    closeSync(fd);
  }
}

/**
 * The decoder label for a configured encoding: `utf-16` follows the file's byte-order mark
 * (little-endian without one, as Windows writes it); `latin-1` is read as Windows-1252, its
 * superset in every printable character (as WHATWG decoders do), so a € or an en dash from
 * Excel survives. A UTF-16 byte-order mark wins over an unset or UTF-8 setting: such a file
 * cannot be UTF-8.
 */
export function decoderLabel(path: string, encoding: CsvEncoding | undefined): string | null {
  const bom = bomEncoding(path);
  if (encoding === undefined || encoding === 'utf-8') return bom;
  if (encoding === 'utf-16') return bom ?? 'utf-16le';
  if (encoding === 'latin-1') return 'windows-1252';
  return encoding;
}

/**
 * A UTF-8 copy of a CSV file written in another encoding, for DuckDB (whose reader takes
 * UTF-8, little-endian UTF-16 and strict Latin-1 only), in a temp folder removed when the
 * process exits; the path itself for UTF-8. Lines keep their numbers, so rejects.csv still
 * names lines of the original file. A byte-order mark is dropped.
 */
export async function utf8Copy(path: string, encoding: CsvEncoding | undefined): Promise<string> {
  const label = decoderLabel(path, encoding);
  if (label === null) return path;
  const dir = mkdtempSync(join(tmpdir(), 'shelfcast-input-'));
  transcoded.push(dir);
  const copy = join(dir, 'input.csv');
  const decoder = new TextDecoder(label, { fatal: true });
  const decode = new Transform({
    transform(chunk: Buffer, _enc, done) {
      try {
        done(null, decoder.decode(chunk, { stream: true }));
      } catch (e) {
        done(e as Error);
      }
    },
    flush(done) {
      try {
        done(null, decoder.decode());
      } catch (e) {
        done(e as Error);
      }
    },
  });
  try {
    await pipeline(createReadStream(path), decode, createWriteStream(copy, { encoding: 'utf8' }));
  } catch (e) {
    throw new UserError(`input ${path}: cannot read it as ${label} (input.csv.encoding): ${errorMessage(e)}`);
  }
  return copy;
}
