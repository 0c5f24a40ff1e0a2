import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The tests import the engine from src/, but its worker threads and the CLI run from dist/
 * (src/forecast/pool.ts), so an edit to src/ would otherwise be tested against the old worker.
 * Before any test runs, dist/ is rebuilt when a source is newer than what was compiled from it;
 * a build that fails (a type error) stops the run instead of testing stale code.
 */

const root = fileURLToPath(new URL('..', import.meta.url));

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    return e.isDirectory() ? sources(p) : e.name.endsWith('.ts') ? [p] : [];
  });
}

const mtime = (p: string): number => {
  try {
    return statSync(p).mtimeMs;
  } catch {
    return -Infinity;
  }
};

/** Sources whose compiled file in dist/ is missing or older than they are. */
function staleSources(): string[] {
  return [...sources(join(root, 'src')), ...sources(join(root, 'workers'))].filter((ts) => {
    const js = join(root, 'dist', relative(root, ts)).replace(/\.ts$/, '.js');
    return mtime(js) < mtime(ts);
  });
}

export default function buildIfStale(): void {
  const stale = staleSources();
  if (stale.length === 0) return;
  process.stderr.write(`dist/ is older than ${relative(root, stale[0])}${stale.length > 1 ? ` and ${stale.length - 1} more` : ''}: building it (npm run build)\n`);
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  // Nothing is emitted on a type error, so dist/ stays stale and the next run fails the same way.
  const built = spawnSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.json'), '--noEmitOnError'], { cwd: root, encoding: 'utf8' });
  if (built.status !== 0) {
    throw new Error(`npm run build failed, so the tests would run a stale dist/:\n${built.stdout}${built.stderr}`);
  }
  const still = staleSources();
  if (still.length > 0) throw new Error(`dist/ is still older than ${relative(root, still[0])} after building; is it writable?`);
}
