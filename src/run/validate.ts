import { resolve } from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import type { Config } from '../config/schema.js';
import { UserError } from '../errors.js';
import { openDuckDb } from '../db/duckdb.js';
import { openIngest, type QualityReport } from '../ingest/index.js';
import type { RegisteredSource } from '../ingest/source.js';
import { UnusableInput, rejectShareProblem } from '../ingest/quality.js';
import { writeRejects } from '../ingest/rejects.js';
import { todayIso } from '../ingest/dates.js';

/** Apply the quality rules only: the same checks `run` does before it fits anything. */
export async function validateInput(cfg: Config, rejectsFile?: string, now = new Date()): Promise<{ report: QualityReport; ok: boolean; reason: string }> {
  const conn = await openDuckDb(':memory:', { memory_limit: cfg.memoryLimit });
  try {
    const { registered: source, ingested } = await openIngest(conn, cfg, todayIso(now), { order: 'any' }).catch(async (e: unknown) => {
      // No usable row: the rejects still say why, row by row.
      if (!(e instanceof UnusableInput)) throw e;
      if (!rejectsFile) throw new UserError(`${e.message}; pass --rejects FILE to list every row and why`);
      await writeRejectsTo(conn, e.source, resolve(rejectsFile));
      throw new UserError(`${e.message}; see ${resolve(rejectsFile)}`);
    });
    if (rejectsFile) await writeRejectsTo(conn, source, resolve(rejectsFile));
    const problem = rejectShareProblem(ingested.report, cfg.quality.maxRejectedShare);
    return { report: ingested.report, ok: problem === null, reason: problem ?? '' };
  } finally {
    conn.closeSync();
  }
}

/** `--rejects` names a file of the user's choosing: a folder that is missing or not writable is their input, not a bug. */
async function writeRejectsTo(conn: DuckDBConnection, source: RegisteredSource, file: string): Promise<void> {
  try {
    await writeRejects(conn, source, file);
  } catch (e) {
    if (e instanceof Error && /^IO Error: Cannot open file/.test(e.message)) throw new UserError(`--rejects ${file}: cannot write it (${e.message.split('\n')[0]})`);
    throw e;
  }
}
