/**
 * The package's root directory, found from this module (works from source and
 * from the dist/ bundle): where templates, firmware sources and worker bundles live.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

let cached: string | null = null;

export function packageRoot(): string {
  if (cached) return cached;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pj = join(dir, 'package.json');
    if (existsSync(pj) && (JSON.parse(readFileSync(pj, 'utf8')) as { name?: string }).name === 'ultro') return (cached = dir);
    const up = dirname(dir);
    if (up === dir) throw new Error('cannot find the ultro package root');
    dir = up;
  }
}

/** Path of a worker bundle built by scripts/build.mjs (dist/workers/<name>.js). */
export function workerPath(name: string): string {
  const p = join(packageRoot(), 'dist', 'workers', `${name}.js`);
  if (!existsSync(p)) throw new Error(`worker bundle ${p} is missing: run "npm run build"`);
  return p;
}

/** The package version, stamped into every generated file and report. */
export const ULTRO_VERSION: string = (JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')) as { version: string }).version;
