/**
 * Hard-tanh layers in fixed point (codegen/quantize.ts, foldHardtanh): in
 * int8 their outputs fill the whole integer range (c·h in Q7 with
 * c = 127/128) instead of Q6, and that lowers the fixed-point error; a refit
 * kept for int8 keeps Q6, and int16 keeps Q14. The C is checked bit for bit
 * on these networks in policy-c and avr-cycles.
 */
import { describe, expect, it } from 'vitest';
import { Rng } from '../../sim/index.js';
import { fixedPointError, quantizeInput, quantizeModel, runLayer } from '../../codegen/index.js';
import { heldOutStates, type PolicyModel } from '../../trainer/index.js';
import { randomModel } from '../helpers/models.js';

const model = () => randomModel('quadrotor-hover', [16, 16], 'hardtanh', 4, 2);
/** The same network, marked as refitted for `variant` (the quantiser then keeps the unfolded format). */
function keptRefit(m: PolicyModel, variant: 'int8' | 'int16'): PolicyModel {
  return { ...m, provenance: { qat: variant, qatFixedPoint: { refitKept: true } } };
}

describe('hard-tanh layers in fixed point', () => {
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
  it('int16 keeps Q14 (an extra activation bit would cost the next layer a weight bit)', () => {
    const q = quantizeModel(model(), { variant: 'int16' });
    for (const L of q.layers.slice(0, -1)) expect([L.outFrac, L.outMin, L.outMax]).toEqual([14, -16384, 16384]);
  });
});
