// The planner page: pick a run, find a store × SKU, see its chart, model, backtest score and the
// run's data quality, and download the run's files. Talks only to this server's JSON API.
import { drawChart } from './chart.js';

const $ = (id) => document.getElementById(id);
const TOKEN_KEY = 'shelfcast-token';
const state = { run: null, series: null, detail: null };

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

async function api(path) {
  for (;;) {
    const res = await fetch(path, { headers: { Accept: 'application/json', ...authHeaders() } });
    if (res.status === 401) { sessionStorage.removeItem(TOKEN_KEY); await askToken(); continue; }
    const body = await res.json().catch(() => ({}));
    if (!res.ok) throw new Error(body.error ?? `${res.status} ${res.statusText}`);
    return body;
  }
}

function showError(e) {
  const box = $('error');
  box.textContent = e instanceof Error ? e.message : String(e);
  box.hidden = false;
  setTimeout(() => { box.hidden = true; }, 6000);
}

// ---- small DOM helpers

function h(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  Object.assign(node, props);
  node.append(...children.filter((c) => c !== null && c !== undefined));
  return node;
}

function facts(dl, pairs) {
  dl.replaceChildren(...pairs.filter(([, v]) => v !== null && v !== undefined && v !== '').flatMap(([k, v]) => [h('dt', { textContent: k }), h('dd', { textContent: String(v) })]));
}

const num = (x, digits = 3) => (typeof x === 'number' ? x.toFixed(digits).replace(/\.?0+$/, '') : '—');
const pct = (x) => (typeof x !== 'number' ? '—' : x === 0 || x >= 0.01 ? `${(x * 100).toFixed(1)}%` : `${(x * 100).toPrecision(2)}%`);
const rows = (n) => `${n.toLocaleString()} ${n === 1 ? 'row' : 'rows'}`;

// ---- state in the URL hash, so a view can be shared: #run=…&store=…&sku=…

function readHash() {
  return Object.fromEntries(new URLSearchParams(location.hash.slice(1)));
}
function writeHash() {
  const p = new URLSearchParams({ run: state.run });
  if (state.series) { p.set('store', state.series.store_id); p.set('sku', state.series.sku); }
  history.replaceState(null, '', `#${p}`);
}

// ---- runs

async function loadRuns() {
  const { runs } = await api('/runs');
  const select = $('run');
  select.replaceChildren(...runs.map((r) => h('option', { value: r.run_id, textContent: `${r.run_id}${r.latest ? ' (latest)' : ''} · ${r.series} series` })));
  if (runs.length === 0) {
    select.append(h('option', { textContent: 'no runs published yet' }));
    return;
  }
  const wanted = readHash().run;
  const run = runs.find((r) => r.run_id === wanted) ?? runs.find((r) => r.latest) ?? runs[0];
  select.value = run.run_id;
  await chooseRun(run.run_id);
}

/** The files a run may offer as downloads, in order, with their labels (the server's artifact registry). */
const downloadable = fetch('/assets/downloads.json').then((res) => res.json());

async function chooseRun(runId) {
  state.run = runId;
  const [manifest, quality] = await Promise.all([api(`/runs/${runId}`), api(`/runs/${runId}/quality.json`)]);
  showRun(manifest, await downloadable);
  showQuality(quality);
  await search();
  const { store, sku } = readHash();
  const keep = state.series ?? (store && sku ? { store_id: store, sku } : null);
  if (keep) await chooseSeries(keep).catch(() => clearSeries());
  else writeHash();
}

