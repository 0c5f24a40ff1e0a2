// The planner's workbench: pick a run, find a store × SKU (sorted and filtered by MASE, class,
// volume, bias or what needs attention), see its chart, why the forecast is what it is, how
// past forecasts did, override it with a reason; the exceptions list, the overrides and their
// audit trail, and what changed between two runs. Talks only to this server's JSON API.
import { drawComponents, drawPast, drawSeriesChart, formatUnits } from './chart.js';

const $ = (id) => document.getElementById(id);
const TOKEN_KEY = 'shelfcast-token';
const state = { run: null, runs: [], manifest: null, series: null, detail: null, view: 'series' };
const PALETTE = ['#2f3b48', '#1f8a4c', '#b35c00', '#7b3fb0', '#c4361d', '#0f7c8c', '#8a6d00', '#d6337f', '#4d6bd1', '#6b8e23'];

// ---- API access: a bearer token is asked for only when the server answers 401.

function authHeaders() {
  const token = sessionStorage.getItem(TOKEN_KEY);
  return token ? { Authorization: `Bearer ${token}` } : {};
}

function askToken() {
  return new Promise((resolve) => {
    const dialog = $('token-dialog');
    $('token-form').addEventListener('submit', () => {
      sessionStorage.setItem(TOKEN_KEY, $('token').value.trim());
      resolve();
    }, { once: true });
    dialog.showModal();
  });
}

async function api(path, init = {}) {
  for (;;) {
    const headers = { Accept: 'application/json', ...authHeaders(), ...(init.body ? { 'Content-Type': 'application/json' } : {}) };
    const res = await fetch(path, { ...init, headers });
    if (res.status === 401) { sessionStorage.removeItem(TOKEN_KEY); await askToken(); continue; }
    const body = await res.json().catch(() => ({}));
    if (!res.ok) throw Object.assign(new Error(body.error ?? `${res.status} ${res.statusText}`), { status: res.status });
    return body;
  }
}

function showError(e) {
  const box = $('error');
  box.textContent = e instanceof Error ? e.message : String(e);
  box.hidden = false;
  clearTimeout(showError.timer);
  showError.timer = setTimeout(() => { box.hidden = true; }, 8000);
}

// ---- small DOM helpers

function h(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (k === 'dataset') Object.assign(node.dataset, v);
    else if (k in node) node[k] = v;
    else node.setAttribute(k, v);
  }
  node.append(...children.filter((c) => c !== null && c !== undefined && c !== false));
  return node;
}

function facts(dl, pairs) {
  dl.replaceChildren(...pairs.filter(([, v]) => v !== null && v !== undefined && v !== '').flatMap(([k, v]) => [h('dt', { textContent: k }), h('dd', { textContent: String(v) })]));
}

const num = (x, digits = 3) => (typeof x === 'number' && Number.isFinite(x) ? x.toFixed(digits).replace(/\.?0+$/, '') : '—');
const pct = (x) => (typeof x !== 'number' || !Number.isFinite(x) ? '—' : x === 0 || Math.abs(x) >= 0.01 ? `${(x * 100).toFixed(1)}%` : `${(x * 100).toPrecision(2)}%`);
const units = (x) => (typeof x === 'number' && Number.isFinite(x) ? x.toLocaleString('en-US', { maximumFractionDigits: 1 }) : '—');
const rows = (n) => `${n.toLocaleString()} ${n === 1 ? 'row' : 'rows'}`;
const when = (t) => new Date(t).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
const REASONS = { drift: 'drift', bias: 'bias', change: 'large change', fallback: 'fallback', cold_start: 'cold start', interval_miss: 'interval missed' };
const seriesPath = (s) => `${encodeURIComponent(s.store_id)}/${encodeURIComponent(s.sku)}`;

// ---- state in the URL hash, so a view can be shared: #run=…&store=…&sku=…&view=…

function readHash() {
  return Object.fromEntries(new URLSearchParams(location.hash.slice(1)));
}
function writeHash() {
  const p = new URLSearchParams({ run: state.run ?? '' });
  if (state.series) { p.set('store', state.series.store_id); p.set('sku', state.series.sku); }
  if (state.view !== 'series') p.set('view', state.view);
  history.replaceState(null, '', `#${p}`);
}

