import type { DuckDBConnection } from '@duckdb/node-api';
import { queryRows, sqlString } from '../db/duckdb.js';
import { liveVersionOf, liveVersions, versionHistory, type VersionRow } from './state.js';

/** How many pinned or drifting series the text of `models list` names before "… N more". */
export const LIST_LIMIT = 20;

const family = (label: string): string => (label.startsWith('combo(') ? 'combination' : label.split('-')[0]);
const finite = (x: number | null | undefined): number | null => (x !== null && x !== undefined && Number.isFinite(x) ? x : null);

/** What `shelfcast models list` answers: what is live, by family, and which series are pinned or drifting. */
export interface ModelsList {
  readonly series: number;
  readonly versions: number;
  readonly runs: { kind: string; runs: number; last_finished_at: string }[];
  /** Per model family of the live versions: backtest MASE (mean) and realised MASE of the live versions (points-weighted), where monitor has scored them. */
  readonly families: { family: string; series: number; pinned: number; drifting: number; backtest_mase: number | null; realised_mase: number | null; realised_points: number }[];
  readonly pinned: { store_id: string; sku: string; family: string; version: number; newest_version: number; pinned_at: string }[];
  readonly drifting: { store_id: string; sku: string; family: string; version: number | null; flagged_at: string; reason: string }[];
}

export async function modelsList(conn: DuckDBConnection): Promise<ModelsList> {
  const live = await liveVersions(conn);
  const totals = (await queryRows<{ versions: number; series: number }>(conn, `SELECT count(*)::INTEGER AS versions, count(DISTINCT (store_id, sku))::INTEGER AS series FROM model_versions`))[0];
  const runs = await queryRows<{ kind: string; runs: number; last_finished_at: string }>(conn, `SELECT kind, count(*)::INTEGER AS runs, strftime(max(finished_at), '%Y-%m-%dT%H:%M:%SZ') AS last_finished_at FROM runs GROUP BY kind ORDER BY kind`);
  const pins = await queryRows<{ store_id: string; sku: string; version: number; newest_version: number; pinned_at: string }>(conn, `
    SELECT p.store_id, p.sku, p.version, max(v.version)::INTEGER AS newest_version, strftime(any_value(p.pinned_at), '%Y-%m-%dT%H:%M:%SZ') AS pinned_at
    FROM pins p JOIN model_versions v USING (store_id, sku) GROUP BY p.store_id, p.sku, p.version ORDER BY p.store_id, p.sku`);
  const drift = await queryRows<{ store_id: string; sku: string; flagged_at: string; reason: string }>(conn, `SELECT store_id, sku, strftime(flagged_at, '%Y-%m-%dT%H:%M:%SZ') AS flagged_at, reason FROM drift ORDER BY store_id, sku`);
  const realised = new Map((await queryRows<{ store_id: string; sku: string; version: number; points: number; mase: number | null }>(conn, `
    SELECT store_id, sku, model_version AS version, sum(points)::INTEGER AS points, sum(mase * points) / sum(points) FILTER (mase IS NOT NULL) AS mase
    FROM accuracy WHERE model_version IS NOT NULL GROUP BY ALL`)).map((r) => [`${r.store_id}\u0001${r.sku}\u0001${r.version}`, r]));
  const drifting = new Set(drift.map((d) => `${d.store_id}\u0001${d.sku}`));
  const families = new Map<string, { series: number; pinned: number; drifting: number; mase: number; n: number; realised: number; points: number }>();
  for (const [key, v] of live) {
    const f = families.get(family(v.label)) ?? { series: 0, pinned: 0, drifting: 0, mase: 0, n: 0, realised: 0, points: 0 };
    f.series++;
    if (v.pinned) f.pinned++;
    if (drifting.has(key)) f.drifting++;
    const bt = finite(v.backtest_mase);
    if (bt !== null) { f.mase += bt; f.n++; }
    const r = realised.get(`${key}\u0001${v.version}`);
    if (r && finite(r.mase) !== null) { f.realised += (r.mase as number) * r.points; f.points += r.points; }
    families.set(family(v.label), f);
  }
  const familyOf = (store: string, sku: string): string => {
    const v = live.get(`${store}\u0001${sku}`);
    return v ? family(v.label) : '—';
  };
  return {
    series: totals.series,
    versions: totals.versions,
    runs,
    families: [...families].sort((a, b) => b[1].series - a[1].series || (a[0] < b[0] ? -1 : 1)).map(([name, f]) => ({
      family: name, series: f.series, pinned: f.pinned, drifting: f.drifting,
      backtest_mase: f.n ? f.mase / f.n : null, realised_mase: f.points ? f.realised / f.points : null, realised_points: f.points,
    })),
    pinned: pins.map((p) => ({ ...p, family: familyOf(p.store_id, p.sku) })),
    drifting: drift.map((d) => ({ ...d, family: familyOf(d.store_id, d.sku), version: live.get(`${d.store_id}\u0001${d.sku}`)?.version ?? null })),
  };
}

/** Up to `limit` lines, then "… N more" saying where the rest are. */
export function limited(lines: readonly string[], limit: number, rest: string): string[] {
  return lines.length <= limit ? [...lines] : [...lines.slice(0, limit), `  … ${lines.length - limit} more (${rest})`];
}

const score = (x: number | null): string => (x === null ? '—' : x.toFixed(3));

