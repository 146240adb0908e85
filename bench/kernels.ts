/**
 * Kernels bench: the Gauss–Newton assembly's G += P Pᵀ on one Jacobian panel
 * (n parameters × 128 rows), the WebAssembly SIMD kernel against the scalar
 * Float64Array kernel, interleaved in the same run, one thread.
 */
import { Rng } from '../sim/index.js';
import { PanelSyrk, wasmSyrkAvailable } from '../trainer/index.js';
import { compareInterleaved, table, type BenchSection } from './harness.js';

export async function benchKernels(): Promise<BenchSection> {
  const figures: BenchSection['figures'] = [];
  const rows: (string | number)[][] = [];
  if (!wasmSyrkAvailable()) {
    console.log('\nkernels: this runtime has no WebAssembly SIMD; the trainer uses the scalar kernel');
    return { section: 'kernels', figures };
  }
  const width = 128;
  for (const n of [548, 2000]) {
    const simd = new PanelSyrk(n, width, true);
    const scalar = new PanelSyrk(n, width, false);
    const rng = new Rng(n);
    for (let i = 0; i < n * width; i++) simd.panel[i] = scalar.panel[i] = rng.normal();
    const G = new Float64Array(n * n);
    const r = compareInterleaved(
      () => simd.flush(G, width),
      () => scalar.flush(G, width),
      { rounds: n > 1000 ? 5 : 9, callsPerRound: n > 1000 ? 2 : 8 },
    );
    simd.finish(G);
    const flop = n * (n + 1) * width; // n(n+1)/2 entries × len multiply-adds × 2
    rows.push([`${n} × ${width}`, r.baselineMs, r.ms, flop / r.baselineMs / 1e6, flop / r.ms / 1e6, 1 / r.ratio]);
    figures.push({ name: `SYRK panel ${n}×${width}: SIMD speed-up over the scalar kernel`, value: 1 / r.ratio, unit: '×', kind: 'ratio' });
    figures.push({ name: `SYRK panel ${n}×${width}: SIMD rate`, value: flop / r.ms / 1e6, unit: 'GFlop/s', kind: 'info' });
  }
  console.log('\nkernels: G += P Pᵀ for one panel (lower triangle), one thread');
  console.log(table(['panel', 'scalar ms', 'SIMD ms', 'scalar GFlop/s', 'SIMD GFlop/s', 'speed-up'], rows));
  return { section: 'kernels', figures };
}
