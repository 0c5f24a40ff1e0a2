import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A fresh folder under the OS temp dir for one test. */
export function tempDir(prefix = 'shelfcast-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** Write a CSV from a header and rows into `dir`; returns its path. */
export function writeCsv(dir: string, name: string, header: string, rows: readonly string[]): string {
  const p = join(dir, name);
  writeFileSync(p, [header, ...rows].join('\n') + '\n');
  return p;
}

/** Daily rows for one series starting at `start`, values from `f(i)`. */
export function dailyRows(store: string, sku: string, start: string, n: number, f: (i: number) => number): string[] {
  const t0 = Date.parse(`${start}T00:00:00Z`);
  return Array.from({ length: n }, (_, i) => `${store},${sku},${new Date(t0 + i * 86400000).toISOString().slice(0, 10)},${f(i)}`);
}

/** Parse a small CSV (no quoted commas in the values we check) into objects. */
export function parseCsv(text: string): Record<string, string>[] {
  const lines = text.trim().split('\n');
  const split = (l: string): string[] => {
    const out: string[] = [];
    let cur = '';
    let quoted = false;
    for (let i = 0; i < l.length; i++) {
      const ch = l[i];
      if (quoted) {
        if (ch === '"' && l[i + 1] === '"') { cur += '"'; i++; } else if (ch === '"') quoted = false; else cur += ch;
      } else if (ch === '"') quoted = true;
      else if (ch === ',') { out.push(cur); cur = ''; } else cur += ch;
    }
    out.push(cur);
    return out;
  };
  const header = split(lines[0]);
  return lines.slice(1).map((l) => Object.fromEntries(split(l).map((v, i) => [header[i], v])));
}

/** Every ISO date from `from` to `to`, both included. */
export function days(from: string, to: string): string[] {
  const out: string[] = [];
  for (let t = Date.parse(`${from}T00:00:00Z`); t <= Date.parse(`${to}T00:00:00Z`); t += 86400000) out.push(new Date(t).toISOString().slice(0, 10));
  return out;
}
