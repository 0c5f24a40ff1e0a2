import type { DuckDBConnection } from '@duckdb/node-api';
import { UserError, errorMessage } from '../errors.js';
import { queryRows, sqlString } from '../db/duckdb.js';
import { assertInputFile } from './source.js';
import { publishedName } from '../publish/published-paths.js';

/**
 * New items (`input.newItems`): store × SKU pairs with no sales yet that the user wants
 * forecast from their launch, a CSV `store_id,sku[,category][,launch_date]`. A pair the sales
 * data already has is left to its history; a row without a store or SKU, or with a launch date
 * that is not a date, is counted and left out.
 */
export interface NewItem {
  readonly store: string;
  readonly sku: string;
  /** '' when not given. */
  readonly category: string;
  /** First period on sale, on the run grid (≤ the data end: on sale from the first period ahead). */
  readonly launchT: number;
}

export interface NewItems {
  readonly items: readonly NewItem[];
  readonly report: { readonly file: string; readonly rows: number; readonly used: number; readonly known_series: number; readonly bad_rows: number };
}

export async function readNewItems(conn: DuckDBConnection, path: string, grid: { firstDate: string; stepDays: 1 | 7; endT: number }): Promise<NewItems> {
  assertInputFile(path);
  let rows: { store_id: string | null; sku: string | null; category: string | null; launch: string | null; known: boolean }[];
  try {
    const cols = (await queryRows<{ column_name: string }>(conn, `SELECT column_name FROM (DESCRIBE SELECT * FROM read_csv(${sqlString(path)}, header = true, all_varchar = true))`)).map((c) => c.column_name);
    for (const need of ['store_id', 'sku']) if (!cols.includes(need)) throw new UserError(`input.newItems ${path}: missing column "${need}"; found ${cols.map((c) => `"${c}"`).join(', ')}`);
    const opt = (name: string): string => (cols.includes(name) ? `NULLIF(trim(${name}), '')` : 'NULL');
    rows = await queryRows(conn, `SELECT NULLIF(trim(store_id), '') AS store_id, NULLIF(trim(sku), '') AS sku, ${opt('category')} AS category, ${opt('launch_date')} AS launch,
        EXISTS (SELECT 1 FROM series s WHERE s.store_id = trim(n.store_id) AND s.sku = trim(n.sku)) AS known
      FROM read_csv(${sqlString(path)}, header = true, all_varchar = true) n`);
  } catch (e) {
    if (e instanceof UserError) throw e;
    throw new UserError(`input.newItems ${path}: cannot read it: ${errorMessage(e).split('\n')[0]}`);
  }
  const first = Date.parse(`${grid.firstDate}T00:00:00Z`);
  const seen = new Set<string>();
  const items: NewItem[] = [];
  let known = 0;
  let bad = 0;
  for (const r of rows) {
    const launchMs = r.launch ? Date.parse(`${r.launch}T00:00:00Z`) : NaN;
    if (!r.store_id || !r.sku || (r.launch && !/^\d{4}-\d{2}-\d{2}$/.test(r.launch)) || (r.launch && Number.isNaN(launchMs))) { bad++; continue; }
    if (r.known) { known++; continue; }
    const key = `${r.store_id}\u0001${r.sku}`;
    if (seen.has(key)) continue;
    seen.add(key);
    // A weekly period is labelled by its last day: a launch within it counts from that period.
    const launchT = Number.isNaN(launchMs) ? grid.endT + 1 : Math.ceil((launchMs - first) / 86400000 / grid.stepDays);
    items.push({ store: r.store_id, sku: r.sku, category: r.category ?? '', launchT: Math.max(launchT, grid.endT + 1) });
  }
  items.sort((a, b) => (a.store < b.store ? -1 : a.store > b.store ? 1 : a.sku < b.sku ? -1 : a.sku > b.sku ? 1 : 0));
  return { items, report: { file: publishedName(path), rows: rows.length, used: items.length, known_series: known, bad_rows: bad } };
}
