/**
 * The generated policy C, compiled with host gcc (-Wall -Wextra -Werror,
 * UBSan trapping signed overflow and bad shifts), must equal the TypeScript
 * integer reference bit for bit: ±0 LSB, because both implement the same
 * integer arithmetic and the same float32 steps.
 */
import { describe, expect, it } from 'vitest';
import { Rng } from '../../sim/index.js';
import { emitPolicy, f32Key, fixedPointError, policyFloat32, policyQ, quantizeModel, type QuantizedModel } from '../../codegen/index.js';
import type { PolicyModel } from '../../trainer/index.js';
import { compileHost, runLines, writeFiles } from '../helpers/c.js';
import { cFloatText, floatInputs, policyLine } from '../helpers/policy-lines.js';
import { fixtureModel, randomModel } from '../helpers/models.js';

function check(name: string, model: PolicyModel, q: QuantizedModel) {
  const dir = writeFiles(emitPolicy(q));
  const exe = compileHost(dir, ['ultro_policy.c', 'ultro_nn.c'], [`${process.cwd()}/test/c/policy_harness.c`]);
  const xs = floatInputs(model, 10_000, 7);
  const out = runLines(
    exe,
    xs.map((x) => 'F ' + x.map(cFloatText).join(' ')),
  );
  expect(out).toHaveLength(xs.length);
  let mismatches = 0;
  xs.forEach((x, k) => {
    const want = policyLine(q, x);
    if (out[k] !== want && mismatches++ < 5) expect(`${name} x=${x}: ${out[k]}`).toBe(`${name} x=${x}: ${want}`);
  });
  expect(mismatches).toBe(0);
  // the integer entry point over the whole input type range (it clamps to the proven range)
  const rng = new Rng(11);
  const lim = Math.pow(2, q.actBits - 1);
  const qs = Array.from({ length: 3000 }, () => Array.from({ length: q.nx }, () => rng.int(2 * lim) - lim));
  const outQ = runLines(
    exe,
    qs.map((x) => 'Q ' + x.join(' ')),
  );
  qs.forEach((x, k) => expect(outQ[k].trim()).toBe(policyQ(q, x).join(' ')));
}

