import { describe, expect, it } from 'vitest';
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

// The dependency rules of src/ and workers/, from the data flow of docs/design.md, checked on
// the import graph (every import, type-only ones too):
//
//   ingest → calendars → forecast → registry → publish → run → monitor     (the batch side)
//   models and backtest are the forecast stage's pure parts, below every stage;
//   server reads what publish wrote; cli starts everything.
//
// 1. A stage imports only its own folder and earlier stages (order below), never a later one.
// 2. models/ imports nothing outside models/: pure functions over Float64Arrays.
// 3. Foundations (errors, version, iso-date, db, config) may be imported by anyone; they import
//    only each other, models/ (config checks model names) and the format helpers.
// 4. Two modules every stage may use, because they are contracts rather than stages:
//    - the format helpers of publish/ (format, csv-sql, csv-writer, published-paths): how text
//      is published; they import only foundations and each other;
//    - forecast/wire.ts, the worker wire format: it imports only models/.
// 5. server/ imports only foundations, the format helpers and publish/ (the published runs),
//    and nothing but cli/ imports server/: the batch side never depends on the HTTP side.
// 6. schedule/ imports only foundations (its jobs are handed to it); workers/ only forecast/.

const STAGES = ['models', 'backtest', 'ingest', 'calendars', 'forecast', 'plan', 'registry', 'publish', 'run', 'monitor'];
const FOUNDATIONS = ['errors', 'version', 'iso-date', 'db', 'config'];
const FORMAT_HELPERS = ['src/publish/format.ts', 'src/publish/csv-sql.ts', 'src/publish/csv-writer.ts', 'src/publish/published-paths.ts'];
const WIRE = 'src/forecast/wire.ts';
const SIDES = ['server', 'schedule', 'cli', 'workers'];

const root = fileURLToPath(new URL('..', import.meta.url));

/** The folder a module belongs to: src/<folder>/…, src/<name>.ts, or workers. */
function area(file: string): string {
  const parts = file.split('/');
  if (parts[0] === 'workers') return 'workers';
  return parts.length > 2 ? parts[1] : parts[1].replace(/\.ts$/, '');
}

/** Why `from` may not import `to`, or null when it may. */
function violation(from: string, to: string): string | null {
  const a = area(from);
  const b = area(to);
  if (a === b) return null;
  const shared = FORMAT_HELPERS.includes(to) || to === WIRE;
  if (a === 'models') return 'models/ imports nothing outside models/';
  if (to === WIRE && from !== WIRE) return null;
  if (from === WIRE) return b === 'models' ? null : 'forecast/wire.ts imports only models/';
  if (FORMAT_HELPERS.includes(from)) return FOUNDATIONS.includes(b) || FORMAT_HELPERS.includes(to) ? null : 'a format helper imports only foundations and format helpers';
  if (FOUNDATIONS.includes(a)) return FOUNDATIONS.includes(b) || b === 'models' || FORMAT_HELPERS.includes(to) ? null : `foundation ${a} imports only foundations, models/ and format helpers`;
  if (b === 'server' && a !== 'cli') return 'only cli/ imports server/: the batch side never depends on the HTTP side';
  if (a === 'cli') return null;
  if (FOUNDATIONS.includes(b) || shared) return null;
  if (a === 'server') return b === 'publish' ? null : `server/ reads published runs through publish/, not ${b}/`;
  if (a === 'schedule') return 'schedule/ imports only foundations';
  if (a === 'workers') return b === 'forecast' ? null : 'workers/ import only forecast/';
  const ia = STAGES.indexOf(a);
  const ib = STAGES.indexOf(b);
  if (ia < 0) return `${a} is in no rule: place it in STAGES, FOUNDATIONS or SIDES of test/layering.test.ts`;
  if (ib < 0) return `${a}/ is a stage; ${b}/ is not one it may import`;
  return ib < ia ? null : `${a}/ imports ${b}/, a later stage (${STAGES.join(' → ')})`;
}

function sources(dir: string): string[] {
  return readdirSync(join(root, dir), { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    return e.isDirectory() ? sources(p) : e.name.endsWith('.ts') ? [p] : [];
  });
}

/** Every relative import of the engine's modules, as [importer, imported] paths from the repository root. */
function importGraph(): [string, string][] {
  const edges: [string, string][] = [];
  for (const file of [...sources('src'), ...sources('workers')]) {
    const { importedFiles } = ts.preProcessFile(readFileSync(join(root, file), 'utf8'), true, true);
    for (const { fileName } of importedFiles) {
      if (!fileName.startsWith('.')) continue;
      edges.push([file, relative(root, resolve(root, dirname(file), fileName)).replace(/\.js$/, '.ts')]);
    }
  }
  return edges;
}

describe('layering', () => {
  const edges = importGraph();

  it('reads the import graph', () => {
    expect(edges.length).toBeGreaterThan(300);
    expect(edges).toContainEqual(['src/run/finish.ts', 'src/publish/manifest.ts']);
  });

  it('places every folder of src/ in a rule', () => {
    const areas = new Set(edges.flat().map(area));
    expect([...areas].filter((a) => !STAGES.includes(a) && !FOUNDATIONS.includes(a) && !SIDES.includes(a))).toEqual([]);
  });

  it('holds: no stage imports a later one, models/ stays pure, and only cli/ imports server/', () => {
    const broken = edges.flatMap(([from, to]) => {
      const why = violation(from, to);
      return why ? [`${from} → ${to}: ${why}`] : [];
    });
    expect(broken).toEqual([]);
  });

  it('would catch the imports it forbids', () => {
    expect(violation('src/ingest/series-reader.ts', 'src/forecast/batch.ts')).toMatch(/later stage/);
    expect(violation('src/monitor/monitor.ts', 'src/server/run-store.ts')).toMatch(/only cli/);
    expect(violation('src/registry/lost-state.ts', 'src/server/run-store.ts')).toMatch(/only cli/);
    expect(violation('src/models/ets/fit.ts', 'src/db/duckdb.ts')).toMatch(/models/);
    expect(violation('src/server/series-queries.ts', 'src/calendars/plan.ts')).toMatch(/through publish/);
    expect(violation('src/publish/published-paths.ts', 'src/run/run-id.ts')).toMatch(/format helper/);
    expect(violation('src/ingest/rejects.ts', 'src/publish/csv-sql.ts')).toBeNull();
    expect(violation('src/calendars/plan.ts', 'src/forecast/wire.ts')).toBeNull();
  });
});
