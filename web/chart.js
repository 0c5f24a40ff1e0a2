// The series chart: history, forecast, the quantile band and calendar markers as plain SVG,
// drawn at the container's real width (so text stays legible on a phone) and redrawn on resize.

const SVG = 'http://www.w3.org/2000/svg';
const DAY = 86400000;
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

const day = (iso) => Date.parse(`${iso}T00:00:00Z`) / DAY;

function el(name, attrs, parent) {
  const node = document.createElementNS(SVG, name);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  if (parent) parent.appendChild(node);
  return node;
}

/** About `count` round steps from 0 to at least `max`. */
function niceTicks(max, count = 5) {
  if (!(max > 0)) return [0, 1];
  const raw = max / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw);
  const ticks = [];
  for (let v = 0; v < max + step; v += step) ticks.push(Number(v.toPrecision(12)));
  return ticks;
}

/** First days of months in [t0, t1], thinned so labels do not collide. */
function monthTicks(t0, t1, width) {
  const out = [];
  const d = new Date(t0 * DAY);
  let y = d.getUTCFullYear();
  let m = d.getUTCMonth() + 1;
  for (;;) {
    if (m === 12) { m = 0; y += 1; }
    const t = Date.UTC(y, m, 1) / DAY;
    if (t > t1) break;
    out.push({ t, label: m === 0 ? `${MONTHS[m]} ${y}` : MONTHS[m] });
    m += 1;
  }
  const every = Math.max(1, Math.ceil(out.length / Math.max(2, Math.floor(width / 70))));
  return out.filter((_x, i) => i % every === 0);
}

/**
 * Draw into `container`. `data`: { history: [{date, units, stockout}], forecast: [{date, forecast, …}],
 * lower, upper (band column names or null), events: [{date, name, kind}] }. `onHover(point|null, x, y)`
 * reports the nearest date under the pointer.
 */
export function drawChart(container, data, onHover) {
  const width = Math.max(300, container.clientWidth);
  const height = Math.round(Math.min(420, Math.max(260, width * 0.42)));
  const pad = { top: 22, right: 14, bottom: 28, left: 46 };
  const { history, forecast, lower, upper, events } = data;

  const points = [
    ...history.map((h) => ({ t: day(h.date), date: h.date, units: h.units, stockout: h.stockout })),
    ...forecast.map((f) => ({ t: day(f.date), date: f.date, forecast: f.forecast, lo: lower ? f[lower] : null, hi: upper ? f[upper] : null })),
  ];
  if (points.length === 0) {
    container.textContent = 'This series has no history or forecast rows.';
    return;
  }
  const t0 = points[0].t;
  const t1 = points[points.length - 1].t;
  const ymax = Math.max(1, ...points.map((p) => Math.max(p.units ?? 0, p.hi ?? 0, p.forecast ?? 0)));
  const yTicks = niceTicks(ymax);
  const x = (t) => pad.left + ((t - t0) / Math.max(1, t1 - t0)) * (width - pad.left - pad.right);
  const y = (v) => height - pad.bottom - (v / yTicks[yTicks.length - 1]) * (height - pad.top - pad.bottom);

  const svg = el('svg', { viewBox: `0 0 ${width} ${height}`, width, height, role: 'img', 'aria-label': 'history, forecast and interval band' });
  for (const v of yTicks) {
    el('line', { class: 'axis', x1: pad.left, x2: width - pad.right, y1: y(v), y2: y(v) }, svg);
    el('text', { class: 'tick', x: pad.left - 6, y: y(v) + 4, 'text-anchor': 'end' }, svg).textContent = v.toLocaleString();
  }
  for (const m of monthTicks(t0, t1, width)) {
    el('text', { class: 'tick', x: x(m.t), y: height - 8, 'text-anchor': 'middle' }, svg).textContent = m.label;
  }

  const fc = points.filter((p) => p.forecast !== undefined);
  if (lower && upper && fc.length) {
    const top = fc.map((p) => `${x(p.t)},${y(p.hi)}`);
    const bottom = fc.map((p) => `${x(p.t)},${y(p.lo)}`).reverse();
    el('polygon', { class: 'band', points: [...top, ...bottom].join(' ') }, svg);
  }
  const hist = points.filter((p) => p.units !== undefined);
  el('polyline', { class: 'history', points: hist.map((p) => `${x(p.t)},${y(p.units)}`).join(' ') }, svg);
  for (const p of hist.filter((h) => h.stockout)) el('circle', { class: 'stockout', cx: x(p.t), cy: y(p.units), r: 2.5 }, svg);
  if (fc.length) {
    const join = hist.length ? [hist[hist.length - 1]] : [];
    el('polyline', { class: 'forecast', points: [...join.map((p) => `${x(p.t)},${y(p.units)}`), ...fc.map((p) => `${x(p.t)},${y(p.forecast)}`)].join(' ') }, svg);
    const origin = x((hist.length ? hist[hist.length - 1].t : fc[0].t));
    el('line', { class: 'origin', x1: origin, x2: origin, y1: pad.top - 8, y2: height - pad.bottom }, svg);
  }

  for (const e of events.filter((ev) => day(ev.date) >= t0 && day(ev.date) <= t1)) {
    const ex = x(day(e.date));
    const g = el('g', { class: 'event-marker', 'data-kind': e.kind }, svg);
    el('title', {}, g).textContent = `${e.date} ${e.name} (${e.kind})`;
    el('line', { class: `marker ${e.kind}`, x1: ex, x2: ex, y1: pad.top - 6, y2: height - pad.bottom }, g);
    el('path', { class: `flag ${e.kind}`, d: `M${ex - 4},${pad.top - 14} h8 l-4,7 z` }, g);
  }

  const cursor = el('line', { class: 'cursor', x1: 0, x2: 0, y1: pad.top, y2: height - pad.bottom, visibility: 'hidden' }, svg);
  const hit = el('rect', { x: pad.left, y: pad.top, width: width - pad.left - pad.right, height: height - pad.top - pad.bottom, fill: 'transparent' }, svg);
  const nearest = (clientX) => {
    const box = svg.getBoundingClientRect();
    const t = t0 + ((clientX - box.left - pad.left) / (width - pad.left - pad.right)) * (t1 - t0);
    return points.reduce((a, b) => (Math.abs(b.t - t) < Math.abs(a.t - t) ? b : a));
  };
  hit.addEventListener('pointermove', (ev) => {
    const p = nearest(ev.clientX);
    cursor.setAttribute('x1', x(p.t));
    cursor.setAttribute('x2', x(p.t));
    cursor.setAttribute('visibility', 'visible');
    onHover(p, x(p.t), pad.top, events.filter((e) => e.date === p.date));
  });
  hit.addEventListener('pointerleave', () => {
    cursor.setAttribute('visibility', 'hidden');
    onHover(null);
  });

  container.replaceChildren(svg);
}
