import { existsSync } from 'node:fs';
import { chromium, type BrowserContext } from 'playwright-core';
import { tempDir } from './tmp.js';

/**
 * Debian's Chromium for the browser suites, driven by playwright-core (which downloads
 * nothing). Without it a suite is skipped and says why.
 */
export const CHROMIUM = process.env.SHELFCAST_CHROMIUM ?? '/usr/bin/chromium';
export const noChromium = existsSync(CHROMIUM) ? null : `no Chromium at ${CHROMIUM} (apt-get install chromium, or set SHELFCAST_CHROMIUM)`;

/** Flags that keep Chromium off the network it cannot reach anyway. */
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

export function launchChromium(extra: { acceptDownloads?: boolean } = {}): Promise<BrowserContext> {
  return chromium.launchPersistentContext(tempDir('shelfcast-chromium-'), { executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS, viewport: { width: 1280, height: 900 }, ...extra });
}