// ---- views

function showView(view) {
  state.view = view;
  for (const b of document.querySelectorAll('.tabs button')) b.setAttribute('aria-pressed', String(b.dataset.view === view));
  for (const v of ['series', 'exceptions', 'overrides', 'compare']) $(`view-${v}`).hidden = v !== view;
  writeHash();
  if (view === 'exceptions') loadExceptions().catch(showError);
  if (view === 'overrides') loadOverrides().catch(showError);
  if (view === 'compare') loadDiff().catch(showError);
  if (view === 'series') render();
}

// ---- runs

/** What tells runs apart: kind, data date, publish time (and overrides). */
function runLabel(r) {
  const kind = r.kind === 'retrain' ? 'retrain' : r.kind === 'overrides' ? 'overrides' : 'nightly';
  const ov = r.overrides?.applied ? ` · ${r.overrides.applied} override${r.overrides.applied === 1 ? '' : 's'}` : '';
  return `${kind} · data ${r.last_date} · published ${when(r.finished_at)}${ov}${r.latest ? ' · latest' : ''}`;
}

async function loadRuns(keepRun) {
  const { runs } = await api('/runs');
  state.runs = runs;
  const select = $('run');
  select.replaceChildren(...runs.map((r) => h('option', { value: r.run_id, textContent: runLabel(r), title: r.run_id })));
  if (runs.length === 0) {
    select.append(h('option', { textContent: 'no runs published yet' }));
    return;
  }
  const wanted = keepRun ?? readHash().run;
  const run = runs.find((r) => r.run_id === wanted) ?? runs.find((r) => r.latest) ?? runs[0];
  select.value = run.run_id;
  fillDiffPickers();
  await chooseRun(run.run_id);
}

/** The files a run may offer as downloads, in order, with their labels (the server's artifact registry). */
const downloadable = fetch('/assets/downloads.json').then((res) => res.json());

async function chooseRun(runId) {
  state.run = runId;
  const [manifest, quality] = await Promise.all([api(`/runs/${runId}`), api(`/runs/${runId}/quality.json`)]);
  state.manifest = manifest;
  showRun(manifest, await downloadable);
  showQuality(quality);
  loadMonitoring().catch(() => {});
  countExceptions().catch(() => {});
  await search();
  const { store, sku } = readHash();
  const keep = state.series ?? (store && sku ? { store_id: store, sku } : null);
  if (keep) await chooseSeries(keep).catch(() => clearSeries());
  else writeHash();
  if (state.view !== 'series') showView(state.view);
}

function showRun(m, downloads) {
  const sel = m.backtest?.selected ?? {};
  facts($('run-facts'), [
    ['run', m.run_id],
    ['kind', m.kind === 'run' ? 'nightly' : m.kind],
    ['published', when(m.finished_at)],
    ['data', `${m.data.first_date} → ${m.data.last_date} (${m.data.frequency})`],
    ['series', m.data.series],
    ['horizon', `${m.data.horizon} periods`],
    ['backtest MASE', num(sel.mase)],
    ['WAPE', pct(sel.wape)],
    ['fallbacks', (m.fallbacks ?? []).length],
    ['overrides', m.overrides ? `${m.overrides.applied} applied (${m.overrides.rows} rows)` : null],
    ['took', `${num(m.duration_s, 1)} s`],
    ['code', m.code_version],
  ]);
  const link = (file, label, primary) =>
    h('a', { className: primary ? 'button' : 'button secondary', href: `/runs/${m.run_id}/${file}`, download: `${m.run_id}-${file}`, textContent: label, onclick: (ev) => download(ev, file) });
  $('downloads').replaceChildren(...downloads.filter((d) => m.files[d.name]).map((d) => link(d.name, d.label, d.primary)));
}

/** Plain links work without a token; with one, the file is fetched with the header and saved. */
async function download(ev, file) {
  const headers = authHeaders();
  if (!headers.Authorization) return;
  ev.preventDefault();
  try {
    const res = await fetch(`/runs/${state.run}/${file}`, { headers });
    if (!res.ok) throw new Error(`${file}: ${res.status}`);
    const url = URL.createObjectURL(await res.blob());
    const a = h('a', { href: url, download: `${state.run}-${file}` });
    a.click();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
  } catch (e) {
    showError(e);
  }
}

