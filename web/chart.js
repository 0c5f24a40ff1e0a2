// The planner's charts, drawn with uPlot (served from the package's node_modules, no CDN, no
// build): the series chart (every period of history at its real value, zeros drawn at 0,
// unobserved periods shaded by why, forecast, p10–p90 band, the final forecast where a planner
// overrode it, the forecast origin at the data's last date, calendar markers), the components
// panel and the past-forecasts chart. Axis labels are shortened (k, M) and the axis is sized to
// its widest label, so 60,000 and 1,250,000 read in full. Each chart is kept on its container
// (`container.chart`) so the page's tests can read what was drawn.
import uPlot from './uPlot.esm.js';

const DAY = 86400;
const css = (name) => getComputedStyle(document.documentElement).getPropertyValue(name).trim();
const FONT = '12px system-ui, -apple-system, "Segoe UI", Roboto, sans-serif';
export const ts = (iso) => Date.parse(`${iso}T00:00:00Z`) / 1000;
const iso = (t) => new Date(t * 1000).toISOString().slice(0, 10);

/** Units as a planner reads them: 950, 12.5k, 60k, 1.25M — short enough to fit, never cut. */
/** Trailing zeros of the decimals only ("1.50" → "1.5", "2.0" → "2"), never of the integer ("500" stays). */
const trim = (s) => (s.includes('.') ? s.replace(/0+$/, '').replace(/\.$/, '') : s);

export function formatUnits(v, step = 0) {
  if (v === null || v === undefined || !Number.isFinite(v)) return '';
  const a = Math.abs(v);
  const digits = (unit) => Math.max(0, Math.min(3, -Math.floor(Math.log10(Math.max(step, 1e-9) / unit) + 1e-9)));
  if (a >= 1e6) return `${trim((v / 1e6).toFixed(step ? digits(1e6) : 2))}M`;
  if (a >= 1e4) return `${trim((v / 1e3).toFixed(step ? digits(1e3) : 1))}k`;
  if (a >= 100 || Number.isInteger(v)) return Math.round(v).toLocaleString('en-US');
  return trim(v.toFixed(step && step < 1 ? Math.min(3, -Math.floor(Math.log10(step))) : 1));
}

let measurer;
function textWidth(s) {
  measurer ??= document.createElement('canvas').getContext('2d');
  measurer.font = FONT;
  return measurer.measureText(s).width;
}

/** A y axis whose labels are k/M-formatted and whose width is that of its widest label. */
function unitsAxis(extra = {}) {
  return {
    font: FONT,
    stroke: css('--muted'),
    grid: { stroke: css('--line'), width: 1 },
    ticks: { show: false },
    gap: 6,
    values: (u, splits) => {
      const step = splits.length > 1 ? Math.abs(splits[1] - splits[0]) : 0;
      u.splits = splits;
      return splits.map((v) => formatUnits(v, step));
    },
    size(u, values) {
      const widest = Math.max(0, ...(values ?? []).map(textWidth));
      u.fitted = { labels: values ?? [], splits: u.splits ?? [], widest, size: Math.ceil(widest + 14) };
      return Math.ceil(widest + 14);
    },
    ...extra,
  };
}

function dateAxis() {
  return { font: FONT, stroke: css('--muted'), grid: { show: false }, ticks: { stroke: css('--line') }, space: 60 };
}

/** Shaded bands for history periods that were not observed, behind the lines. */
function stateBands(periods, stepSeconds) {
  const colors = { stockout: css('--stockout-band'), unobserved: css('--unobserved-band'), closed: css('--closed-band') };
  return (u) => {
    const { ctx } = u;
    const { top, height } = u.bbox;
    ctx.save();
    for (const p of periods) {
      const x0 = u.valToPos(p.t - stepSeconds / 2, 'x', true);
      const x1 = u.valToPos(p.t + stepSeconds / 2, 'x', true);
      ctx.fillStyle = colors[p.state];
      ctx.fillRect(x0, top, Math.max(1, x1 - x0), height);
    }
    ctx.restore();
  };
}

