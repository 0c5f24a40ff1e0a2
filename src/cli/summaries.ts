import type { RunSummary } from '../run/run.js';
import { qualityWarnings, type QualityReport } from '../ingest/quality.js';

/** The text answers of `run`, `retrain` and `validate` (their JSON is in answers.ts). */

/**
 * The models most series use, as many of the top `top` as fit in about 90 characters (at
 * least one), then "… N more": the whole list is in manifest.json (series_per_model).
 */
export function topModels(perModel: Record<string, number>, top = 3, width = 90): string {
  const sorted = Object.entries(perModel).sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
  const shown: string[] = [];
  for (const [m, n] of sorted.slice(0, top)) {
    const item = `${m} ${n}`;
    if (shown.length > 0 && [...shown, item].join(', ').length > width) break;
    shown.push(item);
  }
  const rest = sorted.slice(shown.length);
  if (rest.length === 0) return shown.join(', ');
  return `${shown.join(', ')}, … ${rest.length} more (${rest.reduce((a, [, n]) => a + n, 0)} series; manifest.json)`;
}

export function formatRunSummary(s: RunSummary, finished: string): string {
  const models = topModels(s.seriesPerModel);
  const decisions = Object.entries(s.decisions).filter(([, n]) => n > 0).map(([d, n]) => `${d} ${n}`).join(', ');
  return (
    `${s.kind} ${s.runId}: ${s.series} series, ${s.rows} forecast rows in ${s.seconds.toFixed(1)} s (${(s.series / s.seconds).toFixed(0)} series/s)\n` +
    `  model versions: ${decisions}\n` +
    `  models: ${models}\n` +
    `  calendars: ${s.calendars}\n` +
    (s.fallbacks ? `  fallbacks: ${s.fallbacks} series (listed in manifest.json)\n` : '') +
    (s.rowsRejected ? `  rejected rows: ${s.rowsRejected} (rejects.csv)\n` : '') +
    s.warnings.map((w) => `  warning: ${w}\n`).join('') +
    `  files: ${s.dir}\n` +
    `  finished: ${finished}\n`
  );
}

/** `validate` for a person: what was read, what the rules caught, what a run would say. */
export function formatValidation(q: QualityReport, problem: string | null): string {
  const caught = Object.entries(q.rules).filter(([, r]) => r.rows > 0).map(([name, r]) => `  ${name}: ${r.rows} rows ${r.action}\n`).join('');
  return (
    `${q.source}: ${q.rows_read} rows read, ${q.rows_accepted} accepted, ${q.rows_rejected} rejected, ${q.rows_corrected} corrected; ` +
    `${q.series} series, ${q.frequency.name === 'day' ? 'daily' : 'weekly'} ${q.first_date} → ${q.last_date}\n` +
    `  dates: ${q.dates}\n` + caught +
    qualityWarnings(q).map((w) => `  warning: ${w}\n`).join('') +
    (problem ? '' : '  a run would publish this data (--json for the full report)\n')
  );
}
