import { readFileSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, extname, join } from 'node:path';
import { ARTIFACTS } from '../publish/artifacts.js';
import { packageRoot } from '../version.js';

/**
 * The planner page is plain HTML, CSS and JavaScript in web/ at the package root: nothing to
 * build, and the same folder is found whether the server runs from src/ or dist/. The files are
 * read once at start into a map, and only names in that map are served. One asset is made
 * here: downloads.json, the artifacts the page offers as download buttons (publish/artifacts.ts).
 * The charts are drawn with uPlot, a dependency of the package: its ES module and stylesheet are
 * served from node_modules as they are (no CDN, nothing to build).
 */

/** uPlot's files in its package, served as /assets/<name>. */
const UPLOT_FILES = ['uPlot.esm.js', 'uPlot.min.css'];

function uplotDir(): string {
  return dirname(createRequire(import.meta.url).resolve('uplot'));
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
};

export interface PageAsset {
  readonly body: string;
  readonly type: string;
}

export function loadPageAssets(dir = join(packageRoot(), 'web')): Map<string, PageAsset> {
  const assets = new Map<string, PageAsset>();
  for (const name of readdirSync(dir)) {
    const type = TYPES[extname(name)];
    if (type) assets.set(name, { body: readFileSync(join(dir, name), 'utf8'), type });
  }
  if (!assets.has('index.html')) throw new Error(`planner page missing: ${join(dir, 'index.html')}`);
  const vendor = uplotDir();
  for (const name of UPLOT_FILES) assets.set(name, { body: readFileSync(join(vendor, name), 'utf8'), type: TYPES[extname(name)] });
  const downloads = ARTIFACTS.flatMap((a) => ('download' in a && a.served ? [{ name: a.name, ...a.download }] : []));
  assets.set('downloads.json', { body: JSON.stringify(downloads), type: 'application/json; charset=utf-8' });
  return assets;
}
