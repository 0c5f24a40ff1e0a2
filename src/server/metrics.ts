import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import type { RunManifest as Manifest } from '../publish/manifest.js';

/**
 * The server's Prometheus metrics (prom-client, one registry per server): what the published
 * runs did, read from their manifests on every scrape, what the server has answered since it
 * started, and the process's own memory, CPU and event-loop figures.
 */
export class RequestMetrics {
  private readonly registry = new Registry();
  private readonly requests = new Counter({ name: 'shelfcast_http_requests_total', help: 'HTTP requests answered, by method, route and status.', labelNames: ['method', 'route', 'status'], registers: [this.registry] });
  private readonly seconds = new Counter({ name: 'shelfcast_http_request_seconds_total', help: 'Seconds spent answering HTTP requests, by method, route and status.', labelNames: ['method', 'route', 'status'], registers: [this.registry] });
  private readonly runs = this.gauge('shelfcast_runs', 'Runs published in the output folder.', []);
  private readonly latest = {
    info: this.gauge('shelfcast_latest_run_info', 'The latest run and the code that made it.', ['run_id', 'code_version']),
    finished: this.gauge('shelfcast_latest_run_finished_timestamp_seconds', 'When the latest run finished (Unix time).'),
    duration: this.gauge('shelfcast_latest_run_duration_seconds', 'Wall-clock seconds of the latest run.'),
    stages: this.gauge('shelfcast_latest_run_stage_seconds', 'Seconds per stage of the latest run.', ['run_id', 'stage']),
    series: this.gauge('shelfcast_latest_run_series', 'Series forecast by the latest run.'),
    rows: this.gauge('shelfcast_latest_run_forecast_rows', 'Forecast rows published by the latest run.'),
    rejected: this.gauge('shelfcast_latest_run_rejected_rows', 'Input rows the latest run rejected.'),
  };

  constructor() {
    collectDefaultMetrics({ register: this.registry });
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  record(method: string, route: string, status: number, seconds: number): void {
    const l = { method, route, status: String(status) };
    this.requests.inc(l);
    this.seconds.inc(l, seconds);
  }

  /** The exposition text, with the run gauges set from the manifests as they are now. */
  async render(runs: readonly Manifest[], latest: Manifest | null): Promise<string> {
    this.runs.set(runs.length);
    // A run that is no longer latest must not linger as a stale labelled sample.
    for (const g of Object.values(this.latest)) g.reset();
    if (latest) {
      const l = { run_id: latest.run_id };
      this.latest.info.set({ ...l, code_version: latest.code_version }, 1);
      this.latest.finished.set(l, Date.parse(latest.finished_at) / 1000);
      this.latest.duration.set(l, latest.duration_s);
      for (const [stage, s] of Object.entries(latest.stage_seconds ?? {})) this.latest.stages.set({ ...l, stage }, s);
      this.latest.series.set(l, latest.data.series);
      this.latest.rows.set(l, latest.rows.forecasts);
      this.latest.rejected.set(l, latest.rows.rejected);
    }
    return this.registry.metrics();
  }

  private gauge(name: string, help: string, labelNames: string[] = ['run_id']): Gauge {
    return new Gauge({ name, help, labelNames, registers: [this.registry] });
  }
}
