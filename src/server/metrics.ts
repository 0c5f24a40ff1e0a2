import type { RunManifest as Manifest } from '../publish/manifest.js';

/**
 * Prometheus text exposition (format 0.0.4): what the runs did, read from their manifests on
 * every scrape, and what the server has answered since it started.
 */

const escapeLabel = (v: string) => v.replaceAll('\\', '\\\\').replaceAll('"', '\\"').replaceAll('\n', '\\n');
const labels = (l: Record<string, string>) => `{${Object.entries(l).map(([k, v]) => `${k}="${escapeLabel(v)}"`).join(',')}}`;

class Family {
  readonly samples: string[] = [];
  constructor(readonly name: string, readonly type: 'gauge' | 'counter', readonly help: string) {}
  add(value: number, l: Record<string, string> = {}): this {
    this.samples.push(`${this.name}${Object.keys(l).length ? labels(l) : ''} ${value}`);
    return this;
  }
  render(): string {
    return [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} ${this.type}`, ...this.samples].join('\n');
  }
}

/** Requests answered, by method, route pattern and status, and the time spent on them. */
export class RequestMetrics {
  private readonly counts = new Map<string, { labels: Record<string, string>; n: number; seconds: number }>();

  record(method: string, route: string, status: number, seconds: number): void {
    const l = { method, route, status: String(status) };
    const k = JSON.stringify(l);
    const entry = this.counts.get(k) ?? { labels: l, n: 0, seconds: 0 };
    entry.n += 1;
    entry.seconds += seconds;
    this.counts.set(k, entry);
  }

  families(): Family[] {
    const total = new Family('shelfcast_http_requests_total', 'counter', 'HTTP requests answered, by method, route and status.');
    const secs = new Family('shelfcast_http_request_seconds_total', 'counter', 'Seconds spent answering HTTP requests, by method, route and status.');
    for (const e of this.counts.values()) {
      total.add(e.n, e.labels);
      secs.add(Number(e.seconds.toFixed(6)), e.labels);
    }
    return [total, secs];
  }
}

/** Gauges describing the published runs and the one `latest` points at. */
function runFamilies(runs: readonly Manifest[], latest: Manifest | null): Family[] {
  const count = new Family('shelfcast_runs', 'gauge', 'Runs published in the output folder.').add(runs.length);
  if (!latest) return [count];
  const l = { run_id: latest.run_id };
  const stages = new Family('shelfcast_latest_run_stage_seconds', 'gauge', 'Seconds per stage of the latest run.');
  for (const [stage, s] of Object.entries(latest.stage_seconds ?? {})) stages.add(s, { ...l, stage });
  return [
    count,
    new Family('shelfcast_latest_run_info', 'gauge', 'The latest run and the code that made it.').add(1, { ...l, code_version: latest.code_version }),
    new Family('shelfcast_latest_run_finished_timestamp_seconds', 'gauge', 'When the latest run finished (Unix time).').add(Date.parse(latest.finished_at) / 1000, l),
    new Family('shelfcast_latest_run_duration_seconds', 'gauge', 'Wall-clock seconds of the latest run.').add(latest.duration_s, l),
    stages,
    new Family('shelfcast_latest_run_series', 'gauge', 'Series forecast by the latest run.').add(latest.data.series, l),
    new Family('shelfcast_latest_run_forecast_rows', 'gauge', 'Forecast rows published by the latest run.').add(latest.rows.forecasts, l),
    new Family('shelfcast_latest_run_rejected_rows', 'gauge', 'Input rows the latest run rejected.').add(latest.rows.rejected, l),
  ];
}

export function renderMetrics(runs: readonly Manifest[], latest: Manifest | null, requests: RequestMetrics): string {
  return [...runFamilies(runs, latest), ...requests.families()].map((f) => f.render()).join('\n') + '\n';
}