function showQuality(q) {
  facts($('quality'), [
    ['rows read', q.rows_read?.toLocaleString()],
    ['accepted', q.rows_accepted?.toLocaleString()],
    ['rejected', `${(q.rows_rejected ?? 0).toLocaleString()} (${pct((q.rows_rejected ?? 0) / Math.max(1, q.rows_read ?? 0))})`],
    ['gaps', q.gaps ? `${q.gaps.periods} periods in ${q.gaps.series} series, ${q.gaps.action}` : null],
    ['stock-out periods', q.stockout_periods?.toLocaleString()],
  ]);
  const rules = Object.entries(q.rules ?? {}).filter(([, r]) => r.rows > 0);
  $('rules').replaceChildren(...(rules.length
    ? rules.map(([name, r]) => h('li', { textContent: `${name.replaceAll('_', ' ')}: ${rows(r.rows)} ${r.action}` }))
    : [h('li', { className: 'muted', textContent: 'every rule passed' })]));
}

async function loadMonitoring() {
  try {
    const m = await api('/monitoring');
    if (!m.monitored_at) { facts($('monitoring'), [['status', 'no monitoring yet: shelfcast monitor scores forecasts once actuals arrive']]); return; }
    const fva = m.fva?.overall;
    facts($('monitoring'), [
      ['monitored', when(m.monitored_at)],
      ['actuals', `${m.input.first_date} → ${m.input.last_date}`],
      ['MASE', num(m.overall.mase)],
      ['WAPE', pct(m.overall.wape)],
      ['drifting', `${m.drifting.length} series`],
      ['override FVA', fva ? `${pct(fva.fva)} of the error (${fva.points} points)` : null],
    ]);
  } catch (e) {
    facts($('monitoring'), [['status', e.status === 404 ? 'no monitoring yet' : e.message]]);
  }
}

async function countExceptions() {
  const found = await api(`/exceptions?run=${state.run}&limit=1`);
  $('exceptions-count').textContent = found.matches ? String(Object.values(found.by_reason).reduce((a, b) => a + b, 0)) : '';
}

// ---- series search, sort and filter

let searchSeq = 0;
async function search() {
  const seq = ++searchSeq;
  const params = new URLSearchParams({ q: $('search').value.trim(), limit: '200', sort: $('sort').value });
  if ($('class').value) params.set('class', $('class').value);
  if ($('flag').value) params.set('flag', $('flag').value);
  const found = await api(`/runs/${state.run}/series?${params}`);
  if (seq !== searchSeq) return; // a newer keystroke already asked
  $('matches').textContent = found.matches > found.series.length ? `${found.series.length} of ${found.matches} series` : `${found.matches} series`;
  $('results').replaceChildren(...found.series.map((s) => h('li', {}, h('button', {
    type: 'button',
    className: 'result',
    onclick: () => chooseSeries(s).catch(showError),
  }, h('strong', { textContent: `${s.store_id} · ${s.sku}` }),
    h('small', { textContent: `${s.demand_class} · ${s.backtest_mase === null ? 'no backtest' : `MASE ${num(s.backtest_mase, 2)}`} · ${formatUnits(s.volume ?? 0)} units${s.backtest_bias !== null ? ` · bias ${num(s.backtest_bias, 2)}` : ''}` }),
    s.exceptions.length ? h('span', { className: 'flags' }, ...[...new Set(s.exceptions)].map((r) => h('span', { className: `flag-chip ${r}`, textContent: REASONS[r] ?? r }))) : null))));
  markCurrent();
}

function markCurrent() {
  for (const b of $('results').querySelectorAll('button')) {
    const label = b.querySelector('strong').textContent;
    b.setAttribute('aria-current', String(state.series !== null && label === `${state.series.store_id} · ${state.series.sku}`));
  }
}

// ---- one series

