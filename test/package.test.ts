import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { configJsonSchema, readmeConfigKeys, schemaKeys } from '../src/config/json-schema.js';
import { findConfigFile, loadConfig } from '../src/config/load.js';
import { tempDir } from './helpers/tmp.js';

const root = new URL('..', import.meta.url);
const readme = readFileSync(new URL('README.md', root), 'utf8');
const shipped = JSON.parse(readFileSync(new URL('schema/shelfcast.schema.json', root), 'utf8'));

describe('the package', () => {
  it('ships a JSON Schema of the config that is up to date (npm run schema)', () => {
    expect(shipped).toEqual(JSON.parse(JSON.stringify(configJsonSchema(readme))));
    expect(shipped.properties.input.properties.csv.properties.encoding.enum).toContain('windows-1252');
    expect(shipped.properties.retention.properties.keep.default).toBe(30);
  });

  it('documents every config key in the README table, and only keys that exist', () => {
    const documented = [...readmeConfigKeys(readme).keys()];
    const keys = schemaKeys(shipped);
    const undocumented = keys.filter((k) => k.leaf && !documented.some((d) => k.key === d || k.key.startsWith(`${d}.`))).map((k) => k.key);
    expect(undocumented).toEqual([]);
    expect(documented.filter((d) => !keys.some((k) => k.key === d))).toEqual([]);
  });

  it('packs only what a user needs', () => {
    const [pack] = JSON.parse(execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] })) as { size: number; files: { path: string }[] }[];
    const files = pack.files.map((f) => f.path);
    for (const needed of ['dist/src/cli/main.js', 'dist/workers/forecast.js', 'calendars/holidays/US.csv', 'data/demo/sales.csv', 'web/index.html', 'schema/shelfcast.schema.json', 'README.md', 'LICENSE', 'package.json']) expect(files).toContain(needed);
    expect(files.filter((f) => /^(test|bench|src|docs)\//.test(f) || f.endsWith('.map') || f.endsWith('.ts'))).toEqual([]);
    expect(pack.size).toBeLessThan(1_000_000);
  });
});

describe('config discovery', () => {
  it('reads --config, else SHELFCAST_CONFIG, else ./shelfcast.json', () => {
    const dir = tempDir();
    const here = join(dir, 'project');
    mkdirSync(here);
    expect(findConfigFile(undefined, {}, here)).toBeUndefined();
    writeFileSync(join(here, 'shelfcast.json'), JSON.stringify({ $schema: '../schema/shelfcast.schema.json', horizon: 9 }));
    expect(findConfigFile(undefined, {}, here)).toBe(join(here, 'shelfcast.json'));
    expect(findConfigFile(undefined, { SHELFCAST_CONFIG: '/etc/shelfcast.json' }, here)).toBe('/etc/shelfcast.json');
    expect(findConfigFile('mine.json', { SHELFCAST_CONFIG: '/etc/shelfcast.json' }, here)).toBe('mine.json');
    // "$schema" is for editors, not a setting.
    expect(loadConfig(join(here, 'shelfcast.json'), {}, {}).horizon).toBe(9);
  });

  it('takes the output folder from --out, else SHELFCAST_OUT, else the file', () => {
    const file = join(tempDir(), 'c.json');
    writeFileSync(file, JSON.stringify({ out: '/from/file' }));
    expect(loadConfig(file, {}, {}).out).toBe('/from/file');
    expect(loadConfig(file, {}, { SHELFCAST_OUT: '/from/env' }).out).toBe('/from/env');
    expect(loadConfig(file, { out: '/from/flag' }, { SHELFCAST_OUT: '/from/env' }).out).toBe('/from/flag');
    expect(loadConfig(undefined, {}, { SHELFCAST_CONFIG: file }).out).toBe('/from/file');
  });
});