/** Dashed vertical lines: the forecast origin and calendar events. */
function markers(lines) {
  return (u) => {
    const { ctx } = u;
    const { top, height } = u.bbox;
    ctx.save();
    for (const m of lines) {
      const x = u.valToPos(m.t, 'x', true);
      if (x < u.bbox.left || x > u.bbox.left + u.bbox.width) continue;
      ctx.strokeStyle = m.color;
      ctx.lineWidth = m.width ?? 1;
      ctx.setLineDash(m.dash ?? [3, 3]);
      ctx.beginPath();
      ctx.moveTo(x, top);
      ctx.lineTo(x, top + height);
      ctx.stroke();
      if (m.flag) {
        ctx.setLineDash([]);
        ctx.fillStyle = m.color;
        ctx.beginPath();
        ctx.moveTo(x - 4 * devicePixelRatio, top);
        ctx.lineTo(x + 4 * devicePixelRatio, top);
        ctx.lineTo(x, top + 7 * devicePixelRatio);
        ctx.fill();
      }
    }
    ctx.restore();
  };
}

function size(container, ratio = 0.42, min = 240, max = 420) {
  const width = Math.max(280, container.clientWidth);
  return { width, height: Math.round(Math.min(max, Math.max(min, width * ratio))) };
}

function mount(container, opts, data) {
  container.chart?.destroy();
  container.replaceChildren();
  const chart = new uPlot(opts, data, container);
  container.chart = chart;
  return chart;
}

/**
 * The series chart. `d`: { history: [{date, units, state}], forecast: [{date, forecast, forecast_final, override, …}],
 * lower, upper (band columns), events: [{date, name, kind}], origin (the data's last date), stepDays }.
 */
export function drawSeriesChart(container, d) {
  const step = d.stepDays * DAY;
  const times = [...new Set([...d.history.map((p) => p.date), ...d.forecast.map((f) => f.date)])].sort();
  if (times.length === 0) {
    container.chart?.destroy();
    container.chart = null;
    container.textContent = 'This series has no history or forecast rows.';
    return null;
  }
  const at = new Map(times.map((t, i) => [t, i]));
  const n = times.length;
  const col = () => new Array(n).fill(null);
  const sold = col(), zero = col(), fc = col(), lo = col(), hi = col(), fin = col();
  const shaded = [];
  for (const p of d.history) {
    const i = at.get(p.date);
    const state = p.state ?? (p.stockout ? 'stockout' : 'observed');
    // Observed and zero-filled periods are drawn at their value, 0 at 0; unobserved ones break the line.
    if (p.units !== null && state !== 'unobserved') sold[i] = p.units;
    if (p.units === 0 && (state === 'observed' || state === 'gap')) zero[i] = 0;
    if (state === 'stockout' || state === 'unobserved' || state === 'closed') shaded.push({ t: ts(p.date), state });
  }
  let overridden = false;
  for (const f of d.forecast) {
    const i = at.get(f.date);
    fc[i] = f.forecast;
    if (d.lower && d.upper) { lo[i] = f[d.lower]; hi[i] = f[d.upper]; }
    if (f.override !== null && f.override !== undefined) overridden = true;
    fin[i] = f.forecast_final ?? f.forecast;
  }
  // The forecast line starts from the last observed value, so history and forecast join.
  const lastSold = d.history.length ? d.history[d.history.length - 1] : null;
  if (lastSold && lastSold.units !== null && at.has(lastSold.date)) fc[at.get(lastSold.date)] = fc[at.get(lastSold.date)] ?? lastSold.units;
  const origin = d.origin ?? lastSold?.date;
  const lines = [];
  for (const e of d.events) lines.push({ t: ts(e.date), color: css(`--${e.kind}`), flag: true });
  if (origin) lines.push({ t: ts(origin), color: css('--ink'), dash: [2, 3], width: 1.5 });
  const { width, height } = size(container);
  const opts = {
    width, height,
    padding: [14, 10, 0, 0],
    legend: { show: false },
    cursor: { points: { size: 7 }, drag: { x: false, y: false } },
    scales: { x: { time: true }, y: { range: (u, min, max) => [0, max > 0 ? uPlot.rangeNum(0, max, 0.1, true)[1] : 1] } },
    axes: [dateAxis(), unitsAxis()],
    bands: [{ series: [4, 3], fill: css('--band') }],
    series: [
      { value: (u, v) => (v ? iso(v) : '') },
      { label: 'sold', stroke: css('--history'), width: 1.4, spanGaps: false, points: { show: false } },
      { label: 'zero sales', stroke: css('--zero'), fill: css('--zero'), width: 0, paths: () => null, points: { show: true, size: 5, fill: css('--zero'), stroke: css('--zero') } },
      { label: 'p10', stroke: 'transparent', width: 0, points: { show: false } },
      { label: 'p90', stroke: 'transparent', width: 0, points: { show: false } },
      { label: 'forecast', stroke: css('--forecast'), width: 2, points: { show: false } },
      { label: 'final', stroke: css('--final'), width: 2, dash: [6, 3], show: overridden, points: { show: false } },
    ],
    hooks: {
      drawClear: [stateBands(shaded, step)],
      draw: [markers(lines)],
      setCursor: [(u) => d.onHover?.(u.cursor.idx === null || u.cursor.idx === undefined ? null : times[u.cursor.idx], u.cursor.left, u.cursor.top)],
    },
  };
  const chart = mount(container, opts, [times.map(ts), sold, zero, lo, hi, fc, fin]);
  chart.times = times;
  chart.states = shaded.map((s) => ({ date: iso(s.t), state: s.state }));
  chart.origin = origin;
  return chart;
}