function showRun(m, downloads) {
  const sel = m.backtest?.selected ?? {};
  facts($('run-facts'), [
    ['run', m.run_id],
    ['finished', new Date(m.finished_at).toLocaleString()],
    ['data', `${m.data.first_date} → ${m.data.last_date} (${m.data.frequency})`],
    ['series', m.data.series],
    ['horizon', `${m.data.horizon} periods`],
    ['backtest MASE', num(sel.mase)],
    ['WAPE', pct(sel.wape)],
    ['fallbacks', (m.fallbacks ?? []).length],
    ['took', `${num(m.duration_s, 1)} s`],
    ['code', m.code_version],
  ]);
  const link = (file, label, primary) =>
    h('a', { className: primary ? 'button' : 'button secondary', href: `/runs/${m.run_id}/${file}`, download: `${m.run_id}-${file}`, textContent: label, onclick: (ev) => download(ev, file) });
  // The files this run has (optional ones such as the fiscal totals only when it wrote them).
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

// ---- series search

let searchSeq = 0;
async function search() {
  const seq = ++searchSeq;
  const q = $('search').value.trim();
  const found = await api(`/runs/${state.run}/series?${new URLSearchParams({ q, limit: '100' })}`);
  if (seq !== searchSeq) return; // a newer keystroke already asked
  $('matches').textContent = found.matches > found.series.length ? `${found.series.length} of ${found.matches} series` : `${found.matches} series`;
  $('results').replaceChildren(...found.series.map((s) => h('li', {}, h('button', {
    type: 'button',
    className: 'result',
    onclick: () => chooseSeries(s).catch(showError),
  }, h('strong', { textContent: `${s.store_id} · ${s.sku}` }), h('small', { textContent: `${s.demand_class} · MASE ${num(s.backtest_mase, 2)}` })))));
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
  const detail = await api(`/series/${encodeURIComponent(s.store_id)}/${encodeURIComponent(s.sku)}?run=${state.run}`);
  state.series = { store_id: detail.store_id, sku: detail.sku };
  state.detail = detail;
  writeHash();
  markCurrent();
  $('series-empty').hidden = true;
  $('series-view').hidden = false;
  $('series-title').textContent = `${detail.store_id} · ${detail.sku}`;
  $('band-label').textContent = detail.band ? `${detail.band.lower}–${detail.band.upper}` : 'no band';
  facts($('model'), [
    ['model', detail.model],
    ['demand class', detail.demand_class],
    ['backtest MASE', num(detail.backtest.mase)],
    ['RMSSE', num(detail.backtest.rmsse)],
    ['bias', num(detail.backtest.bias)],
    ['fallback', detail.fallback],
  ]);
  render();
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
  const last = detail.history[detail.history.length - 1]?.date;
  if (!days || !last) return detail;
  const from = new Date(Date.parse(`${last}T00:00:00Z`) - days * 86400000).toISOString().slice(0, 10);
  const history = detail.history.filter((p) => p.date > from);
  const start = history[0]?.date ?? from;
  return { ...detail, history, events: detail.events.filter((e) => e.date >= start) };
}

function render() {
  const d = state.detail;
  if (!d) return;
  const v = visible(d);
  drawChart($('chart'), { history: v.history, forecast: v.forecast, lower: d.band?.lower, upper: d.band?.upper, events: v.events }, hover);
  $('events').replaceChildren(...(v.events.length
    ? v.events.map((e) => h('li', {}, h('span', { className: `kind ${e.kind}`, textContent: e.kind }), `${e.date} ${e.name}`))
    : [h('li', { className: 'muted', textContent: 'no holidays or events in view' })]));
}

function hover(p, x, y, events) {
  const tip = $('tooltip');
  if (!p) { tip.hidden = true; return; }
  const d = state.detail;
  const lines = [p.date];
  if (p.units !== undefined) lines.push(`sold ${num(p.units, 1)}${p.stockout ? ' (stock-out)' : ''}`);
  if (p.forecast !== undefined) lines.push(`forecast ${num(p.forecast, 1)}`, d.band ? `${d.band.lower}–${d.band.upper} ${num(p.lo, 1)}–${num(p.hi, 1)}` : '');
  for (const e of events) lines.push(`${e.name} (${e.kind})`);
  tip.replaceChildren(...lines.filter(Boolean).map((l) => h('div', { textContent: l })));
  tip.hidden = false;
  const chart = $('chart');
  const left = chart.offsetLeft + Math.min(x + 12, chart.clientWidth - tip.offsetWidth);
  tip.style.left = `${left}px`;
  tip.style.top = `${chart.offsetTop + y}px`;
}

// ---- wiring

let typing;
$('search').addEventListener('input', () => {
  clearTimeout(typing);
  typing = setTimeout(() => search().catch(showError), 150);
});
$('run').addEventListener('change', (e) => chooseRun(e.target.value).catch(showError));
$('window').addEventListener('change', render);
new ResizeObserver(() => render()).observe($('chart'));

loadRuns().catch(showError);
