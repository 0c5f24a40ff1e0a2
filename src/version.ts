import { createHash } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The package root: two levels above this module whether it runs from src/ or dist/src/. */
export function packageRoot(): string {
  const parent = dirname(dirname(fileURLToPath(import.meta.url)));
  return basename(parent) === 'dist' ? dirname(parent) : parent;
}

let cached: string | null = null;

/**
 * `shelfcast@<version>+<digest>`: the digest covers the compiled engine, so a run records the
 * exact code that made it even between releases.
 */
export function codeVersion(): string {
  if (cached) return cached;
  const root = packageRoot();
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string };
  const hash = createHash('sha256');
  const walk = (dir: string): void => {
    let entries: string[];
    try {
      entries = readdirSync(dir).sort();
    } catch {
      return;
    }
    for (const e of entries) {
      const p = join(dir, e);
      if (e.endsWith('.js') || e.endsWith('.ts')) hash.update(e).update(readFileSync(p));
      else if (!e.includes('.')) walk(p);
    }
  };
  const compiled = join(root, 'dist');
  walk(join(compiled, 'src'));
  walk(join(compiled, 'workers'));
  cached = `shelfcast@${pkg.version}+${hash.digest('hex').slice(0, 12)}`;
  return cached;
}
