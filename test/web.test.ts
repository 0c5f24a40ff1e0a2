import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { launchChromium, noChromium } from './helpers/chromium.js';
import { parseConfig } from '../src/config/load.js';
import { runForecast, type RunSummary } from '../src/run/run.js';
import { startServer, type RunningServer } from '../src/server/server.js';
import { tempDir } from './helpers/tmp.js';

// The planner page in Debian's headless Chromium, driven by playwright-core (nothing is
// downloaded). Screenshots land in test-output/web/. Without Chromium the suite is skipped
// and says so.

if (noChromium) process.stderr.write(`test/web.test.ts: skipped: ${noChromium}\n`);

/** The browser globals a page.evaluate callback below reads (the tests compile without the DOM library). */
declare const document: { readonly documentElement: { readonly scrollWidth: number }; getElementById(id: string): any }; // eslint-disable-line @typescript-eslint/no-explicit-any

const SHOTS = join(process.cwd(), 'test-output', 'web');
const TOKEN = 'planner-token-for-the-browser-test';


describe.skipIf(noChromium !== null)(`planner page in Chromium${noChromium ? ` (skipped: ${noChromium})` : ''}`, () => {
  let run: RunSummary;
  let open: RunningServer;
  let guarded: RunningServer;
  let browser: BrowserContext;
  const pageErrors: string[] = [];

  beforeAll(async () => {
    const out = tempDir();
    run = await runForecast(parseConfig({ out, threads: 1 }));
    const quiet = () => {};
    open = await startServer({ out, host: '127.0.0.1', port: 0, tokens: [], env: {}, log: quiet });
    guarded = await startServer({ out, host: '127.0.0.1', port: 0, tokens: [], env: { SHELFCAST_API_TOKEN: TOKEN }, log: quiet });
    browser = await launchChromium({ acceptDownloads: true });
    mkdirSync(SHOTS, { recursive: true });
  });

  afterAll(async () => {
    await browser?.close();
    await open?.close();
    await guarded?.close();
  });

  async function newPage(): Promise<Page> {
    const page = await browser.newPage();
    page.on('pageerror', (e) => pageErrors.push(e.message));
    page.on('console', (m) => { if (m.type() === 'error') pageErrors.push(m.text()); });
    return page;
  }

  async function pickSeries(page: Page, query: string, label: string): Promise<void> {
    await page.locator('#run option').first().waitFor({ state: 'attached' });
    await page.fill('#search', query);
    await page.getByRole('button', { name: label }).click();
    await page.locator('#chart canvas').waitFor();
  }

  it('loads, finds a series, and shows its chart, model, quality and downloads at 1280 px', async () => {
    const page = await newPage();
    await page.goto(`${open.url}/`);
    await pickSeries(page, 's01 milk', 'S01 · MILK-1L');

    expect(await page.locator('#run').inputValue()).toBe(run.runId);
    expect(await page.locator('#series-title').textContent()).toBe('S01 · MILK-1L');
    // The chart (uPlot): history, the p10–p90 band and the forecast are drawn series.
    const drawn = await page.evaluate(() => {
      const u = document.getElementById('chart').chart;
      return { labels: u.series.map((x: { label?: string }) => x.label), bands: u.bands.length, forecast: u.data[5].filter((v: number | null) => v !== null).length };
    });
    expect(drawn.labels).toEqual(expect.arrayContaining(['sold', 'forecast', 'p10', 'p90']));
    expect(drawn.bands).toBe(1);
    expect(drawn.forecast).toBeGreaterThanOrEqual(28);
    expect(await page.locator('#events li').count()).toBeGreaterThan(0);
    const model = await page.locator('#model').textContent();
    expect(model).toContain('combo(');
    expect(model).toMatch(/backtest MASE\d/);
    expect(await page.locator('#quality').textContent()).toContain('35,077');
    expect(await page.locator('#rules').textContent()).toContain('negative units: 16 rows set to 0');

    const links = page.locator('#downloads a');
    expect(await links.evaluateAll((as) => as.map((a) => a.getAttribute('href')))).toEqual(
      ['forecasts.csv', 'forecasts.parquet', 'series.csv', 'rejects.csv', 'exceptions.csv'].map((f) => `/runs/${run.runId}/${f}`),
    );
    const [download] = await Promise.all([page.waitForEvent('download'), links.first().click()]);
    expect(readFileSync(await download.path(), 'utf8')).toBe(readFileSync(join(run.dir, 'forecasts.csv'), 'utf8'));

    await page.screenshot({ path: join(SHOTS, 'planner-1280.png'), fullPage: true });
    expect(pageErrors).toEqual([]);
    await page.close();
  });

  it('fits a 390 px phone screen without sideways scrolling', async () => {
    const page = await newPage();
    await page.setViewportSize({ width: 390, height: 844 });
    await page.goto(`${open.url}/#run=${run.runId}&store=S02&sku=BREAD-WH`);
    await page.locator('#chart canvas').waitFor();
    expect(await page.locator('#series-title').textContent()).toBe('S02 · BREAD-WH');
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    const chartWidth = await page.locator('#chart canvas').evaluate((s) => s.getBoundingClientRect().width);
    expect(chartWidth).toBeLessThanOrEqual(390);
    await page.screenshot({ path: join(SHOTS, 'planner-390.png'), fullPage: true });
    expect(pageErrors).toEqual([]);
    await page.close();
  });

  it('asks for a token when the server wants one, then works with it', async () => {
    const page = await newPage();
    await page.goto(`${guarded.url}/`);
    await page.locator('#token-dialog[open]').waitFor();
    await page.fill('#token', TOKEN);
    await page.click('#token-form button');
    await pickSeries(page, 'S03', 'S03 · MILK-1L');
    const [download] = await Promise.all([page.waitForEvent('download'), page.locator('#downloads a', { hasText: 'Forecasts Parquet' }).click()]);
    expect(readFileSync(await download.path())).toEqual(readFileSync(join(run.dir, 'forecasts.parquet')));
    // The browser's own 401 lines for the first, tokenless calls are expected; nothing else.
    expect(pageErrors.filter((e) => !e.includes('401'))).toEqual([]);
    await page.close();
  });
});
