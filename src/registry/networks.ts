import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import { queryRows, sqlString } from '../db/duckdb.js';
import type { GlobalNetwork } from '../models/global/network.js';
import type { GlobalLayout, NetworkShape } from '../models/global/layout.js';

/**
 * Global networks as registry artifacts: each trained network is a folder
 * OUT/models/<version>/ holding network.json (layout, shape, how it was trained, the weights'
 * checksum) and weights.bin (float32, little-endian, the tensors of layout.ts's weightShapes one
 * after the other), named by a hash of its content, so a rerun that trains the same network
 * writes the same folder. The registry (state.duckdb) lists the networks and which run used
 * which; the model versions of series name the network in their selection's labels.
 */
export const MODELS_DIR = 'models';

export const NETWORKS_SCHEMA = `
CREATE TABLE IF NOT EXISTS networks (version VARCHAR PRIMARY KEY, run_id VARCHAR, created_at TIMESTAMP, dir VARCHAR, sha256 VARCHAR, training JSON);
CREATE TABLE IF NOT EXISTS run_networks (run_id VARCHAR, version VARCHAR, trained BOOLEAN);
`;

/** How a network was trained, kept beside it (and in the registry) for `explain` and the manifest. */
export interface TrainingRecord {
  /** `final`: forecasts from the data end; `backtest`: the backtest windows (trained before them). */
  readonly role: 'final' | 'backtest';
  /** Of a final network: the network its retrain scored the backtest windows with. */
  readonly backtest_network?: string;
  readonly backend: string;
  readonly cutoff_date: string;
  readonly rows: number;
  readonly origins: number;
  readonly series: number;
  readonly epochs: number;
  readonly seed: number;
  readonly losses: readonly number[];
}

interface NetworkFile {
  readonly version: string;
  readonly layout: GlobalLayout;
  readonly shape: NetworkShape;
  readonly weights: { readonly file: string; readonly count: number; readonly sha256: string };
  readonly training: TrainingRecord;
}

const bytesOf = (w: Float32Array): Buffer => Buffer.from(w.buffer, w.byteOffset, w.byteLength);

/** The version a network's content gives it. */
export function networkVersion(layout: GlobalLayout, shape: NetworkShape, weights: Float32Array): string {
  const h = createHash('sha256').update(JSON.stringify({ layout, shape })).update(bytesOf(weights));
  return `global-${h.digest('hex').slice(0, 12)}`;
}

export function networkDir(out: string, version: string): string {
  return join(out, MODELS_DIR, version);
}

/** Write a network's folder (written aside and renamed into place; kept if it is already there). */
export function writeNetwork(out: string, net: GlobalNetwork, training: TrainingRecord): string {
  const dir = networkDir(out, net.version);
  if (existsSync(join(dir, 'network.json'))) return dir;
  const tmp = `${dir}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  const bytes = bytesOf(net.weights);
  writeFileSync(join(tmp, 'weights.bin'), bytes);
  const file: NetworkFile = { version: net.version, layout: net.layout, shape: net.shape, weights: { file: 'weights.bin', count: net.weights.length, sha256: createHash('sha256').update(bytes).digest('hex') }, training };
  writeFileSync(join(tmp, 'network.json'), JSON.stringify(file, null, 2) + '\n');
  rmSync(dir, { recursive: true, force: true });
  renameSync(tmp, dir);
  return dir;
}

/** Read a network back; throws naming the folder when it is missing or its weights do not match their checksum. */
export function readNetwork(dir: string): { network: GlobalNetwork; training: TrainingRecord } {
  const file = JSON.parse(readFileSync(join(dir, 'network.json'), 'utf8')) as NetworkFile;
  const bytes = readFileSync(join(dir, file.weights.file));
  if (createHash('sha256').update(bytes).digest('hex') !== file.weights.sha256) throw new Error(`${dir}: weights.bin does not match the checksum in network.json`);
  const weights = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
  return { network: { version: file.version, layout: file.layout, shape: file.shape, weights }, training: file.training };
}

export interface RegisteredNetwork {
  readonly version: string;
  readonly run_id: string;
  readonly created_at: string;
  readonly dir: string;
  readonly role: 'final' | 'backtest';
  readonly backtest_network: string | null;
}

/** Every registered network, newest first. */
export async function registeredNetworks(conn: DuckDBConnection): Promise<RegisteredNetwork[]> {
  await conn.run(NETWORKS_SCHEMA);
  return queryRows<RegisteredNetwork>(conn, `SELECT version, run_id, strftime(created_at, '%Y-%m-%dT%H:%M:%SZ') AS created_at, dir, training->>'role' AS role, training->>'backtest_network' AS backtest_network FROM networks ORDER BY created_at DESC, version`);
}

export async function recordNetwork(conn: DuckDBConnection, runId: string, at: string, version: string, dir: string, training: TrainingRecord): Promise<void> {
  await conn.run(NETWORKS_SCHEMA);
  const sha = createHash('sha256').update(readFileSync(join(dir, 'weights.bin'))).digest('hex');
  await conn.run(`INSERT OR IGNORE INTO networks VALUES (${sqlString(version)}, ${sqlString(runId)}, ${sqlString(at)}::TIMESTAMP, ${sqlString(dir)}, ${sqlString(sha)}, ${sqlString(JSON.stringify(training))}::JSON)`);
}

/** Which network a run forecast with, and whether it trained it. */
export async function recordRunNetwork(conn: DuckDBConnection, runId: string, version: string, trained: boolean): Promise<void> {
  await conn.run(NETWORKS_SCHEMA);
  await conn.run(`INSERT INTO run_networks VALUES (${sqlString(runId)}, ${sqlString(version)}, ${trained})`);
}

/** The network of a run (null: it had none). */
export async function runNetwork(conn: DuckDBConnection, runId: string): Promise<{ version: string; trained: boolean; dir: string | null } | null> {
  await conn.run(NETWORKS_SCHEMA);
  const rows = await queryRows<{ version: string; trained: boolean; dir: string | null }>(conn, `SELECT r.version, r.trained, n.dir FROM run_networks r LEFT JOIN networks n USING (version) WHERE r.run_id = ${sqlString(runId)} LIMIT 1`);
  return rows[0] ?? null;
}
