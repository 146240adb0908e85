/**
 * `npm run bench [-- section...]`: runs the benchmark sections, prints their
 * tables, and writes bench/results.json and bench/results.md.
 */
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fmt, table, type BenchSection } from './harness.js';
import { benchQP } from './qp.js';
import { benchTrain } from './train.js';
import { benchCycles, benchEmulator, benchHil } from './mcu.js';
import { benchPlants } from './plants.js';
import { benchTorch } from './torch.js';
import { benchKernels } from './kernels.js';

const SECTIONS: Record<string, () => Promise<BenchSection>> = {
  qp: benchQP,
  train: benchTrain,
  kernels: benchKernels,
  cycles: benchCycles,
  hil: benchHil,
  emulator: benchEmulator,
  plants: benchPlants,
  torch: benchTorch,
};

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const wanted = process.argv.slice(2).filter((a) => !a.startsWith('-'));
const unknown = wanted.filter((w) => !(w in SECTIONS));
if (unknown.length) {
  console.error(`bench: unknown section(s) ${unknown.join(', ')}; known: ${Object.keys(SECTIONS).join(', ')}`);
  process.exit(2);
}
const run = wanted.length ? wanted : Object.keys(SECTIONS);
const results: BenchSection[] = [];
for (const name of run) results.push(await SECTIONS[name]());

const md = [
  '# Ultro benchmark results',
  '',
  'Ratios are against a baseline timed in the same run; cycle counts are exact (emulated ATmega328P). Times marked "info" are absolute on this machine and only for orientation.',
  '',
  table(
    ['section', 'figure', 'value', 'unit', 'kind'],
    results.flatMap((r) => r.figures.map((f) => [r.section, f.name, fmt(f.value, 4), f.unit, f.kind])),
  ),
  '',
].join('\n');
writeFileSync(join(root, 'bench/results.json'), JSON.stringify({ node: process.version, sections: results }, null, 2) + '\n');
writeFileSync(join(root, 'bench/results.md'), md);
console.log('\n' + md);
console.log('wrote bench/results.json and bench/results.md');
