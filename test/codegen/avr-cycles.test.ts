/**
 * The policy as the ATmega328P runs it (avr-gcc -O2, the generated layers
 * built from the assembly row kernels), on the emulated Uno: its integer
 * outputs equal the TS reference bit for bit on every network shape the
 * kernels specialise for (16- and 24-bit int8 sums, left shifts that
 * saturate, int16 rows in one pass and in chunks, tanh shifts on every path, several outputs, hard-tanh
 * layers beside the row kernels), and its cycle
 * counts — exact, so assertable — are asserted for the double-integrator
 * fixture (`npm run bench -- cycles` prints them against the instruction
 * floor).
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Rng } from '../../sim/index.js';
import { loadModel, type PolicyModel } from '../../trainer/index.js';
import { kernelWidth, policyQ, quantizeInput, quantizeModel, runLayer } from '../../codegen/index.js';
import { measurePolicyCycles } from '../../pipeline/index.js';
import { ROOT } from '../helpers/cli.js';
import { HAVE_AVR } from '../helpers/firmware.js';
import { randomModel } from '../helpers/models.js';

const di = loadModel(join(ROOT, 'test/fixtures/models/double-integrator.json'));
const carts = loadModel(join(ROOT, 'test/fixtures/models/two-carts.json'));
const steep = structuredClone(di);
steep.network.layers[0].W = steep.network.layers[0].W.map((row) => row.map((w) => 150 * w));
steep.network.layers[0].b = steep.network.layers[0].b.map((b) => 150 * b);
/** The DI with its first layer scaled by k (its int16 tanh rows' shifts move by about -log2 k). */
function scaledFirst(k: number): PolicyModel {
  const m = structuredClone(di);
  m.network.layers[0].W = m.network.layers[0].W.map((row) => row.map((w) => k * w));
  m.network.layers[0].b = m.network.layers[0].b.map((b) => k * b);
  return m;
}

/** A grid over the domain, random states inside and beyond it (clamped by the wrapper), and zero. */
function states(m: PolicyModel, n: number): number[][] {
  const { min, max } = m.input.domain;
  const rng = new Rng(5);
  const xs: number[][] = [min.map(() => 0), [...min], [...max]];
  for (let k = 0; k < n; k++) xs.push(min.map((lo, i) => lo - 0.2 * (max[i] - lo) + 1.4 * (max[i] - lo) * rng.uniform(0, 1)));
  return xs;
}

function exact(name: string, m: PolicyModel, variant: 'int8' | 'int16', n: number) {
  const q = quantizeModel(m, { variant });
  const xs = states(m, n);
  const r = measurePolicyCycles(q, xs);
  xs.forEach((x, k) => {
    const ref = policyQ(q, quantizeInput(q, x.map(Math.fround)));
    expect(r.uq[k], `${name} ${variant}, state ${x}`).toBe(ref[0]);
  });
  return { q, r };
}

