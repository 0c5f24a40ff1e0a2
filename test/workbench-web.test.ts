import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { launchChromium, noChromium } from './helpers/chromium.js';
import { parseConfig } from '../src/config/load.js';
import type { Config } from '../src/config/schema.js';
import { openDuckDb, queryRows, sqlString } from '../src/db/duckdb.js';
import { runForecast, type RunSummary } from '../src/run/run.js';
import { startServer, type RunningServer } from '../src/server/server.js';
import { tempDir } from './helpers/tmp.js';
import { OUTAGE_WEEKS, ZERO_WEEKS, weekDate, writeWorkbenchData } from './helpers/workbench-data.js';

// The planner's workbench in Debian's headless Chromium (playwright-core, nothing downloaded),
// at 1280 px and 390 px, on the weekly set of test/helpers/workbench-data.ts: a series with
// zero weeks drawn at 0, a store total in the millions whose axis labels read in full, the
// components panel, the exceptions list by impact, an override entered on the page that the
// next run publishes in forecast_final and the audit list shows, and a read-only token refused.
// Screenshots land in test-output/workbench/.

if (noChromium) process.stderr.write(`test/workbench-web.test.ts: skipped: ${noChromium}\n`);

/** The browser globals page.evaluate callbacks read (the tests compile without the DOM library). */
declare const document: any; // eslint-disable-line @typescript-eslint/no-explicit-any
declare const window: any; // eslint-disable-line @typescript-eslint/no-explicit-any
declare const devicePixelRatio: number;

const SHOTS = join(process.cwd(), 'test-output', 'workbench');
const VIEWER = 'viewer-token-for-the-browser-0123';
const PLANNER = 'planner-token-for-the-browser-0123';
const WIDTHS = [1280, 390] as const;

