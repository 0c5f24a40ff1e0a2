import { describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig, parseConfig } from '../src/config/load.js';
import { UserError } from '../src/errors.js';
import { tempDir } from './helpers/tmp.js';

describe('config', () => {
  it('works with no file at all', () => {
    const cfg = loadConfig(undefined);
    expect(cfg.quantiles).toEqual([0.1, 0.5, 0.9]);
    expect(cfg.quality.negativeUnits).toBe('zero');
  });

  it('names the key, the bad value and what is allowed', () => {
    expect(() => parseConfig({ quality: { negativeUnits: 'drop' } }, 'my.json')).toThrow(
      /my\.json: quality\.negativeUnits = "drop": expected one of "zero"\|"reject"\|"keep"/,
    );
  });

  it('refuses unknown keys so a typo is not silently ignored', () => {
    expect(() => parseConfig({ horizn: 12 }, 'my.json')).toThrow(/unknown key horizn/);
  });

  it('lets flags override the file, and blames the flag when it is wrong', () => {
    const dir = tempDir();
    const file = join(dir, 'c.json');
    writeFileSync(file, JSON.stringify({ horizon: 13, out: 'x' }));
    expect(loadConfig(file, { horizon: 4 }).horizon).toBe(4);
    expect(() => loadConfig(file, { horizon: 0 })).toThrow(/flag for horizon = 0/);
  });

  it('always publishes the median', () => {
    expect(parseConfig({ quantiles: [0.9, 0.05] }).quantiles).toEqual([0.05, 0.5, 0.9]);
  });

  it('reports a file that is not JSON as a user error', () => {
    const dir = tempDir();
    const file = join(dir, 'bad.json');
    writeFileSync(file, '{ horizon: 3 ');
    expect(() => loadConfig(file)).toThrow(UserError);
    expect(() => loadConfig(file)).toThrow(/bad\.json is not valid JSON/);
  });

  it('takes only http(s) webhooks', () => {
    for (const url of ['file:///etc/passwd', 'ftp://example.com/hook', 'gopher://127.0.0.1:25/', 'javascript:alert(1)']) {
      expect(() => parseConfig({ lifecycle: { webhook: url } }, 'my.json'), url).toThrow(`my.json: lifecycle.webhook = "${url}": expected an http:// or https:// URL`);
    }
    expect(parseConfig({ lifecycle: { webhook: 'https://hooks.example.com/shelfcast' } }).lifecycle.webhook).toBe('https://hooks.example.com/shelfcast');
    expect(parseConfig({ lifecycle: { webhook: 'http://10.0.0.5:8080/drift' } }).lifecycle.webhook).toBe('http://10.0.0.5:8080/drift');
  });

  it('refuses dates that do not exist', () => {
    expect(() => parseConfig({ quality: { asOf: '2025-02-30' } }, 'my.json')).toThrow('my.json: quality.asOf = "2025-02-30": expected a date that exists, as YYYY-MM-DD');
    expect(() => parseConfig({ quality: { asOf: '2025-13-01' } })).toThrow(/quality\.asOf/);
    expect(parseConfig({ quality: { asOf: '2024-02-29' } }).quality.asOf).toBe('2024-02-29');
  });

  it('refuses quantile levels whose columns would collide or round to p0/p100', () => {
    expect(() => parseConfig({ quantiles: [0.12345, 0.1234500001] })).toThrow('0.12345 and 0.1234500001 would both publish as column p12.345');
    expect(() => parseConfig({ quantiles: [0.5000000001] })).toThrow('would both publish as column p50 (0.5 is always published)');
    expect(() => parseConfig({ quantiles: [1e-9] })).toThrow('would publish as column p0');
    expect(() => parseConfig({ quantiles: [0.99999999] })).toThrow('would publish as column p100');
    expect(parseConfig({ quantiles: [0.025, 0.975, 0.1, 0.1] }).quantiles).toEqual([0.025, 0.1, 0.5, 0.975]);
  });
});