async function chooseSeries(s) {
  const detail = await api(`/series/${seriesPath(s)}?run=${state.run}`);
  state.series = { store_id: detail.store_id, sku: detail.sku };
  state.detail = detail;
  writeHash();
  markCurrent();
  if (state.view !== 'series') showView('series');
  $('series-empty').hidden = true;
  $('series-view').hidden = false;
  $('series-title').textContent = `${detail.store_id} · ${detail.sku}`;
  $('band-label').textContent = detail.band ? `${detail.band.lower}–${detail.band.upper}` : 'no band';
  const observed = detail.history.filter((p) => (p.state ?? 'observed') === 'observed' || p.state === 'gap' || p.state === 'stockout');
  const noHistory = observed.length === 0;
  const neverSold = !noHistory && observed.every((p) => !(p.units > 0));
  $('no-history').hidden = !noHistory && !neverSold;
  $('no-history').textContent = noHistory
    ? 'This series has no observed history: its forecast has nothing of its own to go on, and it has no backtest score.'
    : neverSold ? 'This series sold nothing in the history shown to the model: its forecast is 0 and a backtest score says nothing.' : '';
  facts($('model'), [
    ['model', detail.model],
    ['demand class', detail.demand_class],
    ['backtest MASE', detail.backtest.mase === null || neverSold ? (noHistory ? 'none: no history' : neverSold ? 'none: no sales' : 'none: too little history for a backtest') : num(detail.backtest.mase)],
    ['RMSSE', detail.backtest.rmsse === null ? null : num(detail.backtest.rmsse)],
    ['bias', detail.backtest.bias === null ? null : num(detail.backtest.bias)],
    ['fallback', detail.fallback],
  ]);
  const f = detail.forecast;
  if (f.length) {
    $('ov-from').value = $('ov-from').value && $('ov-from').value >= f[0].date ? $('ov-from').value : f[0].date;
    $('ov-to').value = $('ov-to').value && $('ov-to').value >= $('ov-from').value ? $('ov-to').value : f[Math.min(6, f.length - 1)].date;
    $('ov-from').min = $('ov-to').min = f[0].date;
    $('ov-from').max = $('ov-to').max = f[f.length - 1].date;
  }
  render();
  await Promise.all([loadComponents(s), loadPast(s), loadSeriesOverrides()]).catch(showError);
}

function clearSeries() {
  state.series = null;
  state.detail = null;
  $('series-empty').hidden = false;
  $('series-view').hidden = true;
  writeHash();
}

/** History limited to the chosen window before the forecast origin; the whole forecast. */
function visible(detail) {
  const days = Number($('window').value);
  const last = state.manifest?.data.last_date ?? detail.history[detail.history.length - 1]?.date;
  if (!days || !last) return detail;
  const from = new Date(Date.parse(`${last}T00:00:00Z`) - days * 86400000).toISOString().slice(0, 10);
  const history = detail.history.filter((p) => p.date > from);
  const start = history[0]?.date ?? from;
  return { ...detail, history, events: detail.events.filter((e) => e.date >= start) };
}

function render() {
  const d = state.detail;
  if (!d || state.view !== 'series') return;
  const v = visible(d);
  drawSeriesChart($('chart'), {
    history: v.history, forecast: v.forecast, lower: d.band?.lower, upper: d.band?.upper, events: v.events,
    origin: state.manifest?.data.last_date, stepDays: d.frequency === 'week' ? 7 : 1, onHover: hover,
  });
  $('events').replaceChildren(...(v.events.length
    ? v.events.map((e) => h('li', {}, h('span', { className: `kind ${e.kind}`, textContent: e.kind }), `${e.date} ${e.name}`))
    : [h('li', { className: 'muted', textContent: 'no holidays or events in view' })]));
  if (state.components) drawComponentsPanel(state.components);
  if (state.past) drawPastPanel(state.past);
}

