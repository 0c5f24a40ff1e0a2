import { beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { parseConfig } from '../src/config/load.js';
import type { Config } from '../src/config/schema.js';
import { RunManifest } from '../src/publish/manifest.js';
import { addOverride } from '../src/publish/overrides.js';
import { applyOverridesRun } from '../src/run/overrides-run.js';
import { runForecast, type RunSummary } from '../src/run/run.js';
import { parseCsv, tempDir, writeCsv } from './helpers/tmp.js';

// The planner's number reaches the ERP: an override shows in every output profile's final
// column (and hierarchy.csv's forecast_final) for its series and dates, and nowhere else; the
// levels above still add up with it; `overrides apply` republishes the profiles with it.

const ITEMS = ['sku,category,pack_size', 'BANANA-KG,fresh,1', 'BATTERY-AA,household,4', 'BREAD-WH,fresh,1', 'CHARCOAL-5KG,seasonal,1', 'EGGS-12,fresh,1', 'ICE-CREAM,frozen,6', 'LIGHTBULB,household,2', 'MILK-1L,fresh,6', 'SODA-2L,drinks,6', 'TOY-ROBOT,seasonal,1', 'TURKEY-WHL,frozen,1', 'UMBRELLA,seasonal,1'];
const ALL = ['series', 'store', 'region', 'category-store', 'sku-region', 'total'] as const;

/** A published decimal as an exact count of 1e-4. */
const ticks = (s: string): bigint => {
  const [i, f = ''] = s.split('.');
  return BigInt(i) * 10000n + BigInt((f + '0000').slice(0, 4)) * (s.startsWith('-') ? -1n : 1n);
};

/** Each profile: its file, and its columns of store, SKU, date, mean and final (long: rows of quantity_type mean/final). */
const PROFILES = [
  { file: 'outputs/ibp.csv', store: 'LOCID', sku: 'PRDID', date: 'KEYFIGUREDATE', mean: 'STATISTICALFORECASTQTY', final: 'CONSENSUSDEMANDQTY', level: 'PLANLEVEL', round: 'none' },
  { file: 'outputs/ibp-whole.csv', store: 'LOCID', sku: 'PRDID', date: 'KEYFIGUREDATE', mean: 'STATISTICALFORECASTQTY', final: 'CONSENSUSDEMANDQTY', level: 'PLANLEVEL', round: 'integer' },
  { file: 'outputs/amazon-forecast-export.csv', store: 'location', sku: 'item_id', date: 'date', mean: 'mean', final: 'forecast_final', round: 'none' },
  { file: 'outputs/wide.csv', store: 'store_id', sku: 'sku', date: 'date', mean: 'mean', final: 'forecast_final', round: 'integer' },
  { file: 'outputs/long.csv', store: 'store_id', sku: 'sku', date: 'date', mean: 'mean', final: 'final', round: 'none', long: true },
] as const;

type Row = Record<string, string>;

/** A profile's rows as { level, store, sku, date, mean, final }, long rows paired by key. */
function profileRows(dir: string, p: (typeof PROFILES)[number]): { level: string; store: string; sku: string; date: string; mean: string; final: string }[] {
  const rows = parseCsv(readFileSync(join(dir, p.file), 'utf8'));
  if ('long' in p) {
    const means = rows.filter((r) => r.quantity_type === 'mean');
    const finals = rows.filter((r) => r.quantity_type === 'final');
    expect(finals.length).toBe(means.length);
    return means.map((r, k) => ({ level: 'series', store: r.store_id, sku: r.sku, date: r.date.slice(0, 10), mean: r.value, final: finals[k].value }));
  }
  return rows.map((r) => ({ level: 'level' in p ? r[p.level] : 'series', store: r[p.store], sku: r[p.sku], date: r[p.date].slice(0, 10), mean: r[p.mean], final: r[p.final] }));
}

/** A CSV without one column (or, in a long file, without its `final` rows): what must not change. */
function withoutFinal(text: string, column: string): string {
  const lines = text.split('\n');
  const header = lines[0].split(',');
  const k = header.indexOf(column);
  if (k < 0) return lines.filter((l) => !l.includes(',final,,')).join('\n');
  return lines.map((l) => l.split(',').filter((_, j) => j !== k).join(',')).join('\n');
}

describe('overrides in the ERP files', () => {
  let cfg: Config;
  let base: RunSummary;
  let applied: string;
  let dates: string[];
  const milk = { store: 'S01', sku: 'MILK-1L' };
  const bread = { store: 'S02', sku: 'BREAD-WH' };

  beforeAll(async () => {
    const dir = tempDir();
    const items = writeCsv(dir, 'items.csv', ITEMS[0], ITEMS.slice(1));
    const out = join(dir, 'out');
    cfg = parseConfig({
      out, threads: 1, horizon: 7, items, calendars: { stores: new URL('../data/demo/stores.csv', import.meta.url).pathname },
      hierarchy: { enabled: true, samples: 200 },
      outputs: [
        { profile: 'sap-ibp', name: 'ibp', levels: [...ALL] }, { profile: 'sap-ibp', name: 'ibp-whole', levels: [...ALL], round: 'integer' },
        { profile: 'amazon-forecast-export' }, { profile: 'wide' }, { profile: 'long' }, { profile: 'wide', name: 'wide-stores', layout: 'store', format: 'csv.gz', round: 'pack' },
      ],
    });
    base = await runForecast(cfg);
    dates = [...new Set(parseCsv(readFileSync(join(base.dir, 'forecasts.csv'), 'utf8')).map((r) => r.date))].sort();
    await addOverride(out, { ...milk, from: dates[2], to: dates[4], mode: 'value', amount: 500, reason: 'store opening event' }, 'alice');
    await addOverride(out, { ...bread, from: dates[0], to: dates[6], mode: 'pct', amount: 37.5, reason: 'competitor closed' }, 'bob');
    const r = await applyOverridesRun(cfg, 'cli:test');
    expect(r.published).toBe(true);
    applied = r.dir;
  });

  const overridden = (store: string, sku: string, date: string): boolean => (store === milk.store && sku === milk.sku && date >= dates[2] && date <= dates[4]) || (store === bread.store && sku === bread.sku);

  it('show in every profile\'s final column for the series and dates they set, and nowhere else', () => {
    const finals = new Map(parseCsv(readFileSync(join(applied, 'forecasts.csv'), 'utf8')).map((r) => [`${r.store_id}|${r.sku}|${r.date}`, r]));
    expect(finals.get(`S01|MILK-1L|${dates[3]}`)?.forecast_final).toBe('500');
    for (const p of PROFILES) {
      const rows = profileRows(applied, p).filter((r) => r.level === 'series');
      let set = 0;
      for (const r of rows) {
        const f = finals.get(`${r.store}|${r.sku}|${r.date}`) as Row;
        if (!overridden(r.store, r.sku, r.date)) { expect(r.final, `${p.file} ${r.store}/${r.sku} ${r.date}`).toBe(r.mean); continue; }
        set++;
        if (r.sku === milk.sku) expect(r.final, `${p.file} ${r.date}`).toBe('500');
        else if (p.round === 'none') expect(r.final, `${p.file} ${r.date}`).toBe(f.forecast_final);
        else expect(Math.abs(Number(r.final) - Number(f.forecast_final)), `${p.file} ${r.date}`).toBeLessThan(1);
        expect(r.final).not.toBe(r.mean);
      }
      expect(set, p.file).toBe(3 + 7);
    }
    // The per-store gzip files round to packs: MILK-1L comes in 6s.
    const s01 = parseCsv(gunzipSync(readFileSync(join(applied, 'outputs', 'wide-stores', 'S01.csv.gz'))).toString('utf8'));
    for (const r of s01.filter((x) => x.sku === milk.sku)) expect(r.forecast_final).toBe(r.date >= dates[2] && r.date <= dates[4] ? '498' : r.mean);
  });

  it('are added into every level above the series, which still add up exactly', () => {
    for (const p of PROFILES.filter((x) => 'level' in x)) {
      const rows = profileRows(applied, p);
      const parse = p.round === 'none' ? ticks : (s: string) => BigInt(s);
      const series = rows.filter((r) => r.level === 'series');
      const raw = parseCsv(readFileSync(join(applied, p.file), 'utf8'));
      let checked = 0;
      raw.forEach((r, k) => {
        if (r.PLANLEVEL === 'series') return;
        const members = raw.filter((b) => b.PLANLEVEL === 'series' && b.KEYFIGUREDATE === r.KEYFIGUREDATE && (!r.LOCID || b.LOCID === r.LOCID) && (!r.PRDID || b.PRDID === r.PRDID) && (!r.REGIONID || b.REGIONID === r.REGIONID) && (!r.PRODCATEGORY || b.PRODCATEGORY === r.PRODCATEGORY));
        expect(members.reduce((a, b) => a + parse(b.CONSENSUSDEMANDQTY), 0n), `${p.file} ${r.PLANLEVEL} ${r.LOCID}/${r.PRDID} ${r.KEYFIGUREDATE}`).toBe(parse(rows[k].final));
        expect(members.reduce((a, b) => a + parse(b.STATISTICALFORECASTQTY), 0n)).toBe(parse(rows[k].mean));
        checked++;
      });
      expect(checked, p.file).toBe((4 + 4 + 20 + 48 + 1) * 7);
      // The S01 store total moves by exactly the series' changes; S03 (no override) not at all.
      for (const d of dates) {
        const store = (s: string) => rows.find((r) => r.level === 'store' && r.store === s && r.date === d) as (typeof rows)[number];
        const change = series.filter((r) => r.store === 'S01' && r.date === d).reduce((a, r) => a + parse(r.final) - parse(r.mean), 0n);
        expect(parse(store('S01').final) - parse(store('S01').mean), `${p.file} ${d}`).toBe(change);
        if (d >= dates[2] && d <= dates[4]) expect(change).not.toBe(0n);
        expect(store('S03').final).toBe(store('S03').mean);
      }
    }
    const h = parseCsv(readFileSync(join(applied, 'hierarchy.csv'), 'utf8'));
    expect(h.find((r) => r.level === 'series' && r.store_id === 'S01' && r.sku === 'MILK-1L' && r.date === dates[3])?.forecast_final).toBe('500');
    const total = h.filter((r) => r.level === 'total');
    const series = h.filter((r) => r.level === 'series');
    for (const t of total) expect(series.filter((r) => r.date === t.date).reduce((a, r) => a + ticks(r.forecast_final), 0n)).toBe(ticks(t.forecast_final));
  });

  it('are republished by `overrides apply`, which keeps every statistical figure of the run it applies them to', () => {
    for (const p of PROFILES) {
      const column = 'long' in p ? 'none' : p.final;
      expect(withoutFinal(readFileSync(join(applied, p.file), 'utf8'), column), p.file).toBe(withoutFinal(readFileSync(join(base.dir, p.file), 'utf8'), column));
      expect(readFileSync(join(applied, p.file), 'utf8')).not.toBe(readFileSync(join(base.dir, p.file), 'utf8'));
    }
    expect(withoutFinal(readFileSync(join(applied, 'hierarchy.csv'), 'utf8'), 'forecast_final')).toBe(withoutFinal(readFileSync(join(base.dir, 'hierarchy.csv'), 'utf8'), 'forecast_final'));
    // Before any override the finals are the means: the base run's files say so.
    for (const p of PROFILES) for (const r of profileRows(base.dir, p)) expect(r.final).toBe(r.mean);
    const m = RunManifest.parse(JSON.parse(readFileSync(join(applied, 'manifest.json'), 'utf8')));
    expect(m.kind).toBe('overrides');
    for (const f of (m.outputs ?? []).flatMap((o) => o.files)) expect(m.files[f], f).toBeDefined();
    expect(m.files['hierarchy.csv']).toBeDefined();
  });

  it('reach the ERP files of the next run too', async () => {
    const next = await runForecast(cfg);
    const rows = profileRows(next.dir, PROFILES[0]).filter((r) => r.level === 'series');
    for (const r of rows) {
      if (r.store === milk.store && r.sku === milk.sku && r.date >= dates[2] && r.date <= dates[4]) expect(r.final).toBe('500');
      else if (!overridden(r.store, r.sku, r.date)) expect(r.final).toBe(r.mean);
    }
  });
});