describe.skipIf(!HAVE_AVR)('policy on the emulated ATmega328P', () => {
  it('double integrator: bit-exact, and exactly these cycle counts (int8 rows: inputs in registers, unsigned MULs into 16 or 24 bits; int16: offset-binary rows, the tanh bytes by MUL)', () => {
    const i8 = exact('DI', di, 'int8', 150);
    expect(i8.q.layers.map((L) => kernelWidth(i8.q, L))).toEqual([16, 24, 24]);
    // The integer core depends on the state only through the shift and clamp branches.
    expect([Math.min(...i8.r.core), Math.max(...i8.r.core)]).toEqual([4769, 4804]);
    // The safety filter (float32, table-driven): its branches depend on the state.
    expect(i8.r.filter).toHaveLength(i8.r.core.length);
    expect([Math.min(...i8.r.filter), Math.max(...i8.r.filter)]).toEqual([1669, 2600]);
    const i16 = exact('DI', di, 'int16', 150);
    expect([Math.min(...i16.r.core), Math.max(...i16.r.core)]).toEqual([11425, 11759]);
  }, 120_000);

  it.each([
    ['two carts (4-16-16-2), int8', carts, 'int8'],
    ['two carts (4-16-16-2), int16: left shifts', carts, 'int16'],
    ['first-layer weights ×150, int8: saturating left shifts', steep, 'int8'],
    ['first-layer weights ×150, int16: tanh rows with shifts -4..0 (left, saturating)', steep, 'int16'],
    ['first-layer weights ×10, int16: tanh rows with shifts 0..3 (0: no shift)', scaledFirst(10), 'int16'],
    ['first-layer weights ÷300, int16: tanh rows with shifts 12..15 (beyond the three-MUL path)', scaledFirst(1 / 300), 'int16'],
    ['2-40-24-1 (nin not a multiple of 16: chunks of 16, 16, 8 and 16, 8), int8', randomModel('double-integrator', [40, 24], 'tanh', 3, 0.4), 'int8'],
    ['2-40-24-1 (chunks of 8: a 40-input layer, middle chunks; shifts 8..11), int16', randomModel('double-integrator', [40, 24], 'tanh', 3, 0.4), 'int16'],
    ['2-40-200-24-1 (chunked rows in two blocks of 128 and 72, a 200-input layer), int8', randomModel('double-integrator', [40, 200, 24], 'tanh', 7, 0.3), 'int8'],
    ['2-40-100-24-1 (chunked rows in blocks of 64 and 36, a 100-input layer: 13 chunks), int16', randomModel('double-integrator', [40, 100, 24], 'tanh', 7, 0.3), 'int16'],
    // hard-tanh hidden layers (the C path) inlined beside an output row kernel: register pressure (the
    // kernels once asked for Y, which such a function keeps as its frame pointer, and did not compile)
    ['quadrotor shape 12-16-16-4 hard tanh, int16', randomModel('quadrotor-hover', [16, 16], 'hardtanh', 4, 0.5), 'int16'],
    ['quadrotor shape 12-16-16-4 hard tanh, int8', randomModel('quadrotor-hover', [16, 16], 'hardtanh', 4, 0.5), 'int8'],
    // int8 hard-tanh and ReLU layers as row kernels with a clamp: 16- and 24-bit sums, chunks, Q7 and Q6
    ['hard tanh 4-24-20-1 (a clamp row kernel with 16-bit sums, a 24-input layer in chunks), int8', randomModel('cartpole', [24, 20], 'hardtanh', 5, 2), 'int8'],
    [
      'the same as a kept int8 refit (Q6: clamped at ±64, inside the int8 range), int8',
      { ...randomModel('cartpole', [24, 20], 'hardtanh', 5, 2), provenance: { qat: 'int8', qatFixedPoint: { refitKept: true } } },
      'int8',
    ],
    ['ReLU 3-12-10-1 (clamp rows at [0, hi]), int8', randomModel('dc-motor', [12, 10], 'relu', 3, 1), 'int8'],
    ['ReLU 4-24-20-1 (chunked clamp rows), int8', randomModel('cartpole', [24, 20], 'relu', 5, 1), 'int8'],
    ['hard tanh 4-24-20-1 (clamp rows in one pass and in chunks of 8), int16', randomModel('cartpole', [24, 20], 'hardtanh', 5, 2), 'int16'],
    ['ReLU 3-12-10-1 (clamp rows at [0, hi], chunks of 8), int16', randomModel('dc-motor', [12, 10], 'relu', 3, 1), 'int16'],
    // 256 wide (the limit): the row kernels run it in chunks of 128, the 256-input output row takes the C path
    ['2-256-1, int8', randomModel('double-integrator', [256], 'tanh', 6, 0.3), 'int8'],
    ['2-256-1, int16', randomModel('double-integrator', [256], 'tanh', 6, 0.3), 'int16'],
  ] as const)(
    '%s: bit-exact with the TS reference',
    (name, m, variant) => {
      exact(name, m, variant, 120);
    },
    120_000,
  );

  it('16-bit rows whose left shifts overflow 16 bits saturate as the reference does (hand-made: a 16-bit output row and lowered shifts)', () => {
    const q = quantizeModel(di, { variant: 'int8' });
    const [L0, , out] = q.layers;
    // the first layer (16-bit sums): shifts 5 lower, so most pre-activations overflow and saturate the tanh
    L0.shift = L0.shift.map((s) => s - 5);
    // the output row scaled down to 16-bit sums (its proven range redone for int8 inputs), shift 11 lower
    out.W = out.W.map((w) => Math.round(w / 64));
    out.B = out.B.map((b) => Math.round(b / 64));
    out.accRange = out.B.map((b, i) => {
      const m = out.W.slice(i * out.nin, (i + 1) * out.nin).reduce((a, w) => a + 128 * Math.abs(w), Math.abs(b));
      return [-m, m] as [number, number];
    });
    out.accBound = Math.max(...out.accRange.map((r) => r[1]));
    out.shift = out.shift.map((s) => s - 11);
    expect(q.layers.map((L) => kernelWidth(q, L))).toEqual([16, 24, 16]);
    const xs = states(di, 150);
    const r = measurePolicyCycles(q, xs);
    const ref = xs.map((x) => policyQ(q, quantizeInput(q, x.map(Math.fround)))[0]);
    expect(r.uq).toEqual(ref);
    expect(ref.filter((u) => u === 32767 || u === -32768).length).toBeGreaterThan(20);
    expect(ref.filter((u) => Math.abs(u) < 32767).length).toBeGreaterThan(5);
  }, 120_000);

  it('hard-tanh rows whose left shifts overflow 24 bits saturate as the reference does (hand-made: shifts lowered)', () => {
    const q = quantizeModel(randomModel('quadrotor-hover', [16, 16], 'hardtanh', 4, 0.5), { variant: 'int8' });
    q.layers[0].shift = q.layers[0].shift.map((s) => s - 20);
    const m = randomModel('quadrotor-hover', [16, 16], 'hardtanh', 4, 0.5);
    const xs = states(m, 150);
    const r = measurePolicyCycles(q, xs);
    xs.forEach((x, k) => expect(r.uq[k]).toBe(policyQ(q, quantizeInput(q, x.map(Math.fround)))[0]));
    const first = xs.map((x) => runLayer(q.layers[0], quantizeInput(q, x.map(Math.fround)), null));
    expect(first.flat().filter((a) => Math.abs(a) === 127).length).toBeGreaterThan(0.9 * first.flat().length);
  }, 120_000);

  it('an output row whose shifted sum leaves int16 saturates as the reference does (the quantiser never makes one: shift lowered by hand)', () => {
    for (const variant of ['int8', 'int16'] as const) {
      const q = quantizeModel(di, { variant });
      const L = q.layers[q.layers.length - 1];
      L.shift = L.shift.map((s) => s - 9);
      const xs = states(di, 120);
      const r = measurePolicyCycles(q, xs);
      const ref = xs.map((x) => policyQ(q, quantizeInput(q, x.map(Math.fround)))[0]);
      expect(r.uq, variant).toEqual(ref);
      expect(ref.filter((u) => u === 32767 || u === -32768).length, variant).toBeGreaterThan(20);
      expect(ref.filter((u) => Math.abs(u) < 32767).length, variant).toBeGreaterThan(5);
    }
  }, 120_000);
});