/** The components panel: each part's units per date over the horizon (they add up to the forecast). */
export function drawComponents(container, rows, names, colors) {
  if (rows.length === 0) { container.textContent = 'No forecast rows.'; return null; }
  const times = rows.map((r) => ts(r.date));
  const data = [times, ...names.map((n) => rows.map((r) => r.components[n] ?? 0)), rows.map((r) => r.forecast)];
  const { width, height } = size(container, 0.32, 200, 300);
  const opts = {
    width, height,
    padding: [10, 10, 0, 0],
    legend: { show: false },
    cursor: { drag: { x: false, y: false } },
    scales: { x: { time: true } },
    axes: [dateAxis(), unitsAxis()],
    series: [
      {},
      ...names.map((n, i) => ({ label: n, stroke: colors[i], width: 1.6, points: { show: rows.length < 40, size: 4 } })),
      { label: 'forecast', stroke: css('--forecast'), width: 2.5, dash: [4, 3], points: { show: false } },
    ],
  };
  return mount(container, opts, data);
}

/** Past forecasts against what happened: actuals, each backtest window and each earlier run. */
export function drawPast(container, past, colors) {
  const sets = [
    ...past.backtest.reduce((m, r) => m.set(`backtest window ${r.window}`, [...(m.get(`backtest window ${r.window}`) ?? []), r]), new Map()),
    ...past.previous_runs.map((p) => [`run ${p.run_id} (${p.kind})`, p.rows]),
  ];
  const dates = [...new Set(sets.flatMap(([, rs]) => rs.map((r) => r.date)))].sort();
  if (dates.length === 0) { container.chart?.destroy(); container.chart = null; container.textContent = 'No past forecasts to compare yet: no backtest window, and no earlier run forecast dates that have since been observed.'; return null; }
  const at = new Map(dates.map((t, i) => [t, i]));
  const actual = new Array(dates.length).fill(null);
  const lines = sets.map(([, rs]) => {
    const v = new Array(dates.length).fill(null);
    for (const r of rs) { v[at.get(r.date)] = r.forecast_final ?? r.forecast; if (r.actual !== null) actual[at.get(r.date)] = r.actual; }
    return v;
  });
  const { width, height } = size(container, 0.3, 200, 280);
  const opts = {
    width, height,
    padding: [10, 10, 0, 0],
    legend: { show: false },
    scales: { x: { time: true }, y: { range: (u, min, max) => [0, uPlot.rangeNum(0, Math.max(1, max), 0.1, true)[1]] } },
    axes: [dateAxis(), unitsAxis()],
    series: [{}, { label: 'sold', stroke: css('--history'), width: 2, points: { show: true, size: 4 } }, ...sets.map(([label], i) => ({ label, stroke: colors[i % colors.length], width: 1.4, dash: [4, 2], points: { show: false } }))],
  };
  const chart = mount(container, opts, [dates.map(ts), actual, ...lines]);
  chart.labels = sets.map(([label]) => label);
  return chart;
}