describe('generated policy C vs the TypeScript integer reference', () => {
  for (const variant of ['int8', 'int16'] as const) {
    it(`double-integrator fixture, ${variant}: bit-exact on 10,000 float and 3,000 integer inputs, UBSan clean`, () => {
      const m = fixtureModel();
      check('fixture', m, quantizeModel(m, { variant }));
    });
    it(`ReLU network (dc-motor, 3-12-10-1), ${variant}`, () => {
      const m = randomModel('dc-motor', [12, 10], 'relu', 3);
      check('relu', m, quantizeModel(m, { variant }));
    });
    it(`256 wide (the width limit: row kernels in chunks, a 256-input row), ${variant}`, () => {
      const m = randomModel('double-integrator', [256], 'tanh', 6, 0.3);
      check('wide', m, quantizeModel(m, { variant }));
    });
    it(`wide hidden layers (2-40-200-24-1: int8 rows of more than 16 inputs go chunk by chunk, 200 rows in two blocks), ${variant}`, () => {
      const m = randomModel('double-integrator', [40, 200, 24], 'tanh', 7, 0.3);
      check('chunked', m, quantizeModel(m, { variant }));
    });
    it(`hard-tanh network, per-layer scales (cart-pole 4-8-8-1), ${variant}`, () => {
      const m = randomModel('cartpole', [8, 8], 'hardtanh', 4);
      const q = quantizeModel(m, { variant, perNeuron: false });
      expect(q.perNeuron).toBe(false);
      check('hardtanh', m, q);
    });
  }
  it('pre-activations far beyond tanh saturation (first-layer weights ×150): no weight bits given up, saturating shifts, bit-exact', () => {
    // int16 tanh takes its input in Q22, so a pre-activation beyond ±512 does not fit int32 once shifted
    // left: the shift saturates (past every activation's saturation) instead of the quantiser dropping
    // weight bits until the layer was nearly constant (which erred by ~40 % of the actuator range).
    const m = randomModel('double-integrator', [8, 8], 'tanh', 6);
    m.network.layers[0].W = m.network.layers[0].W.map((row) => row.map((w) => 150 * w));
    m.network.layers[0].b = m.network.layers[0].b.map((b) => 150 * b);
    for (const variant of ['int8', 'int16'] as const) {
      const q = quantizeModel(m, { variant });
      if (variant === 'int16') expect(Math.min(...q.layers[0].shift)).toBeLessThan(0); // the left-shift path is exercised
      check(`large-${variant}`, m, q);
    }
    const q16 = quantizeModel(m, { variant: 'int16' });
    const grid = floatInputs(m, 2000, 3).filter((x) => x.every(Number.isFinite));
    const err = fixedPointError(q16, m, grid.flat(), m.network.sizes[0]);
    expect(Math.max(...err.rmsOfRange)).toBeLessThan(0.005);
  });
  it('quadrotor-size tanh network with 4 outputs, int16 (wide inputs and outputs)', () => {
    const m = randomModel('quadrotor-hover', [16], 'tanh', 5, 0.7);
    check('quad', m, quantizeModel(m, { variant: 'int16' }));
  });
  it('with the one-step safety filter (quadrotor 12-16-4, all twelve states filtered; cart-pole): filtered controls bit-exact, the one-call policy equals the pieces', () => {
    for (const [plant, hidden] of [
      ['quadrotor-hover', [16]],
      ['cartpole', [8, 8]],
    ] as const) {
      const m = randomModel(plant, [...hidden], 'tanh', 8, 0.7);
      m.output.safetyFilter = true;
      const q = quantizeModel(m, { variant: 'int8' });
      expect(q.filter?.rows.length).toBe(m.network.sizes[0]);
      check(`filter-${plant}`, m, q);
      // the filter does act on these inputs, and the control it gives differs from the box clamp's
      const moved = floatInputs(m, 2000, 9).filter((x) => policyFloat32(q, x).filtered).length;
      expect(moved).toBeGreaterThan(100);
    }
  });
  it('off-centre input scaling and a domain edge at 0 (the float wrapper subtracts the offset; -0 is inside, not clamped)', () => {
    const m = fixtureModel();
    m.input.domain.min[0] = 0;
    m.input.offset[0] = 2.5;
    m.input.scale[0] = 2.5;
    for (const variant of ['int8', 'int16'] as const) {
      const q = quantizeModel(m, { variant });
      expect(q.wrapper.inOffset[0]).toBe(2.5);
      check(`offset-${variant}`, m, q);
    }
  });
});

describe('float wrapper constants', () => {
  it('f32Key orders like float32 (±0 equal) on specials and random bit patterns', () => {
    const rng = new Rng(5);
    const vals = [0, -0, 1e-45, -1e-45, 1, -1, 3.4e38, -3.4e38, Infinity, -Infinity, 0.5, -0.5];
    const view = new DataView(new ArrayBuffer(4));
    for (let k = 0; k < 4000; k++) {
      view.setUint32(0, rng.int(2 ** 16) * 2 ** 16 + rng.int(2 ** 16));
      const f = view.getFloat32(0);
      if (!Number.isNaN(f)) vals.push(f);
    }
    for (let k = 0; k < 20_000; k++) {
      const a = vals[rng.int(vals.length)],
        b = vals[rng.int(vals.length)];
      expect(Math.sign(f32Key(a) - f32Key(b))).toBe(a < b ? -1 : a > b ? 1 : 0);
    }
  });
  it('the output thresholds are where the float32 output leaves the actuator box (all 65,536 outputs, asymmetric bounds)', () => {
    const m = randomModel('quadrotor-hover', [8], 'tanh', 2, 0.7);
    for (const variant of ['int8', 'int16'] as const) {
      const { wrapper: w } = quantizeModel(m, { variant });
      for (let j = 0; j < w.outK.length; j++)
        for (let qv = -32768; qv <= 32767; qv++) {
          const u = Math.fround(w.outOffset[j] + Math.fround(qv * w.outK[j]));
          if (qv < w.uQlo[j] !== u < w.uMin[j] || qv > w.uQhi[j] !== u > w.uMax[j]) expect(`output ${j}, q ${qv}: u ${u}`).toBe(`within [${w.uQlo[j]}, ${w.uQhi[j]}] exactly when u in the box`);
        }
    }
  });
});
