// Runs a TypeScript entry (e.g. bench/index.ts) by bundling it with esbuild, then importing it.
import { spawnSync } from 'node:child_process';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { dirname, join } from 'node:path';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const [entry, ...args] = process.argv.slice(2);
if (!entry) {
  console.error('usage: node scripts/run-ts.mjs <entry.ts> [args...]');
  process.exit(2);
}
const r = spawnSync(process.execPath, [join(root, 'scripts/build.mjs'), entry], { stdio: 'inherit' });
if (r.status !== 0) process.exit(r.status ?? 1);
process.argv = [process.argv[0], entry, ...args];
await import(pathToFileURL(join(root, 'dist', entry.replace(/\.ts$/, '').replace(/\//g, '-') + '.js')).href);
