/**
 * The int8 folds (codegen/fold.ts): hard-tanh outputs fill the whole integer
 * range (c·h in Q7 with c = 127/128) instead of Q6, and each output row's
 * weights fill their grid (the factor goes into the wrapper's output
 * constant). Both lower the fixed-point error and leave the float policy as
 * it was; a refit kept for int8 is not folded, and int16 keeps Q14. The C is
 * checked bit for bit on folded networks in policy-c and avr-cycles.
 */
import { describe, expect, it } from 'vitest';
import { Rng } from '../../sim/index.js';
import { fixedPointError, foldScales, quantizeInput, quantizeModel, runLayer } from '../../codegen/index.js';
import { heldOutStates, policyFunction, type PolicyModel } from '../../trainer/index.js';
import { randomModel } from '../helpers/models.js';

const model = () => randomModel('quadrotor-hover', [16, 16], 'hardtanh', 4, 2);
/** The same network, marked as refitted for `variant` (the quantiser then keeps the unfolded format). */
function keptRefit(m: PolicyModel, variant: 'int8' | 'int16'): PolicyModel {
  return { ...m, provenance: { qat: variant, qatFixedPoint: { refitKept: true } } };
}

describe('int8 folds', () => {
  for (const [variant, top, frac] of [['int8', 127, 7]] as const)
    it(`${variant}: hidden outputs in Q${frac} up to ±${top}, saturated exactly where the float pre-activation is; lower error than Q${frac - 1}`, () => {
      const m = model();
      const q = quantizeModel(m, { variant });
      for (const L of q.layers.slice(0, -1)) expect([L.outFrac, L.outMin, L.outMax]).toEqual([frac, -top, top]);
      const W = m.network.layers[0];
      const rng = new Rng(2);
      const { min, max } = m.input.domain;
      let saturated = 0;
      for (let k = 0; k < 2000; k++) {
        const x = min.map((lo, i) => lo + (max[i] - lo) * rng.uniform(0, 1));
        const a = runLayer(q.layers[0], quantizeInput(q, x), q.tanh);
        const xn = x.map((v, i) => (v - m.input.offset[i]) / m.input.scale[i]);
        W.W.forEach((row, i) => {
          const z = row.reduce((s, w, j) => s + w * xn[j], W.b[i]);
          // well inside saturation the integer output is the end of the range (not ±2^(A−2))
          if (Math.abs(z) > 1.1) {
            expect(a[i]).toBe(Math.sign(z) * top);
            saturated++;
          }
          expect(Math.abs(a[i])).toBeLessThanOrEqual(top);
        });
      }
      expect(saturated).toBeGreaterThan(1000);
      // against the float network: the folded format errs less than the one a kept refit keeps
      const grid = heldOutStates(m, 4000, 1).X;
      const folded = fixedPointError(q, m, grid, q.nx);
      const kept = keptRefit(m, variant);
      const unfolded = quantizeModel(kept, { variant });
      expect(unfolded.layers[0].outFrac).toBe(frac - 1);
      const plain = fixedPointError(unfolded, kept, grid, q.nx);
      const worst = (e: { rmsOfRange: number[] }) => Math.max(...e.rmsOfRange);
      expect(worst(folded)).toBeLessThan(worst(plain));
    });
  it('output rows: each fills its int8 weight grid, the float policy is unchanged, and the error falls', () => {
    // every output row's largest weight just past a power of two: unfolded, its grid leaves a bit almost unused
    const m = randomModel('quadrotor-hover', [16, 16], 'tanh', 3, 1.5);
    const last = m.network.layers[2];
    last.W = last.W.map((row, j) => {
      const top = Math.max(...row.map(Math.abs));
      return row.map((w) => (w * 1.03 * Math.pow(2, j % 3)) / top);
    });
    const f = foldScales(m, 'int8');
    for (const d of f.outScale) expect(d).toBeGreaterThan(1.9);
    // the same control in float (an exact reparametrisation)
    const a = policyFunction(m, { clampOutput: false }),
      b = policyFunction(f.model, { clampOutput: false });
    const grid = heldOutStates(m, 4000, 1).X;
    for (let k = 0; k < 200; k++) {
      const x = grid.subarray(12 * k, 12 * k + 12);
      const ua = a(x),
        ub = b(x);
      ua.forEach((u, j) => expect(ub[j]).toBeCloseTo(u, 10));
    }
    const q = quantizeModel(m, { variant: 'int8' });
    const L = q.layers[2];
    for (let j = 0; j < L.nout; j++) expect(Math.max(...L.W.slice(j * L.nin, (j + 1) * L.nin).map(Math.abs))).toBeGreaterThanOrEqual(126);
    const kept = keptRefit(m, 'int8');
    const plain = quantizeModel(kept, { variant: 'int8' });
    const Lp = plain.layers[2];
    for (let j = 0; j < Lp.nout; j++) expect(Math.max(...Lp.W.slice(j * Lp.nin, (j + 1) * Lp.nin).map(Math.abs))).toBeLessThanOrEqual(66);
    const eF = fixedPointError(q, m, grid, q.nx).rmsOfRange,
      eP = fixedPointError(plain, kept, grid, q.nx).rmsOfRange;
    console.log(`output rows folded: int8 RMS error / range ${eP.map((e) => (100 * e).toFixed(3)).join(', ')} % -> ${eF.map((e) => (100 * e).toFixed(3)).join(', ')} %`);
    eF.forEach((e, j) => expect(e).toBeLessThan(eP[j]));
  });
  it('int16 keeps Q14 (an extra activation bit would cost the next layer a weight bit)', () => {
    const q = quantizeModel(model(), { variant: 'int16' });
    for (const L of q.layers.slice(0, -1)) expect([L.outFrac, L.outMin, L.outMax]).toEqual([14, -16384, 16384]);
  });
});
