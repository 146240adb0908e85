import { describe, expect, it } from 'vitest';
import { Rng } from '../../sim/index.js';
import { analyseRanges, normalisedDomain, quantizeInput, quantizeModel, runLayer } from '../../codegen/index.js';
import { fixtureModel, randomModel } from '../helpers/models.js';

/** Collects failed enclosures (one expect per test, not one per value: millions of values). */
function enclosure() {
  const bad: string[] = [];
  return {
    check(v: number, lo: number, hi: number, what: string) {
      if (!(v >= lo && v <= hi) && bad.length < 5) bad.push(`${what}: ${v} not in [${lo}, ${hi}]`);
    },
    bad,
  };
}

const models = () =>
  [
    ['double-integrator fixture (tanh)', fixtureModel()],
    ['relu, dc-motor', randomModel('dc-motor', [12, 10], 'relu', 3)],
    ['hardtanh, two-input quadrotor slice', randomModel('cartpole', [8, 8], 'hardtanh', 4)],
  ] as const;

describe('range analysis', () => {
  for (const [name, model] of models()) {
    it(`${name}: IBP bounds enclose the float network on 20,000 samples`, () => {
      const r = analyseRanges(model, { splits: 4 });
      const dom = normalisedDomain(model);
      const rng = new Rng(1);
      const L = model.network.layers;
      const e = enclosure();
      for (let t = 0; t < 20_000; t++) {
        // include the corners of the domain
        // the first 2^nx samples are the corners of the domain
        let a = dom.map(([lo, hi], i) => (t < 1 << dom.length ? ((t >> i) & 1 ? hi : lo) : rng.uniform(lo, hi)));
        L.forEach((layer, l) => {
          const z = layer.W.map((row, i) => row.reduce((s, w, j) => s + w * a[j], layer.b[i]));
          // 1e-12: the bounds and the sample use different summation orders
          z.forEach((v, i) => e.check(v, r.layers[l].pre[i][0] - 1e-12, r.layers[l].pre[i][1] + 1e-12, `sample ${t}, layer ${l}, pre-activation ${i}`));
          const last = l === L.length - 1;
          a = z.map((v) => (last ? v : model.network.activation === 'tanh' ? Math.tanh(v) : model.network.activation === 'relu' ? Math.max(0, v) : Math.max(-1, Math.min(1, v))));
        });
        a.forEach((v, j) => e.check(v, r.output[j][0] - 1e-12, r.output[j][1] + 1e-12, `sample ${t}, output ${j}`));
      }
      expect(e.bad).toEqual([]);
    });
  }
  it('splitting the domain tightens the bounds and stays sound', () => {
    const m = fixtureModel();
    const plain = analyseRanges(m, { splits: 1 });
    const split = analyseRanges(m, { splits: 8 });
    expect(split.boxes).toBe(64);
    const w = (r: typeof plain) => r.output[0][1] - r.output[0][0];
    expect(w(split)).toBeLessThan(w(plain));
  });
  for (const variant of ['int8', 'int16'] as const)
    for (const [name, model] of models()) {
      it(`${name}, ${variant}: integer ranges enclose every accumulator and output, within the proven bound`, () => {
        const q = quantizeModel(model, { variant });
        const rng = new Rng(2);
        const dmin = model.input.domain.min,
          dmax = model.input.domain.max;
        const e = enclosure();
        for (let t = 0; t < 5000; t++) {
          // inputs partly outside the domain: the wrapper clamps them into the proven range
          let a: number[] = quantizeInput(
            q,
            dmin.map((lo, i) => rng.uniform(lo - 0.2 * (dmax[i] - lo), dmax[i] + 0.2 * (dmax[i] - lo))),
          );
          for (const [li, L] of q.layers.entries()) {
            for (let i = 0; i < L.nout; i++) {
              let acc = L.B[i];
              let worst = Math.abs(acc);
              for (let j = 0; j < L.nin; j++) {
                acc += L.W[i * L.nin + j] * a[j];
                worst = Math.max(worst, Math.abs(acc));
              }
              e.check(acc, L.accRange[i][0], L.accRange[i][1], `sample ${t}, layer ${li}, accumulator ${i}`);
              e.check(worst, 0, L.accBound, `sample ${t}, layer ${li}, partial sum ${i}`);
            }
            expect(L.accBound).toBeLessThanOrEqual(L.accBits === 16 ? 32767 : 2147483647);
            a = runLayer(L, a, q.tanh);
            a.forEach((v, i) => e.check(v, L.outRange[i][0], L.outRange[i][1], `sample ${t}, layer ${li}, output ${i}`));
          }
        }
        expect(e.bad).toEqual([]);
      });
    }
});
