// Build a committed state (default HEAD) into bench/data/snap-<sha>/dist and return that dist,
// so a long benchmark is not disturbed by edits in the working tree (or by someone's half-done
// build in dist/, which would also change the code version a sharded run checks). The snapshot
// sits inside the repository so that node_modules resolves, and keeps its own package.json and
// calendars/ (the engine finds them relative to dist/).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';

export function snapshot(root, ref = 'HEAD', log = (s) => process.stderr.write(s + '\n')) {
  if (!ref || ref.startsWith('--')) ref = 'HEAD';
  const sha = execFileSync('git', ['rev-parse', '--short', ref], { cwd: root }).toString().trim();
  const dir = join(root, 'bench/data', `snap-${sha}`);
  if (!existsSync(join(dir, 'dist/src/cli/main.js'))) {
    log(`building ${ref} (${sha}) into ${dir}`);
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    execFileSync('sh', ['-c', `git archive ${sha} | tar -x -C "${dir}"`], { cwd: root });
    execFileSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', join(dir, 'tsconfig.json')], { stdio: 'inherit' });
  }
  return join(dir, 'dist');
}
