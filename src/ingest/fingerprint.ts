import { createHash } from 'node:crypto';
import { createReadStream, statSync } from 'node:fs';

/** SHA-256 of a file's bytes, streamed. */
export async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

export interface InputFingerprint {
  readonly path: string;
  readonly bytes: number;
  readonly sha256: string;
}

/** What identifies an input: its content, not its name or timestamp. */
export async function fingerprintInput(path: string): Promise<InputFingerprint> {
  return { path, bytes: statSync(path).size, sha256: await sha256File(path) };
}
