import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Config } from '../config/schema.js';
import { UserError } from '../errors.js';
import { openDuckDb, queryRows, sqlString } from '../db/duckdb.js';
import { openSource } from '../ingest/source.js';
import { sha256File } from '../ingest/fingerprint.js';
import { isoAddDays } from '../ingest/dates.js';
import { runDir } from '../publish/atomic.js';
import { artifactPath, textColumns } from '../publish/artifacts.js';
import { readPublishedCsv } from '../publish/csv-sql.js';
import { RunStore } from '../publish/run-store.js';
import { liveVersionOf, runInputPath, STATE_FILE, versionHistory, withState, type VersionRow } from '../registry/state.js';
import { networkDir, runNetwork } from '../registry/networks.js';

/** Everything that made one forecast number: run, model version, calendar, backtest, input rows. */
export interface Explanation {
  readonly run: { run_id: string; kind: string; finished_at: string; code_version: string; config_hash: string; input: { path: string; sha256: string } };
  readonly forecast: Record<string, unknown>;
  readonly series: Record<string, string> | null;
  readonly version: VersionRow | null;
  /** The version the series runs on now: after a pin or a retrain, not the one of this run. */
  readonly live: { version: number; pinned: boolean; pinned_at: string | null } | null;
  /** The global network the forecast used, if any: its version, folder, and whether this run trained it. */
  readonly network: { readonly version: string; readonly dir: string; readonly trained: boolean } | null;
  readonly events: { date: string; name: string; kind: string }[];
  readonly input: { readonly file: string; readonly unchanged: boolean; readonly rowLabel: string; readonly rows: Record<string, unknown>[] };
  /** The forecast in parts that add up to it, and each combined model's weighted forecast (components.parquet; empty for runs before it). */
  readonly components: { name: string; kind: string; units: number; weight: number | null }[];
}

export async function explainForecast(cfg: Config, store: string, sku: string, date: string, run = 'latest'): Promise<Explanation> {
  const out = resolve(cfg.out);
  const runs = new RunStore(out);
  const runId = run === 'latest' ? runs.latestId() : run;
  if (!runId) throw new UserError(`no published run in ${out}`);
  const manifest = runs.manifest(runId);
  if (!manifest) throw new UserError(`no run ${runId} in ${out}`);
  const dir = runDir(out, runId);
  const conn = await openDuckDb();
  try {
    const forecast = await queryRows(conn, `SELECT * FROM read_parquet(${sqlString(artifactPath(dir, 'forecasts.parquet'))}) WHERE store_id = ${sqlString(store)} AND sku = ${sqlString(sku)} AND date = DATE ${sqlString(date)}`);
    if (forecast.length === 0) throw new UserError(`run ${runId} has no forecast for store ${store} sku ${sku} on ${date} (it covers ${manifest.data.target_dates.first} to ${manifest.data.target_dates.last})`);
    const series = await queryRows<Record<string, string>>(conn, `SELECT * FROM ${readPublishedCsv(artifactPath(dir, 'series.csv'), textColumns('series.csv'))} WHERE store_id = ${sqlString(store)} AND sku = ${sqlString(sku)}`);
    const window = manifest.data.frequency === 'week' ? 7 : 3;
    const events = existsSync(artifactPath(dir, 'events.csv'))
      ? await queryRows<{ date: string; name: string; kind: string }>(conn, `SELECT strftime(date::DATE, '%Y-%m-%d') AS date, name, kind FROM ${readPublishedCsv(artifactPath(dir, 'events.csv'), textColumns('events.csv'))}
          WHERE store_id = ${sqlString(store)} AND date::DATE BETWEEN DATE ${sqlString(isoAddDays(date, -window))} AND DATE ${sqlString(isoAddDays(date, window))} ORDER BY date`)
      : [];
    const components = existsSync(artifactPath(dir, 'components.parquet'))
      ? await queryRows<{ name: string; kind: string; units: number; weight: number | null }>(conn, `SELECT component AS name, kind, units, weight FROM read_parquet(${sqlString(artifactPath(dir, 'components.parquet'))})
          WHERE store_id = ${sqlString(store)} AND sku = ${sqlString(sku)} AND date = DATE ${sqlString(date)} ORDER BY kind = 'model', weight DESC NULLS FIRST, abs(units) DESC`)
      : [];
    const versionNo = Number(forecast[0].model_version);
    const registered = existsSync(join(out, STATE_FILE))
      ? await withState(out, async (db) => ({ versions: await versionHistory(db, store, sku), inputPath: await runInputPath(db, runId), live: await liveVersionOf(db, store, sku), network: await runNetwork(db, runId) }))
      : null;
    const version = registered?.versions.find((v) => v.version === versionNo) ?? null;
    // The network a series' forecast ran: the one its registered version names (a rollback may
    // name an older one than the run's), else the run's when series.csv says it used one.
    const named = version?.selection.labels?.find((l) => l.startsWith('global-'));
    const usedGlobal = named !== undefined || /global/.test(String(series[0]?.model ?? ''));
    const runNet = registered?.network ?? null;
    const netVersion = named ?? runNet?.version;
    const network = usedGlobal && netVersion ? { version: netVersion, dir: networkDir(out, netVersion), trained: runNet !== null && runNet.version === netVersion && runNet.trained } : null;
    // The rows the forecast was fitted on, read back from the source with their row numbers. The
    // manifest names the input without its folder; the registry, or else the config, has the path.
    const inputPath = registered?.inputPath ?? (cfg.input.path ? resolve(cfg.input.path) : manifest.input.path);
    let unchanged = false;
    let rows: Record<string, unknown>[] = [];
    let rowLabel = 'row';
    if (existsSync(inputPath)) {
      unchanged = (await sha256File(inputPath)) === manifest.input.sha256;
      const source = openSource({ ...cfg.input, ...manifest.config.input, columns: manifest.input.columns, path: inputPath });
      rowLabel = (await source.register(conn)).rowLabel;
      rows = await source.readRows(conn, store, sku);
    }
    return {
      run: { run_id: runId, kind: manifest.kind, finished_at: manifest.finished_at, code_version: manifest.code_version, config_hash: manifest.config_hash, input: { path: inputPath, sha256: manifest.input.sha256 } },
      forecast: forecast[0],
      series: series[0] ?? null,
      version,
      live: registered?.live ?? null,
      network,
      events,
      input: { file: inputPath, unchanged, rowLabel, rows },
      components,
    };
  } finally {
    conn.closeSync();
  }
}

