// Build the esbuild bundle (CLI + workers) once before the suites: the CLI
// tests spawn bin/ultro.js and the trainer's worker_threads load dist/workers.
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

export default function setup(): void {
  const root = join(dirname(fileURLToPath(import.meta.url)), '..');
  execFileSync(process.execPath, [join(root, 'scripts/build.mjs')], { stdio: 'inherit' });
}