function hover(date, x, y) {
  const tip = $('tooltip');
  const d = state.detail;
  if (!date || !d) { tip.hidden = true; return; }
  const p = d.history.find((r) => r.date === date);
  const f = d.forecast.find((r) => r.date === date);
  const lines = [date];
  if (p) lines.push(p.state === 'unobserved' ? `not observed (${p.reason ?? 'outage'})` : `sold ${num(p.units, 1)}${p.state && p.state !== 'observed' ? ` (${p.state === 'gap' ? 'no row: zero' : p.state})` : ''}`);
  if (f) {
    lines.push(`forecast ${num(f.forecast, 1)}`);
    if (d.band) lines.push(`${d.band.lower}–${d.band.upper} ${num(f[d.band.lower], 1)}–${num(f[d.band.upper], 1)}`);
    if (f.override !== null && f.override !== undefined) lines.push(`final ${num(f.forecast_final, 1)} (override #${f.override})`);
  }
  for (const e of d.events.filter((ev) => ev.date === date)) lines.push(`${e.name} (${e.kind})`);
  tip.replaceChildren(...lines.map((l) => h('div', { textContent: l })));
  tip.hidden = false;
  const chart = $('chart');
  tip.style.left = `${chart.offsetLeft + Math.min(x + 60, chart.clientWidth - tip.offsetWidth)}px`;
  tip.style.top = `${chart.offsetTop + Math.max(0, y - 10)}px`;
}

// ---- why this forecast

async function loadComponents(s) {
  try {
    state.components = await api(`/series/${seriesPath(s)}/components?run=${state.run}`);
  } catch (e) {
    state.components = null;
    $('components-chart').textContent = e.message;
    return;
  }
  drawComponentsPanel(state.components);
}

function drawComponentsPanel(c) {
  const names = c.totals.map((t) => t.name);
  const colors = names.map((_n, i) => PALETTE[i % PALETTE.length]);
  drawComponents($('components-chart'), c.rows, names, colors);
  $('components-legend').replaceChildren(...names.map((n, i) => h('li', {}, h('span', { className: 'key swatch', style: `background:${colors[i]}` }), n)), h('li', {}, h('span', { className: 'key forecast' }), 'forecast (their sum)'));
  $('components-table').tBodies[0].replaceChildren(...c.totals.map((t) => h('tr', { dataset: { kind: t.kind } },
    h('td', { textContent: t.name }), h('td', { textContent: t.kind }), h('td', { className: 'num', textContent: units(t.units) }), h('td', { className: 'num', textContent: pct(t.share) }))));
  const w = Object.entries(c.weights).sort((a, b) => b[1] - a[1]);
  $('weights').textContent = w.length > 1 ? `Combination: ${w.map(([m, x]) => `${m} ${pct(x)}`).join(' · ')}` : w.length === 1 ? `One model: ${w[0][0]}` : '';
}

async function loadPast(s) {
  state.past = await api(`/series/${seriesPath(s)}/past?run=${state.run}`);
  drawPastPanel(state.past);
}

function drawPastPanel(p) {
  const chart = drawPast($('past-chart'), p, PALETTE.slice(1));
  $('past-legend').replaceChildren(...(chart ? [h('li', {}, h('span', { className: 'key history' }), 'sold'), ...chart.labels.map((l, i) => h('li', {}, h('span', { className: 'key swatch', style: `background:${PALETTE.slice(1)[i % 9]}` }), l))] : []));
}

// ---- overrides

function overrideText(o) {
  return `${o.from === o.to ? o.from : `${o.from} → ${o.to}`}: ${o.mode === 'value' ? `set to ${o.amount}` : `${o.amount >= 0 ? '+' : ''}${o.amount}%`}`;
}

async function loadSeriesOverrides() {
  if (!state.series) return;
  const { overrides } = await api(`/overrides?${new URLSearchParams({ store: state.series.store_id, sku: state.series.sku })}`);
  $('series-overrides').replaceChildren(...overrides.map((o) => h('li', { className: `override ${o.status}` },
    `#${o.id} ${overrideText(o)} — “${o.reason}” by ${o.created_by}, ${when(o.created_at)} · ${o.status}`,
    o.status === 'active' ? endButtons(o) : null)));
}

function endButtons(o) {
  const act = (how) => async () => {
    try {
      await api(how === 'expire' ? `/overrides/${o.id}/expire` : `/overrides/${o.id}`, { method: how === 'expire' ? 'POST' : 'DELETE', body: how === 'expire' ? '{}' : undefined });
      await Promise.all([loadSeriesOverrides(), state.view === 'overrides' ? loadOverrides() : null]);
    } catch (e) {
      showError(e);
    }
  };
  return h('span', { className: 'actions' },
    h('button', { type: 'button', className: 'link', textContent: 'expire', onclick: act('expire') }),
    h('button', { type: 'button', className: 'link', textContent: 'remove', onclick: act('remove') }));
}