/** The explanation as text for a terminal. */
export function formatExplanation(e: Explanation, maxRows = 20): string {
  const f = e.forecast;
  const quantiles = Object.keys(f).filter((k) => /^p\d/.test(k)).map((k) => `${k} ${f[k]}`).join(', ');
  const lines = [
    `forecast ${f.store_id} / ${f.sku} on ${f.date instanceof Date ? f.date.toISOString().slice(0, 10) : String(f.date)} (step ${f.step}): ${f.forecast} [${quantiles}]`,
    `run ${e.run.run_id} (${e.run.kind}, finished ${e.run.finished_at}), code ${e.run.code_version}, config ${e.run.config_hash.slice(0, 12)}`,
    `model ${f.model}, version ${f.model_version ?? '—'}`,
  ];
  if (e.version) {
    lines.push(`  selected ${e.version.selected_at} by run ${e.version.run_id}; demand class ${e.version.demand_class}; backtest MASE ${e.version.backtest_mase?.toFixed(3) ?? '—'}`);
    e.version.selection.models.forEach((m, i) => lines.push(`  ${m} weight ${e.version!.selection.weights[i].toFixed(3)} params ${JSON.stringify(e.version!.selection.params[i])}`));
  } else if (e.series) {
    lines.push(`  ${e.series.selection}; backtest MASE ${e.series.backtest_mase || '—'}${e.series.fallback ? `; fallback: ${e.series.fallback}` : ''}`);
  }
  if (e.network) lines.push(`network ${e.network.version} (${e.network.dir})${e.network.trained ? ', trained by this run' : ', registered earlier: this run did not train it'}`);
  if (e.live && e.live.version !== (f.model_version === null ? null : Number(f.model_version))) {
    lines.push(`live now: version ${e.live.version}${e.live.pinned ? ` (pinned ${e.live.pinned_at})` : ''}; the next run forecasts with it`);
  } else if (e.live?.pinned) lines.push(`live now: this version, pinned ${e.live.pinned_at}`);
  const parts = e.components.filter((c) => c.kind !== 'model');
  const total = Number(f.forecast);
  const share = (u: number): string => (total > 0 ? ` (${((100 * u) / total).toFixed(1)}%)` : '');
  if (parts.length) {
    lines.push(`why ${f.forecast}: ${parts.map((c) => `${c.name} ${c.units >= 0 && c !== parts[0] ? '+' : ''}${c.units}${share(c.units)}`).join(', ')}`);
    const models = e.components.filter((c) => c.kind === 'model');
    if (models.length > 1) lines.push(`  combination: ${models.map((c) => `${c.name} ${(100 * (c.weight ?? 0)).toFixed(1)}% → ${c.units}`).join(', ')}`);
  }
  if (f.override !== null && f.override !== undefined) lines.push(`override #${f.override}: final ${f.forecast_final} (statistical ${f.forecast}); shelfcast overrides list shows who and why`);
  lines.push(e.events.length ? `calendar: ${e.events.map((x) => `${x.date} ${x.name} (${x.kind})`).join('; ')}` : 'calendar: no holiday or event near this date');
  const n = e.input.rows.length;
  lines.push(`input ${e.input.file}${e.input.unchanged ? '' : ' (CHANGED since the run: rows below are from the file as it is now)'}: ${n} rows for this series`);
  const show = n > maxRows ? [...e.input.rows.slice(0, 3), null, ...e.input.rows.slice(n - (maxRows - 3))] : e.input.rows;
  for (const r of show) lines.push(r ? `  ${Object.entries(r).map(([k, v]) => `${k}=${v instanceof Date ? v.toISOString().slice(0, 10) : v}`).join(' ')}` : `  … ${n - maxRows} more …`);
  return lines.join('\n');
}
