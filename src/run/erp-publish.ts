import type { DuckDBConnection } from '@duckdb/node-api';
import type { Config } from '../config/schema.js';
import type { Calibration } from '../backtest/conformal.js';
import type { DictionaryEntry } from '../publish/dictionary.js';
import type { RunManifest } from '../publish/manifest.js';
import { aggregateCalibration, HierarchyPlan, reconcileAndWrite } from './hierarchy-stage.js';
import { writeLeadtime } from './leadtime-stage.js';
import { type SeriesTable, type ErpTables, writeOutputs } from './erp-stage.js';
import type { SeriesResult } from './publish-stage.js';
import type { RunPlan } from './run-plan.js';

export interface ErpFiles {
  /** Rows of hierarchy.csv and leadtime.csv, when written. */
  readonly rows: { readonly 'hierarchy.csv'?: number; readonly 'leadtime.csv'?: number };
  /** The output profiles' files (outputs/…), for manifest.files. */
  readonly members: readonly { path: string; rows: number | null }[];
  /** What SCHEMA.md says of the files above. */
  readonly entries: readonly DictionaryEntry[];
  readonly manifest: Pick<RunManifest, 'outputs' | 'hierarchy' | 'leadtime'>;
}

/**
 * The files of issue 18 once the series' forecasts are written (finish.ts): hierarchy.csv
 * (the aggregates, forecast after the series, reconciled with them), leadtime.csv and the
 * output profiles. Everything comes from the plan and the results, so a sharded run's publish
 * writes the same bytes as a run on one machine.
 */
export async function writeErpFiles(
  conn: DuckDBConnection, staging: string, plan: RunPlan, series: readonly SeriesResult[], aggregates: readonly SeriesResult[],
  calibration: Calibration, counts: Uint8Array | undefined, tables: ErpTables, seriesTable: SeriesTable,
): Promise<ErpFiles> {
  const cfg = plan.config as Config;
  const { dates, task } = plan;
  let reconciled: Awaited<ReturnType<typeof reconcileAndWrite>> | null = null;
  if (cfg.hierarchy.enabled) {
    // The hierarchy's structure only: its histories were summed, and forecast, before.
    const hp = new HierarchyPlan(cfg, plan.ledger, tables, 0);
    if (hp.series.length !== plan.erp.aggregates || aggregates.length !== plan.erp.aggregates) throw new Error(`hierarchy: ${aggregates.length} aggregates forecast, ${plan.erp.aggregates} planned, ${hp.series.length} in the tables (bug)`);
    reconciled = await reconcileAndWrite(staging, cfg, hp, series, calibration, counts, { results: aggregates, calibration: aggregateCalibration(aggregates, task, cfg.quantiles) }, tables, dates, task, seriesTable);
  }
  const leadtime = cfg.leadtime.days !== undefined ? await writeLeadtime(staging, cfg, plan.ledger, series, calibration, counts, tables, dates, plan.report.frequency.days) : null;
  const erp = await writeOutputs(conn, staging, cfg, reconciled?.table ?? seriesTable.table(tables, dates), plan.report.frequency.name === 'week');
  return {
    rows: { ...(reconciled ? { 'hierarchy.csv': reconciled.rows } : {}), ...(leadtime ? { 'leadtime.csv': leadtime.rows } : {}) },
    members: erp.outputs.flatMap((o) => o.files),
    entries: [...(reconciled ? [reconciled.entry] : []), ...(leadtime ? [leadtime.entry] : []), ...erp.entries],
    manifest: {
      ...(cfg.outputs.length ? { outputs: erp.outputs.map((o) => ({ name: o.name, profile: o.profile, format: o.format, layout: o.layout, levels: [...o.levels], files: o.files.map((f) => f.path) })) } : {}),
      ...(reconciled ? { hierarchy: reconciled.summary } : {}),
      ...(leadtime ? { leadtime: leadtime.summary } : {}),
    },
  };
}
