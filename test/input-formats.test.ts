import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openDuckDb, queryRows } from '../src/db/duckdb.js';
import { openIngest } from '../src/ingest/index.js';
import { parseConfig } from '../src/config/load.js';
import { validateInput } from '../src/run/validate.js';
import { parseCsv, tempDir } from './helpers/tmp.js';

const cli = fileURLToPath(new URL('../dist/src/cli/main.js', import.meta.url));
const run = (...args: string[]) => spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8' });
const errorLines = (stderr: string): string[] => stderr.trim().split('\n').filter((l) => l.startsWith('shelfcast:'));

const iso = (t0: string, i: number, step = 1): string => new Date(Date.parse(`${t0}T00:00:00Z`) + i * step * 86400000).toISOString().slice(0, 10);
/** `2024-03-05` as `05.03.2024` (German export) or `03/05/2024` (US). */
const german = (d: string): string => `${d.slice(8, 10)}.${d.slice(5, 7)}.${d.slice(0, 4)}`;
const us = (d: string): string => `${d.slice(5, 7)}/${d.slice(8, 10)}/${d.slice(0, 4)}`;

/** Read a file through the configured ingest; the clean rows back as (store, sku, date, units). */
async function readBack(path: string, csv: Record<string, unknown>, extra: Record<string, unknown> = {}) {
  const cfg = parseConfig({ ...extra, input: { path, csv, ...(extra.input as object) } });
  const conn = await openDuckDb();
  try {
    const { ingested } = await openIngest(conn, { ...cfg, input: { ...cfg.input, path } }, '2025-01-01');
    const rows = await queryRows<{ store_id: string; sku: string; date: string; u: number }>(conn,
      `SELECT store_id, sku, strftime(DATE '${ingested.firstDate}' + (t * ${ingested.freq.days})::INTEGER, '%Y-%m-%d') AS date, u FROM clean_keyed ORDER BY store_id, sku, t`);
    return { report: ingested.report, rows };
  } finally {
    conn.closeSync();
  }
}

describe('input formats (input.csv)', () => {
  it('reads a German export: semicolons, decimal commas, "." thousands, %d.%m.%Y', async () => {
    const dir = tempDir();
    const lines = ['Filiale;Artikel;Datum;Menge'];
    const de = new Intl.NumberFormat('de-DE', { maximumFractionDigits: 2 });
    for (let i = 0; i < 30; i++) lines.push(`S1;A-1;${german(iso('2024-03-01', i))};${de.format(1000 + 10 * (i % 7) + 0.25)}`);
    const path = join(dir, 'export.csv');
    writeFileSync(path, lines.join('\r\n') + '\r\n');
    const { report, rows } = await readBack(path, { delimiter: ';', decimal: ',', thousands: '.', dateFormat: '%d.%m.%Y' },
      { input: { columns: { store_id: 'Filiale', sku: 'Artikel', date: 'Datum', units: 'Menge' } } });
    expect(report.rows_rejected).toBe(0);
    expect(report.first_date).toBe('2024-03-01');
    expect(report.dates).toContain('%d.%m.%Y');
    expect(lines[6]).toBe('S1;A-1;06.03.2024;1.050,25');
    expect(rows[0]).toMatchObject({ store_id: 'S1', sku: 'A-1', date: '2024-03-01', u: 1000.25 });
    expect(rows[5].u).toBe(1050.25);
    expect(rows[29].date).toBe('2024-03-30');
  });

  it('reads US dates (%m/%d/%Y) and names the format in a rejected row', async () => {
    const dir = tempDir();
    const lines = ['store_id,sku,date,units'];
    for (let i = 0; i < 40; i++) lines.push(`S1,A,${us(iso('2024-01-25', i))},${3 + (i % 5)}`);
    lines.push('S1,A,2024-03-10,4');
    const path = join(dir, 'us.csv');
    writeFileSync(path, lines.join('\n') + '\n');
    const { report, rows } = await readBack(path, { dateFormat: '%m/%d/%Y' });
    expect(rows[0].date).toBe('2024-01-25');
    expect(rows[39].date).toBe('2024-03-04');
    expect(report.rules.bad_date.rows).toBe(1);
    const rejects = join(dir, 'rejects.csv');
    await validateInput(parseConfig({ input: { path, csv: { dateFormat: '%m/%d/%Y' } } }), rejects);
    expect(parseCsv(readFileSync(rejects, 'utf8'))[0].reason).toBe('date "2024-03-10" is not a date (expected %m/%d/%Y)');
  });

  it('reads UTF-16LE with a byte-order mark (Excel\'s "Unicode text", tab-separated) without being told', async () => {
    const dir = tempDir();
    const lines = ['store_id\tsku\tdate\tunits'];
    for (let i = 0; i < 20; i++) lines.push(`Zürich-1\tKäse\t${iso('2024-05-01', i)}\t${2 + (i % 3)}`);
    const path = join(dir, 'unicode.txt');
    writeFileSync(path, Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(lines.join('\r\n') + '\r\n', 'utf16le')]));
    const { report, rows } = await readBack(path, {}, { input: { format: 'csv' } });
    expect(report.rows_rejected).toBe(0);
    expect(rows[0]).toMatchObject({ store_id: 'Zürich-1', sku: 'Käse', date: '2024-05-01', u: 2 });
    // Big-endian too, when the encoding is given as utf-16 (the BOM decides).
    const be = Buffer.from(lines.join('\n') + '\n', 'utf16le');
    be.swap16();
    const bePath = join(dir, 'be.csv');
    writeFileSync(bePath, Buffer.concat([Buffer.from([0xfe, 0xff]), be]));
    expect((await readBack(bePath, { encoding: 'utf-16' })).rows[0].store_id).toBe('Zürich-1');
  });

  it('reads Latin-1 (Windows-1252) with umlauts in store names, and lists rejects by their lines', async () => {
    const dir = tempDir();
    const lines = ['store_id;sku;date;units'];
    for (let i = 0; i < 20; i++) lines.push(`München Süd;Brötchen €;${iso('2024-05-01', i)};${5 + (i % 4)}`);
    lines.push('Köln;Brötchen €;2024-05-02;viele');
    const path = join(dir, 'latin1.csv');
    const bytes = Buffer.from(lines.join('\n') + '\n', 'latin1');
    // '€' is 0x80 in Windows-1252 (Buffer's latin1 writes only its low byte, 0xAC).
    for (let i = 0; i < bytes.length; i++) if (bytes[i] === 0xac) bytes[i] = 0x80;
    writeFileSync(path, bytes);
    const { report, rows } = await readBack(path, { encoding: 'latin-1', delimiter: ';' });
    expect(rows[0]).toMatchObject({ store_id: 'München Süd', sku: 'Brötchen €' });
    expect(report.rules.bad_units.rows).toBe(1);
    const rejects = join(dir, 'rejects.csv');
    await validateInput(parseConfig({ input: { path, csv: { encoding: 'latin-1', delimiter: ';' } } }), rejects);
    expect(parseCsv(readFileSync(rejects, 'utf8'))[0]).toMatchObject({ line: '22', store_id: 'Köln', units: 'viele' });
  });

  it('stops on a date format DuckDB cannot parse, naming the key', async () => {
    const dir = tempDir();
    const path = join(dir, 's.csv');
    writeFileSync(path, 'store_id,sku,date,units\nS1,A,01.02.2024,3\n');
    await expect(readBack(path, { dateFormat: '%d.%Q.%Y' })).rejects.toThrow(/input\.csv\.dateFormat = "%d\.%Q\.%Y"/);
  });
});