$('override-form').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  if (!state.series) return;
  const body = {
    store: state.series.store_id, sku: state.series.sku, from: $('ov-from').value, to: $('ov-to').value,
    mode: $('ov-mode').value, amount: Number($('ov-amount').value), reason: $('ov-reason').value.trim(),
  };
  try {
    const r = await api('/overrides', { method: 'POST', body: JSON.stringify(body) });
    $('override-status').textContent = `Saved override #${r.override.id} as ${r.override.created_by}: applies from ${r.applies_from}.${r.warning ? ` ${r.warning}` : ''}`;
    $('ov-reason').value = '';
    await loadSeriesOverrides();
  } catch (e) {
    $('override-status').textContent = `Not saved: ${e.message}`;
  }
});

async function loadOverrides() {
  const [{ overrides }, { log }] = await Promise.all([api('/overrides'), api('/overrides/log')]);
  $('overrides').tBodies[0].replaceChildren(...(overrides.length ? overrides.map((o) => h('tr', { className: o.status },
    h('td', { className: 'num', textContent: o.id }), h('td', {}, seriesLink(o)), h('td', { textContent: o.from === o.to ? o.from : `${o.from} → ${o.to}` }),
    h('td', { textContent: o.mode === 'value' ? `set to ${o.amount}` : `${o.amount >= 0 ? '+' : ''}${o.amount}%` }), h('td', { textContent: o.reason }),
    h('td', { textContent: o.created_by }), h('td', { textContent: o.status + (o.ended_by ? ` by ${o.ended_by}` : '') }), h('td', {}, o.status === 'active' ? endButtons(o) : null)))
    : [h('tr', {}, h('td', { colSpan: 8, className: 'muted', textContent: 'no overrides yet: open a series and save one' }))]));
  $('audit').tBodies[0].replaceChildren(...log.map((a) => h('tr', {},
    h('td', { textContent: when(a.at) }), h('td', { className: 'num', textContent: `#${a.override_id}` }), h('td', { textContent: a.action }),
    h('td', { textContent: a.by }), h('td', { textContent: a.run_id ?? '' }), h('td', { textContent: a.detail ?? '' }))));
}

function seriesLink(s) {
  return h('button', { type: 'button', className: 'link', textContent: `${s.store_id} · ${s.sku}`, onclick: () => chooseSeries(s).catch(showError) });
}

// ---- exceptions

const excSort = { key: 'impact', dir: -1 };
let excRows = [];

async function loadExceptions() {
  const params = new URLSearchParams({ run: state.run, limit: '1000' });
  if ($('exc-reason').value) params.set('reason', $('exc-reason').value);
  if ($('exc-store').value.trim()) params.set('store', $('exc-store').value.trim());
  const found = await api(`/exceptions?${params}`);
  excRows = found.rows;
  $('exc-summary').textContent = `${found.matches} exceptions · ${Object.entries(found.by_reason).map(([r, n]) => `${REASONS[r] ?? r} ${n}`).join(' · ') || 'none'}`;
  drawExceptions();
}

function drawExceptions() {
  const key = excSort.key;
  const val = (r) => (key === 'series' ? `${r.store_id} ${r.sku}` : r[key]);
  const sorted = [...excRows].sort((a, b) => (val(a) < val(b) ? -1 : val(a) > val(b) ? 1 : a.rank - b.rank) * excSort.dir);
  for (const th of $('exceptions').tHead.rows[0].cells) th.setAttribute('aria-sort', th.dataset.key === key ? (excSort.dir < 0 ? 'descending' : 'ascending') : 'none');
  $('exceptions').tBodies[0].replaceChildren(...(sorted.length ? sorted.map((r) => h('tr', { dataset: { reason: r.reason } },
    h('td', { className: 'num', textContent: r.rank }), h('td', {}, seriesLink(r)), h('td', {}, h('span', { className: `flag-chip ${r.reason}`, textContent: REASONS[r.reason] ?? r.reason })),
    h('td', { className: 'num', textContent: units(r.impact) }), h('td', { className: 'num', textContent: units(r.units) }), h('td', { className: 'num', textContent: pct(r.error) }),
    h('td', { className: 'detail', textContent: r.detail ?? '' })))
    : [h('tr', {}, h('td', { colSpan: 7, className: 'muted', textContent: 'nothing needs attention' }))]));
}

