import { sqlString } from '../db/duckdb.js';
import { CSV_FORMULA, CSV_NUMBER, CSV_PREFIXED } from './format.js';

/** format.ts's CSV text rule in SQL, for the CSVs DuckDB writes and the ones shelfcast reads back. */

/** csvText as SQL, for files DuckDB writes itself (COPY … TO csv). `expr` is VARCHAR. */
export function sqlCsvText(expr: string): string {
  return `CASE WHEN regexp_matches(${expr}, ${sqlString(CSV_FORMULA.source)}) AND NOT regexp_matches(${expr}, ${sqlString(CSV_NUMBER.source)}) THEN '''' || ${expr} ELSE ${expr} END`;
}

/**
 * A CSV shelfcast published, as a SQL relation whose `textColumns` hold the original text again
 * (csvText undone), so joins and filters on store and SKU see the real ids.
 */
export function readPublishedCsv(path: string, textColumns: readonly string[], options = 'all_varchar = true'): string {
  const restored = textColumns.map((c) => `CASE WHEN regexp_matches("${c}", ${sqlString(CSV_PREFIXED.source)}) THEN "${c}"[2:] ELSE "${c}" END AS "${c}"`);
  return `(SELECT * REPLACE (${restored.join(', ')}) FROM read_csv(${sqlString(path)}, header = true, ${options}))`;
}