describe('an input whose every row is rejected', () => {
  const dir = tempDir();
  const lines = ['store_id;sku;date;units'];
  for (let i = 0; i < 10; i++) lines.push(`S1;A;${german(iso('2024-03-01', i))};${i},5`);
  const path = join(dir, 'semicolon.csv');
  writeFileSync(path, lines.join('\n') + '\n');
  const cfg = join(dir, 'c.json');
  writeFileSync(cfg, JSON.stringify({ input: { csv: { delimiter: ';' } } }));

  it('run writes rejects.csv under OUT/failed/ and says where, with a hint', () => {
    const out = join(dir, 'out');
    const r = run('run', '-i', path, '-c', cfg, '-o', out, '--quiet');
    expect(r.status).toBe(1);
    const [line] = errorLines(r.stderr);
    expect(line).toMatch(/none of the 10 rows is usable: most break rule bad_date:date \(set input\.csv\.dateFormat/);
    const file = /see (\S+rejects\.csv)$/.exec(line)?.[1] ?? '';
    expect(file.startsWith(join(out, 'failed', 'unusable-'))).toBe(true);
    const rejects = parseCsv(readFileSync(file, 'utf8'));
    expect(rejects).toHaveLength(10);
    expect(rejects[0]).toMatchObject({ line: '2', rule: 'bad_date', date: '01.03.2024' });
    expect(existsSync(join(out, 'latest'))).toBe(false);
  });

  it('validate --rejects writes them too', () => {
    const rejects = join(dir, 'v-rejects.csv');
    const r = run('validate', '-i', path, '-c', cfg, '--rejects', rejects);
    expect(r.status).toBe(1);
    expect(errorLines(r.stderr)[0]).toContain(`see ${rejects}`);
    expect(parseCsv(readFileSync(rejects, 'utf8'))).toHaveLength(10);
  });
});

describe('a --freq the dates contradict', () => {
  const dir = tempDir();
  const rows = (step: number, n: number): string[] => Array.from({ length: n }, (_, i) => `S1,A,${iso('2024-01-01', i, step)},${4 + (i % 3)}`);
  const weekly = join(dir, 'weekly.csv');
  writeFileSync(weekly, ['store_id,sku,date,units', ...rows(7, 60)].join('\n') + '\n');
  const daily = join(dir, 'daily.csv');
  writeFileSync(daily, ['store_id,sku,date,units', ...rows(1, 60)].join('\n') + '\n');

  it('--freq day on weekly data says the data looks weekly', () => {
    const r = run('validate', '-i', weekly, '--freq', 'day');
    expect(r.status).toBe(1);
    expect(errorLines(r.stderr)).toEqual([expect.stringMatching(/freq is day .* but the data looks weekly \(dates most often 7 days apart\); pass --freq week/)]);
  });

  it('--freq week on daily data says the data looks daily', () => {
    const r = run('run', '-i', daily, '--freq', 'week', '-o', join(dir, 'out'), '--quiet');
    expect(r.status).toBe(1);
    expect(errorLines(r.stderr)).toEqual([expect.stringMatching(/freq is week .* but the data looks daily \(dates most often 1 day apart\); pass --freq day/)]);
  });
});