for (const th of document.querySelectorAll('#exceptions th[data-key]')) {
  th.addEventListener('click', () => {
    excSort.dir = excSort.key === th.dataset.key ? -excSort.dir : th.dataset.key === 'series' || th.dataset.key === 'reason' || th.dataset.key === 'rank' ? 1 : -1;
    excSort.key = th.dataset.key;
    drawExceptions();
  });
}

// ---- compare runs

function fillDiffPickers() {
  const opts = () => state.runs.map((r) => h('option', { value: r.run_id, textContent: runLabel(r) }));
  $('diff-a').replaceChildren(...opts());
  $('diff-b').replaceChildren(...opts());
  if (state.runs.length > 1) $('diff-a').value = state.runs[1].run_id;
  $('diff-b').value = state.runs[0]?.run_id ?? '';
}

async function loadDiff() {
  const a = $('diff-a').value;
  const b = $('diff-b').value;
  if (!a || !b) return;
  const d = await api(`/runs/${a}/diff/${b}?limit=200`);
  $('diff-summary').textContent = `${d.series_changed} of ${d.series_compared} series changed over ${d.common_dates ? `${d.common_dates.first} → ${d.common_dates.last}` : 'no common dates'}`;
  $('diff').tBodies[0].replaceChildren(...d.rows.map((r) => h('tr', {},
    h('td', {}, seriesLink(r)), h('td', { className: 'num', textContent: units(r.total_a) }), h('td', { className: 'num', textContent: units(r.total_b) }),
    h('td', { className: 'num', textContent: `${r.change >= 0 ? '+' : ''}${units(r.change)}${r.change_pct !== null ? ` (${pct(r.change_pct)})` : ''}` }),
    h('td', { textContent: r.reasons.join(', ') || '—' }), h('td', { className: 'small', textContent: r.model_a === r.model_b ? r.model_b ?? '' : `${r.model_a ?? '—'} → ${r.model_b ?? '—'}` }))));
}

// ---- wiring

let typing;
$('search').addEventListener('input', () => {
  clearTimeout(typing);
  typing = setTimeout(() => search().catch(showError), 150);
});
for (const id of ['sort', 'class', 'flag']) $(id).addEventListener('change', () => search().catch(showError));
$('run').addEventListener('change', (e) => chooseRun(e.target.value).catch(showError));
$('window').addEventListener('change', render);
$('exc-reason').addEventListener('change', () => loadExceptions().catch(showError));
$('exc-store').addEventListener('input', () => { clearTimeout(typing); typing = setTimeout(() => loadExceptions().catch(showError), 200); });
$('diff-a').addEventListener('change', () => loadDiff().catch(showError));
$('diff-b').addEventListener('change', () => loadDiff().catch(showError));
for (const b of document.querySelectorAll('.tabs button')) b.addEventListener('click', () => showView(b.dataset.view));
let resizing;
new ResizeObserver(() => { clearTimeout(resizing); resizing = setTimeout(render, 60); }).observe($('chart'));

// A link to another series of this page (a shared #store=…&sku=…) opens it.
window.addEventListener('hashchange', () => {
  const { store, sku, run } = readHash();
  if (run && run !== state.run && state.runs.some((r) => r.run_id === run)) { $('run').value = run; chooseRun(run).catch(showError); return; }
  if (store && sku && (store !== state.series?.store_id || sku !== state.series?.sku)) chooseSeries({ store_id: store, sku }).catch(showError);
});

const initial = readHash().view;
if (initial && ['exceptions', 'overrides', 'compare'].includes(initial)) state.view = initial;
loadRuns().catch(showError);
// For the page's own tests and for reloading after a publish without losing the view.
window.shelfcast = { reload: () => loadRuns('latest'), state };