describe.skipIf(noChromium !== null)(`planner's workbench in Chromium${noChromium ? ` (skipped: ${noChromium})` : ''}`, () => {
  let cfg: Config;
  let run: RunSummary;
  let open: RunningServer;
  let guarded: RunningServer;
  let browser: BrowserContext;
  const pageErrors: string[] = [];

  beforeAll(async () => {
    const out = tempDir();
    cfg = parseConfig({ out, threads: 1, input: { path: writeWorkbenchData(tempDir()) } });
    run = await runForecast(cfg);
    const quiet = () => {};
    open = await startServer({ out, host: '127.0.0.1', port: 0, tokens: [], env: {}, log: quiet });
    guarded = await startServer({
      out, host: '127.0.0.1', port: 0, env: {}, log: quiet,
      tokens: [{ name: 'viewer', token: VIEWER }, { name: 'planner-jo', token: PLANNER, scopes: ['read', 'write'] }],
    });
    browser = await launchChromium();
    mkdirSync(SHOTS, { recursive: true });
  });

  afterAll(async () => {
    await browser?.close();
    await open?.close();
    await guarded?.close();
  });

  async function newPage(width: number, token?: string): Promise<Page> {
    const page = await browser.newPage();
    await page.setViewportSize({ width, height: width < 500 ? 844 : 900 });
    if (token) await page.addInitScript((t: string) => window.sessionStorage.setItem('shelfcast-token', t), token);
    page.on('pageerror', (e) => pageErrors.push(e.message));
    page.on('console', (m) => { if (m.type() === 'error') pageErrors.push(m.text()); });
    return page;
  }

  async function openSeries(page: Page, base: string, store: string, sku: string): Promise<void> {
    await page.goto(`${base}/#store=${store}&sku=${sku}`);
    await page.locator('#series-title', { hasText: `${store} · ${sku}` }).waitFor();
    await page.locator('#chart canvas').waitFor();
    await page.locator('#components-table tbody tr').first().waitFor();
  }

  const noSidewaysScroll = async (page: Page, width: number) => expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(width);

  for (const width of WIDTHS) {
    it(`draws a series' zero weeks at 0 and its outage as not observed, the origin at the data's end (${width} px)`, async () => {
      const page = await newPage(width);
      await openSeries(page, open.url, 'S09', 'ZERO-WK');
      await page.selectOption('#window', '365');
      const drawn = await page.evaluate(({ zero }: { zero: string[] }) => {
        const u = document.getElementById('chart').chart;
        const i = (d: string) => u.times.indexOf(d);
        const ctx = u.ctx;
        const ink = (d: string) => {
          // The zero marker is drawn where 0 is on the y axis: a pixel there is not the background.
          const x = Math.round(u.valToPos(u.data[0][i(d)], 'x', true));
          const y = Math.round(u.valToPos(0, 'y', true));
          const px = ctx.getImageData(x - 1, y - 1, 3, 3).data;
          let dark = 0;
          for (let k = 0; k < px.length; k += 4) if (px[k + 3] > 0 && px[k] + px[k + 1] + px[k + 2] < 600) dark++;
          return dark;
        };
        return {
          sold: zero.map((d) => u.data[1][i(d)]),
          marker: zero.map((d) => u.data[2][i(d)]),
          ink: zero.map(ink),
          zeroAtBottom: Math.abs(u.valToPos(0, 'y', true) - (u.bbox.top + u.bbox.height)) < 2,
          origin: u.origin,
          states: u.states,
        };
      }, { zero: ZERO_WEEKS.map(weekDate) });
      expect(drawn.sold).toEqual([0, 0, 0]);
      expect(drawn.marker).toEqual([0, 0, 0]);
      for (const n of drawn.ink) expect(n).toBeGreaterThan(0);
      expect(drawn.zeroAtBottom).toBe(true);
      expect(drawn.origin).toBe(weekDate(155));
      expect(drawn.states).toContainEqual({ date: weekDate(149), state: 'stockout' });
      await noSidewaysScroll(page, width);
      await page.screenshot({ path: join(SHOTS, `zero-weeks-${width}.png`), fullPage: false });

      await openSeries(page, open.url, 'S09', 'OUTAGE');
      await page.selectOption('#window', '365');
      const outage = await page.evaluate(({ weeks }: { weeks: string[] }) => {
        const u = document.getElementById('chart').chart;
        return { sold: weeks.map((d) => u.data[1][u.times.indexOf(d)]), states: u.states };
      }, { weeks: OUTAGE_WEEKS.map(weekDate) });
      expect(outage.sold).toEqual(OUTAGE_WEEKS.map(() => null));
      for (const w of OUTAGE_WEEKS) expect(outage.states).toContainEqual({ date: weekDate(w), state: 'unobserved' });
      expect(pageErrors).toEqual([]);
      await page.close();
    });

    it(`labels a store total in the millions in full, and shows the components panel (${width} px)`, async () => {
      const page = await newPage(width);
      await openSeries(page, open.url, 'DC', 'TOTAL');
      const axis = await page.evaluate(() => {
        const u = document.getElementById('chart').chart;
        const ctx = document.createElement('canvas').getContext('2d');
        ctx.font = '12px system-ui, -apple-system, "Segoe UI", Roboto, sans-serif';
        const widest = Math.max(...u.fitted.labels.map((l: string) => ctx.measureText(l).width));
        return { labels: u.fitted.labels, splits: u.fitted.splits, widest, axis: u.axes[1]._size, plotLeft: u.bbox.left / devicePixelRatio };
      });
      expect(axis.labels.some((l: string) => /^\d+(\.\d+)?M$/.test(l))).toBe(true);
      // Each label is short and says the value of its tick: "1.5M" is 1,500,000, "500k" is 500,000.
      axis.labels.forEach((l: string, i: number) => {
        expect(l).toMatch(/^(0|\d+(\.\d+)?[kM])$/);
        const value = Number(l.replace(/[kM]$/, '')) * (l.endsWith('M') ? 1e6 : l.endsWith('k') ? 1e3 : 1);
        expect(value).toBeCloseTo(axis.splits[i], -1);
      });
      expect(axis.axis).toBeGreaterThanOrEqual(axis.widest + 6);
      expect(axis.plotLeft).toBeGreaterThanOrEqual(axis.widest);
      await page.screenshot({ path: join(SHOTS, `millions-${width}.png`), fullPage: false });

      // Why this forecast: the parts, their totals and the weights; the drawn parts add up to the drawn forecast.
      const parts = await page.locator('#components-table tbody tr td:first-child').allTextContents();
      expect(parts[0]).toBe('level/trend');
      expect(parts).toContain('yearly seasonality');
      const sums = await page.evaluate(() => {
        const u = document.getElementById('components-chart').chart;
        const last = u.data.length - 1;
        return u.data[0].map((_t: number, i: number) => {
          let s = 0;
          for (let k = 1; k < last; k++) s += u.data[k][i];
          return [s, u.data[last][i]];
        });
      });
      expect(sums).toHaveLength(13);
      for (const [s, f] of sums) expect(s).toBeCloseTo(f, 3);
      expect(await page.locator('#weights').textContent()).toMatch(/^(Combination|One model): /);
      await noSidewaysScroll(page, width);
      await page.locator('#components').screenshot({ path: join(SHOTS, `components-${width}.png`) });
      expect(pageErrors).toEqual([]);
      await page.close();
    });

    it(`lists exceptions by impact, sortable and filtered by reason (${width} px)`, async () => {
      const page = await newPage(width);
      await page.goto(`${open.url}/#view=exceptions`);
      await page.locator('#exceptions tbody tr[data-reason]').first().waitFor();
      const impacts = async () => (await page.locator('#exceptions tbody tr td:nth-child(4)').allTextContents()).map((t) => Number(t.replaceAll(',', '')));
      const before = await impacts();
      expect(before.length).toBeGreaterThan(1);
      expect(before).toEqual([...before].sort((a, b) => b - a));
      expect(await page.locator('#exceptions th[data-key=impact]').getAttribute('aria-sort')).toBe('descending');
      await page.click('#exceptions th[data-key=impact]');
      expect(await impacts()).toEqual([...before].sort((a, b) => a - b));
      await page.click('#exceptions th[data-key=impact]');
      await page.selectOption('#exc-reason', 'cold_start');
      await page.locator('#exc-summary', { hasText: 'cold start' }).waitFor();
      await page.waitForFunction(() => [...document.querySelectorAll('#exceptions tbody tr')].every((r: any) => r.dataset.reason === 'cold_start')); // eslint-disable-line @typescript-eslint/no-explicit-any
      expect(await page.locator('#exceptions tbody').textContent()).toContain('S09 · NEWBIE');
      await page.selectOption('#exc-reason', '');
      await page.locator('#exceptions tbody tr[data-reason]:not([data-reason=cold_start])').first().waitFor();
      await noSidewaysScroll(page, width);
      await page.screenshot({ path: join(SHOTS, `exceptions-${width}.png`), fullPage: true });
      // The series list sorts and filters the same way: cold-start series, by impact.
      await page.click('.tabs button[data-view=series]');
      await page.selectOption('#flag', 'cold_start');
      await page.locator('#matches', { hasText: /^1 series$/ }).waitFor();
      expect(await page.locator('#results').textContent()).toContain('S09 · NEWBIE');
      expect(pageErrors).toEqual([]);
      await page.close();
    });
  }

  it('refuses an override from a read-only token, on the page', async () => {
    const page = await newPage(390, VIEWER);
    await openSeries(page, guarded.url, 'DC', 'TOTAL');
    await page.fill('#ov-amount', '10');
    await page.selectOption('#ov-mode', 'pct');
    await page.fill('#ov-reason', 'trying without the write scope');
    await page.click('#override-form button[type=submit]');
    await page.locator('#override-status', { hasText: 'Not saved' }).waitFor();
    expect(await page.locator('#override-status').textContent()).toMatch(/token "viewer" is read-only/);
    expect(await page.locator('#series-overrides li').count()).toBe(0);
    await page.screenshot({ path: join(SHOTS, 'read-only-390.png'), fullPage: false });
    // The browser logs the refused request itself; nothing else went wrong.
    expect(pageErrors.filter((e) => !e.includes('403'))).toEqual([]);
    pageErrors.length = 0;
    await page.close();
  });

  it('takes an override on the page, which the next run publishes in forecast_final and the audit list shows', async () => {
    for (const width of WIDTHS) {
      const page = await newPage(width, PLANNER);
      await openSeries(page, guarded.url, 'DC', 'TOTAL');
      if (width === 1280) {
        await page.fill('#ov-from', '2026-01-04');
        await page.fill('#ov-to', '2026-01-11');
        await page.selectOption('#ov-mode', 'pct');
        await page.fill('#ov-amount', '15');
        await page.fill('#ov-reason', 'new regional promotion');
        await page.click('#override-form button[type=submit]');
        await page.locator('#override-status', { hasText: 'Saved override #1 as planner-jo' }).waitFor();
        await page.locator('#series-overrides li', { hasText: 'new regional promotion' }).waitFor();

        // The next published run carries it.
        const next = await runForecast(cfg);
        expect(next.runId).not.toBe(run.runId);
        const conn = await openDuckDb();
        const rows = await queryRows<{ date: string; forecast: number; forecast_final: number; override: number | null }>(conn,
          `SELECT strftime(date, '%Y-%m-%d') AS date, forecast, forecast_final, override FROM read_parquet(${sqlString(join(next.dir, 'forecasts.parquet'))}) WHERE store_id = 'DC' AND sku = 'TOTAL' ORDER BY date`);
        conn.closeSync();
        const hit = rows.filter((r) => r.override === 1);
        expect(hit.map((r) => r.date)).toEqual(['2026-01-04', '2026-01-11']);
        for (const r of hit) expect(r.forecast_final).toBeCloseTo(r.forecast * 1.15, 3);
        await page.evaluate(() => window.shelfcast.reload());
      } else {
        await page.goto(`${guarded.url}/#store=DC&sku=TOTAL`);
      }
      await page.locator('#run option', { hasText: '1 override · latest' }).waitFor({ state: 'attached' });
      await page.waitForFunction(() => document.getElementById('chart').chart?.series[6].show === true);
      const final = await page.evaluate(() => {
        const u = document.getElementById('chart').chart;
        return { shown: u.series[6].show, label: u.series[6].label };
      });
      expect(final).toEqual({ shown: true, label: 'final' });
      await page.screenshot({ path: join(SHOTS, `override-${width}.png`), fullPage: false });
      await page.click('.tabs button[data-view=overrides]');
      await page.locator('#audit tbody tr', { hasText: 'applied' }).waitFor();
      const audit = await page.locator('#audit tbody').textContent();
      expect(audit).toContain('created');
      expect(audit).toContain('planner-jo');
      expect(audit).toMatch(/applied.*run.*\d{8}-[0-9a-f]{10}/s);
      expect(await page.locator('#overrides tbody').textContent()).toContain('new regional promotion');
      await noSidewaysScroll(page, width);
      await page.screenshot({ path: join(SHOTS, `audit-${width}.png`), fullPage: true });
      await page.click('.tabs button[data-view=compare]');
      await page.locator('#diff tbody tr').first().waitFor();
      expect(await page.locator('#diff tbody tr').first().textContent()).toContain('override');
      await noSidewaysScroll(page, width);
      await page.screenshot({ path: join(SHOTS, `compare-${width}.png`), fullPage: true });
      expect(pageErrors).toEqual([]);
      await page.close();
    }
  });
});
