// Bundles the CLI and the worker entry points with esbuild into dist/.
// Type checking is separate (`npm run typecheck`); this only transpiles.
import { build } from 'esbuild';
import { readdirSync, existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const entryPoints = { cli: join(root, 'cli/main.ts') };
// Every `*.worker.ts` file anywhere in the source folders becomes dist/workers/<name>.js.
for (const dir of ['sim', 'trainer', 'codegen', 'targets', 'firmware-host', 'pipeline']) {
  const abs = join(root, dir);
  if (!existsSync(abs)) continue;
  for (const f of readdirSync(abs, { recursive: true })) {
    const rel = String(f);
    if (rel.endsWith('.worker.ts')) {
      const name = rel.split('/').pop().replace(/\.worker\.ts$/, '');
      entryPoints[`workers/${name}`] = join(abs, rel);
    }
  }
}
const extra = process.argv.slice(2);
for (const e of extra) entryPoints[e.replace(/\.ts$/, '').replace(/\//g, '-')] = join(root, e);

await build({
  entryPoints,
  outdir: join(root, 'dist'),
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'esm',
  packages: 'external',
  sourcemap: 'linked',
  logLevel: 'warning',
});
