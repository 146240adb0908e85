import { Matrix } from 'ml-matrix';
import { describe, expect, it } from 'vitest';
import { Rng } from '../../sim/index.js';
import { PanelSyrk, wasmSyrkAvailable } from '../../trainer/panel-syrk.js';
import { SYRK_WASM_BASE64 } from '../../trainer/wasm/syrk-module.js';
import { assembleSyrk } from '../helpers/wasm.js';

describe('the WebAssembly SYRK kernel', () => {
  it('is the committed text assembled (scripts/build-wasm.ts regenerates it)', async () => {
    expect(Buffer.from(await assembleSyrk()).toString('base64')).toBe(SYRK_WASM_BASE64);
  });

  it('runs on this runtime (SIMD)', () => {
    expect(wasmSyrkAvailable()).toBe(true);
    expect(new PanelSyrk(3, 4).usesWasm).toBe(true);
  });

  for (const wasm of [true, false])
    it(`${wasm ? 'SIMD' : 'scalar'}: G += Σ panels P Pᵀ on the lower triangle equals ml-matrix's product (n mod 4 = 0…3, odd column counts)`, () => {
      const rng = new Rng(5);
      for (const n of [1, 2, 3, 4, 5, 6, 7, 13, 40]) {
        const width = 8;
        const s = new PanelSyrk(n, width, wasm);
        expect(s.usesWasm).toBe(wasm);
        const G = Float64Array.from({ length: n * n }, () => rng.normal());
        const G0 = Float64Array.from(G);
        let sum = Matrix.zeros(n, n);
        // two assemblies, each of three panels with 8, 5 and 1 columns
        for (let round = 0; round < 2; round++) {
          for (const cols of [width, 5, 1]) {
            const P = new Matrix(n, cols);
            for (let t = 0; t < n; t++)
              for (let c = 0; c < width; c++) {
                const v = rng.normal();
                s.panel[t * width + c] = v; // columns past `cols` hold leftovers the kernel must ignore
                if (c < cols) P.set(t, c, v);
              }
            s.flush(G, cols);
            sum = sum.add(P.mmul(P.transpose()));
          }
          s.finish(G);
          for (let i = 0; i < n; i++)
            for (let j = 0; j < n; j++) {
              const want = j <= i ? G0[i * n + j] + sum.get(i, j) : G0[i * n + j];
              expect(Math.abs(G[i * n + j] - want)).toBeLessThanOrEqual(1e-12 * (1 + Math.abs(want)));
            }
        }
      }
    });
});
