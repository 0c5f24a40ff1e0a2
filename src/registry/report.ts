import type { DuckDBConnection } from '@duckdb/node-api';
import { queryRows } from '../db/duckdb.js';
import { liveVersions, versionHistory } from './state.js';

/** Text for `shelfcast models list`: what is live, how many versions, by family. */
export async function modelsOverview(conn: DuckDBConnection): Promise<string> {
  const live = await liveVersions(conn);
  const totals = (await queryRows<{ versions: number; series: number }>(conn, `SELECT count(*)::INTEGER AS versions, count(DISTINCT (store_id, sku))::INTEGER AS series FROM model_versions`))[0];
  const runs = await queryRows<{ kind: string; n: number; last: string }>(conn, `SELECT kind, count(*)::INTEGER AS n, strftime(max(finished_at), '%Y-%m-%d %H:%M UTC') AS last FROM runs GROUP BY kind ORDER BY kind`);
  const drift = (await queryRows<{ n: number }>(conn, `SELECT count(*)::INTEGER AS n FROM drift`))[0].n;
  const families = new Map<string, { series: number; pinned: number; mase: number; n: number }>();
  for (const v of live.values()) {
    const family = v.label.startsWith('combo(') ? 'combination' : v.label.split('-')[0];
    const f = families.get(family) ?? { series: 0, pinned: 0, mase: 0, n: 0 };
    f.series++;
    if (v.pinned) f.pinned++;
    if (v.backtest_mase !== null && Number.isFinite(v.backtest_mase)) { f.mase += v.backtest_mase; f.n++; }
    families.set(family, f);
  }
  const lines = [
    `${totals.series} series, ${totals.versions} model versions; ${[...live.values()].filter((v) => v.pinned).length} pinned; ${drift} flagged as drifting`,
    ...runs.map((r) => `${r.kind}: ${r.n} runs, last ${r.last}`),
    '',
    `${'family'.padEnd(14)}${'series'.padStart(8)}${'pinned'.padStart(8)}${'backtest MASE'.padStart(15)}`,
    ...[...families].sort((a, b) => b[1].series - a[1].series).map(([name, f]) => `${name.padEnd(14)}${String(f.series).padStart(8)}${String(f.pinned).padStart(8)}${(f.n ? (f.mase / f.n).toFixed(3) : '—').padStart(15)}`),
  ];
  return lines.join('\n');
}

/** Text for `shelfcast models show`: every version of one series, the live one marked. */
export async function seriesVersions(conn: DuckDBConnection, store: string, sku: string): Promise<string> {
  const history = await versionHistory(conn, store, sku);
  if (history.length === 0) return `no model versions for store ${store} sku ${sku}`;
  const live = (await liveVersions(conn)).get(`${store}\u0001${sku}`);
  const lines = [`store ${store} sku ${sku}: live version ${live?.version}${live?.pinned ? ' (pinned)' : ''}`];
  for (const v of history) {
    const mark = v.version === live?.version ? '*' : ' ';
    const mix = v.selection.models.map((m, i) => `${m} ${(100 * v.selection.weights[i]).toFixed(0)}%`).join(', ');
    const score = v.backtest_mase !== null && Number.isFinite(v.backtest_mase) ? v.backtest_mase.toFixed(3) : '—';
    lines.push(`${mark} v${v.version}  ${v.selected_at}  run ${v.run_id}  ${v.demand_class.padEnd(12)} backtest MASE ${score}  ${v.label}`);
    lines.push(`      ${mix}`);
  }
  return lines.join('\n');
}