/** Text for `shelfcast models list`; `all` names every pinned and drifting series. */
export function formatModelsList(m: ModelsList, all = false): string {
  const limit = all ? Infinity : LIST_LIMIT;
  const lines = [
    `${m.series} series, ${m.versions} model versions; ${m.pinned.length} pinned; ${m.drifting.length} flagged as drifting`,
    ...m.runs.map((r) => `${r.kind}: ${r.runs} runs, last ${r.last_finished_at}`),
    '',
    `${'family'.padEnd(14)}${'series'.padStart(8)}${'pinned'.padStart(8)}${'drifting'.padStart(10)}${'backtest MASE'.padStart(15)}${'realised MASE'.padStart(15)}`,
    ...m.families.map((f) => `${f.family.padEnd(14)}${String(f.series).padStart(8)}${String(f.pinned).padStart(8)}${String(f.drifting).padStart(10)}${score(f.backtest_mase).padStart(15)}${score(f.realised_mase).padStart(15)}`),
  ];
  if (m.pinned.length) {
    lines.push('', `pinned (${m.pinned.length}): forecast with the pinned version until \`models unpin\``);
    lines.push(...limited(m.pinned.map((p) => `  ${p.store_id} / ${p.sku}  v${p.version} (newest v${p.newest_version}), ${p.family}, pinned ${p.pinned_at}`), limit, '--all lists every one'));
  }
  if (m.drifting.length) {
    lines.push('', `drifting (${m.drifting.length}): re-selected by the next run`);
    lines.push(...limited(m.drifting.map((d) => `  ${d.store_id} / ${d.sku}  v${d.version ?? '—'}, ${d.family}, flagged ${d.flagged_at}: ${d.reason}`), limit, '--all lists every one'));
  }
  return lines.join('\n');
}

/** Realised accuracy of one version: every run that forecast with it, over the actuals `monitor` received. */
export interface Realised {
  readonly runs: number;
  readonly points: number;
  readonly mase: number | null;
  readonly wape: number | null;
  readonly bias: number | null;
  readonly coverage: number | null;
  readonly last_monitored_at: string;
}

/** What `shelfcast models show` answers: every version of one series, with backtest and realised accuracy and drift. */
export interface SeriesVersions {
  readonly store_id: string;
  readonly sku: string;
  readonly live_version: number | null;
  readonly pinned: boolean;
  readonly versions: (VersionRow & { live: boolean; realised: Realised | null; drifted: { flagged_at: string; reason: string }[] })[];
}

export async function seriesVersionsOf(conn: DuckDBConnection, store: string, sku: string): Promise<SeriesVersions> {
  const history = await versionHistory(conn, store, sku);
  const live = await liveVersionOf(conn, store, sku);
  const where = `store_id = ${sqlString(store)} AND sku = ${sqlString(sku)}`;
  const realised = new Map((await queryRows<Realised & { version: number }>(conn, `
    SELECT model_version AS version, count(DISTINCT run_id)::INTEGER AS runs, sum(points)::INTEGER AS points,
      sum(mase * points) / sum(points) FILTER (mase IS NOT NULL) AS mase,
      CASE WHEN sum(abs_actual) > 0 THEN sum(abs_error) / sum(abs_actual) END AS wape,
      sum(bias * points) / sum(points) FILTER (bias IS NOT NULL) AS bias,
      sum(coverage * points) / sum(points) FILTER (coverage IS NOT NULL) AS coverage,
      strftime(max(monitored_at), '%Y-%m-%dT%H:%M:%SZ') AS last_monitored_at
    FROM accuracy WHERE ${where} AND model_version IS NOT NULL GROUP BY model_version`)).map(({ version, ...r }) => [version, r]));
  const drifted = await queryRows<{ version: number; flagged_at: string; reason: string }>(conn, `SELECT version, strftime(flagged_at, '%Y-%m-%dT%H:%M:%SZ') AS flagged_at, reason FROM drift_log WHERE ${where} ORDER BY flagged_at`);
  return {
    store_id: store, sku, live_version: live?.version ?? null, pinned: live?.pinned ?? false,
    versions: history.map((v) => ({ ...v, live: v.version === live?.version, realised: realised.get(v.version) ?? null, drifted: drifted.filter((d) => d.version === v.version).map(({ flagged_at, reason }) => ({ flagged_at, reason })) })),
  };
}

/** Text for `shelfcast models show`: every version of one series, the live one marked. */
export function formatSeriesVersions(s: SeriesVersions): string {
  if (s.versions.length === 0) return `no model versions for store ${s.store_id} sku ${s.sku}`;
  const lines = [`store ${s.store_id} sku ${s.sku}: live version ${s.live_version}${s.pinned ? ' (pinned)' : ''}`];
  for (const v of s.versions) {
    const mix = v.selection.models.map((m, i) => `${m} ${(100 * v.selection.weights[i]).toFixed(0)}%`).join(', ');
    lines.push(`${v.live ? '*' : ' '} v${v.version}  ${v.selected_at}  run ${v.run_id}  ${v.demand_class.padEnd(12)} backtest MASE ${score(finite(v.backtest_mase))}  ${v.label}`);
    lines.push(`      ${mix}`);
    const r = v.realised;
    lines.push(r
      ? `      realised MASE ${score(r.mase)}  WAPE ${r.wape === null ? '—' : `${(100 * r.wape).toFixed(1)}%`}  bias ${score(r.bias)}  coverage ${r.coverage === null ? '—' : `${(100 * r.coverage).toFixed(1)}%`}  (${r.points} points in ${r.runs} runs, last monitored ${r.last_monitored_at})`
      : '      realised: not monitored yet');
    for (const d of v.drifted) lines.push(`      drifted ${d.flagged_at}: ${d.reason}`);
  }
  lines.push('(backtest scores come from each version\'s own windows; realised accuracy over the actuals is what compares versions)');
  return lines.join('\n');
}
