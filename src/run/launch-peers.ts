import type { DuckDBConnection } from '@duckdb/node-api';
import { exactSum, queryRows } from '../db/duckdb.js';
import { backtestMinimum } from '../forecast/series.js';
import { SERIES_KINDS, type SeriesTask } from '../forecast/types.js';
import { peerScaled } from '../models/peer-scaled.js';
import type { SeriesResult } from './publish-stage.js';
import type { LaunchPeers } from './run-plan.js';

// Launches (series too short for a backtest) forecast from their peers (models/peer-scaled.ts):
// found in `clean` before the forecast, applied to the results once every peer is forecast.

/**
 * From `clean` and the ingest's `series_span`. Sums are exact (DECIMAL) and added in peer order in JavaScript, so
 * the same data gives the same bits whatever DuckDB's threads do; null when no short series has
 * a peer.
 */
export async function findLaunchPeers(conn: DuckDBConnection, lastT: number, task: SeriesTask): Promise<LaunchPeers | null> {
  const need = backtestMinimum(task);
  if (!Number.isFinite(need)) return null;
  const rows = await queryRows<{ sid: number; peer: number; total: string; n: number }>(conn, `
    WITH short AS (SELECT sid, first_t FROM series_span WHERE ${lastT} - first_t + 1 < ${need}),
    pairs AS (
      SELECT sh.sid, sh.first_t, b.sid AS peer FROM short sh JOIN series a ON a.sid = sh.sid
      JOIN series b ON b.sku = a.sku AND b.sid <> a.sid JOIN series_span l ON l.sid = b.sid AND ${lastT} - l.first_t + 1 >= ${need}
      UNION ALL SELECT sid, first_t, sid FROM short),
    sums AS (
      SELECT p.sid, p.peer, ${exactSum('c.u', 6)}::VARCHAR AS total, count(*)::INTEGER AS n
      FROM pairs p JOIN clean c ON c.sid = p.peer AND c.t >= p.first_t
      WHERE NOT c.unobserved AND NOT c.closed GROUP BY p.sid, p.peer)
    SELECT sid::INTEGER AS sid, peer::INTEGER AS peer, total, n FROM sums ORDER BY sid, peer`);
  const sids: number[] = [];
  const level: number[] = [];
  const offsets: number[] = [0];
  const peers: number[] = [];
  const peerLevel: number[] = [];
  for (let r = 0; r < rows.length;) {
    const sid = rows[r].sid;
    let own = NaN;
    const mine: number[] = [];
    const means: number[] = [];
    for (; r < rows.length && rows[r].sid === sid; r++) {
      const mean = Number(rows[r].total) / rows[r].n;
      if (rows[r].peer === sid) own = mean;
      else { mine.push(rows[r].peer); means.push(mean); }
    }
    if (!(own >= 0) || !means.some((m) => m > 0)) continue;
    sids.push(sid);
    level.push(own);
    peers.push(...mine);
    peerLevel.push(...means);
    offsets.push(peers.length);
  }
  return sids.length > 0 ? { sids, level, offsets, peers, peerLevel } : null;
}

/**
 * Forecast the launches from their peers' forecasts, in place: the point forecast, its parts
 * (each scaled with it, so they still add up), the spread (the same relative width the
 * series' own forecast claimed; where that was 0, its peers'), the label `peers` and the kind
 * cold-start. `series` is in series order, index = id. Returns how many were forecast so.
 */
export function forecastLaunches(series: readonly SeriesResult[], launch: LaunchPeers, h: number): number {
  const coldStart = SERIES_KINDS.indexOf('cold-start');
  const peerSum = new Float64Array(h);
  const peerSd = new Float64Array(h);
  const openLevel = new Float64Array(h);
  let done = 0;
  launch.sids.forEach((sid, k) => {
    const own = series[sid];
    if (!own || own.sid !== sid) throw new Error(`launch peers: series ${sid} is not in place (bug)`);
    peerSum.fill(0);
    peerSd.fill(0);
    openLevel.fill(0);
    for (let j = launch.offsets[k]; j < launch.offsets[k + 1]; j++) {
      const p = series[launch.peers[j]];
      for (let s = 0; s < h; s++) {
        if (p.result.closed[p.i * h + s]) continue;
        peerSum[s] += p.result.point[p.i * h + s];
        peerSd[s] += p.result.sd[p.i * h + s];
        openLevel[s] += launch.peerLevel[j];
      }
    }
    const { result, i } = own;
    const point = result.point.subarray(i * h, (i + 1) * h);
    const next = peerScaled(launch.level[k], peerSum, openLevel, result.closed.subarray(i * h, (i + 1) * h));
    const parts = result.parts;
    for (let s = 0; s < h; s++) {
      const was = point[s];
      const ratio = was > 0 ? next[s] / was : NaN;
      const sd = i * h + s;
      result.sd[sd] = Number.isFinite(ratio) ? result.sd[sd] * ratio : peerSum[s] > 0 ? (next[s] * peerSd[s]) / peerSum[s] : 0;
      if (parts) {
        for (let e = parts.offsets[i]; e < parts.offsets[i + 1]; e++) {
          // Where the series' own forecast was 0 its parts say nothing: the whole forecast is
          // level/trend (which takes what the other parts leave), and each member forecasts it.
          const v = e * h + s;
          parts.values[v] = Number.isFinite(ratio) ? parts.values[v] * ratio : parts.keys[e].startsWith('model:') ? next[s] : 0;
        }
      }
      point[s] = next[s];
    }
    let label = result.labels.indexOf('peers');
    if (label < 0) { label = result.labels.length; result.labels.push('peers'); }
    result.labelIds[i] = label;
    result.kinds[i] = coldStart;
    done++;
  });
  return done;
}
