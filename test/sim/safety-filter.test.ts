/**
 * The one-step safety filter, checked with the plant step itself (full A and
 * B, float64) rather than the filter's own interval arithmetic: wherever some
 * input in the box keeps a bound, the filtered input keeps it; a safe input is
 * not moved; the filter is a projection (never further from a safe target);
 * the float32 constants and arithmetic of the generated C keep the bounds too.
 * For a state that one input moves nearly alone (the two carts), "safe"
 * means safe whatever the other inputs do within their boxes, again checked
 * by stepping the plant at every corner of the others' box.
 */
import { describe, expect, it } from 'vitest';
import { Rng, applySafetyFilter, filterFloat32, filteredStates, getPlant, plantFromJson, plantStep, resolvePlant, safetyFilter, type Plant, type SafetyFilter } from '../../sim/index.js';
import { boxScaling, constraintRows } from '../../trainer/index.js';

/** States in (and a little beyond) the state box, a third of them on a face. */
function states(plant: Plant, n: number, rng: Rng): number[][] {
  const { min, max } = plant.xBounds;
  return Array.from({ length: n }, () => {
    const x = min.map((lo, i) => (Number.isFinite(lo) ? rng.uniform(lo, max[i]) : rng.uniform(-1, 1)));
    if (rng.next() < 0.33) {
      const i = rng.int(plant.nx);
      if (Number.isFinite(min[i])) x[i] = rng.next() < 0.5 ? min[i] : max[i];
    }
    return x;
  });
}

const uRandom = (plant: Plant, rng: Rng) => plant.uBounds.min.map((lo, j) => rng.uniform(lo, plant.uBounds.max[j]));

/** Largest excess of the filtered states' bounds after one step (≤ 0: all kept), from plantStep. */
function excess(plant: Plant, kept: Set<number>, x: number[], u: ArrayLike<number>, slack = 0): number {
  const xn = plantStep(plant, x, u);
  let e = -Infinity;
  for (const i of kept) {
    const w = slack * Math.max(1, Math.abs(plant.xBounds.min[i]), Math.abs(plant.xBounds.max[i]));
    if (Number.isFinite(plant.xBounds.max[i])) e = Math.max(e, xn[i] - plant.xBounds.max[i] + w);
    if (Number.isFinite(plant.xBounds.min[i])) e = Math.max(e, plant.xBounds.min[i] - xn[i] + w);
  }
  return e;
}

/**
 * The same, with each filtered state's row stepped with u on the input that
 * keeps it and every corner of the box on the others: ≤ 0 when u keeps the
 * bounds whatever the other inputs do.
 */
function robustExcess(plant: Plant, f: SafetyFilter, x: number[], u: ArrayLike<number>, slack = 0): number {
  const { uBounds } = plant;
  let e = -Infinity;
  for (const row of f.rows) {
    // the inputs other than row.input that move this state; the rest keep u (they do not matter here)
    const others = plant.B[row.state].flatMap((b, k) => (b !== 0 && k !== row.input ? [k] : []));
    for (let c = 0; c < 1 << others.length; c++) {
      const v = Array.from(u);
      others.forEach((k, n) => (v[k] = c & (1 << n) ? uBounds.max[k] : uBounds.min[k]));
      e = Math.max(e, excess(plant, new Set([row.state]), x, v, slack));
    }
  }
  return e;
}

describe('one-step safety filter', () => {
  it('keeps the states one input moves: the 12-state quadrotor (all twelve), double integrator, cart-pole; the two carts (each motor nearly alone); not the aircraft (both inputs move its angle of attack)', () => {
    expect(filteredStates(safetyFilter(getPlant('quadrotor-hover'))).size).toBe(12);
    expect([...filteredStates(safetyFilter(getPlant('double-integrator')))]).toEqual([0, 1]);
    expect(filteredStates(safetyFilter(getPlant('cartpole'))).size).toBe(4);
    // B's other entry is 1.3 % (velocities) and 0.8 % (positions) of the main one: cart 1's states go to F1, cart 2's to F2
    const tc = safetyFilter(resolvePlant('examples/two-carts.json'))!;
    expect(tc.rows.map((r) => [r.state, r.input])).toEqual([
      [0, 0],
      [1, 0],
      [2, 1],
      [3, 1],
    ]);
    expect(safetyFilter(getPlant('aircraft-pitch'))).toBeNull();
  });

  it('a state is kept when the other inputs reach at most 5 % as far as its main one (range-weighted), and left to the trainer above', () => {
    // x⁺ = x + B u, two states, two inputs; input 1 has twice input 0's range
    const plant = (b01: number, b10: number) =>
      plantFromJson(
        {
          format: 'ultro-plant/1',
          name: 'coupled',
          time: 'discrete',
          dt: 0.1,
          A: [
            [1, 0],
            [0, 1],
          ],
          B: [
            [1, b01],
            [b10, 1],
          ],
          xMin: [-1, -1],
          xMax: [1, 1],
          uMin: [-1, -2],
          uMax: [1, 2],
          Q: [1, 1],
          R: [1, 1],
        },
        'coupled plant',
      );
    // state 0: input 1 reaches |b01|·4 against input 0's 1·2; state 1: input 0 reaches |b10|·2 against 1·4
    const rows = (b01: number, b10: number) => (safetyFilter(plant(b01, b10))?.rows ?? []).map((r) => [r.state, r.input]);
    expect(rows(0.024, 0.09)).toEqual([
      [0, 0],
      [1, 1],
    ]);
    expect(rows(0.026, 0.11)).toEqual([]);
    expect(rows(-0.024, 0)).toEqual([
      [0, 0],
      [1, 1],
    ]);
    // comparable inputs: the larger reach does not make a state filtered (the aircraft's case)
    expect(rows(0.5, 0)).toEqual([[1, 1]]);
  });

  it("a nearly-alone state's interval is narrowed by exactly the other input's reach: the two carts' v1", () => {
    const plant = resolvePlant('examples/two-carts.json');
    const f = safetyFilter(plant)!;
    const row = f.rows.find((r) => r.state === 1)!;
    // v1' = Σ A_1k x_k + B_10 F1 + B_11 F2 ≤ 1.5 − δ for every F2 in [−1, 1]: F1 ≤ t + (1.5 − δ − |B_11|) / B_10
    const [b0, b1] = plant.B[1];
    const hi = row.bounds.find((b) => b.side === 'upper')!.c;
    expect(hi).toBeCloseTo((1.5 - 1.5e-5 - Math.abs(b1)) / b0, 12);
    expect(Math.abs(b1) / b0).toBeGreaterThan(0.012);
    expect(Math.abs(b1) / b0).toBeLessThan(0.014);
  });

  for (const name of ['quadrotor-hover', 'double-integrator', 'cartpole', 'examples/two-carts.json']) {
    it(`${name}: where a safe input exists the filtered one is safe (float64 and float32), safe inputs are not moved, and it never moves away from a safe target`, () => {
      const plant = resolvePlant(name);
      const f = safetyFilter(plant)!;
      const f32 = filterFloat32(f);
      const kept = filteredStates(f);
      const rng = new Rng(5);
      let witnessed = 0,
        moved = 0;
      for (const x of states(plant, 3000, rng)) {
        // a witness: a random input that keeps every filtered bound with room to spare
        let w: number[] | null = null;
        for (let t = 0; t < 40 && !w; t++) {
          const c = uRandom(plant, rng);
          if (robustExcess(plant, f, x, c, 1e-4) <= 0) w = c;
        }
        const u = uRandom(plant, rng);
        const u64 = u.slice();
        const m64 = applySafetyFilter(f, x, u64);
        const x32 = x.map(Math.fround);
        const u32 = u.map(Math.fround);
        applySafetyFilter(f32, x32, u32, Math.fround);
        for (const v of [...u64, ...u32]) expect(Number.isFinite(v)).toBe(true);
        u64.forEach((v, j) => expect(v >= plant.uBounds.min[j] && v <= plant.uBounds.max[j]).toBe(true));
        if (m64) moved++;
        if (!w) continue;
        witnessed++;
        expect(robustExcess(plant, f, x, u64)).toBeLessThanOrEqual(0);
        expect(robustExcess(plant, f, x32, u32)).toBeLessThanOrEqual(0);
        expect(excess(plant, kept, x32, u32)).toBeLessThanOrEqual(0);
        // a projection: each input no further from the safe target than before
        u64.forEach((v, j) => expect(Math.abs(v - w![j])).toBeLessThanOrEqual(Math.abs(u[j] - w![j]) + 1e-12));
        // a safe input stays as it is
        const ws = w.slice();
        expect(applySafetyFilter(f, x, ws)).toBe(false);
        expect(ws).toEqual(w);
      }
      expect(witnessed).toBeGreaterThan(1000);
      expect(moved).toBeGreaterThan(50);
    });
  }

  it('NaN and infinite states: a finite control inside the box, in float64 and float32', () => {
    const plant = getPlant('quadrotor-hover');
    const f = safetyFilter(plant)!;
    const f32 = filterFloat32(f);
    for (const s of [NaN, Infinity, -Infinity, 1e38, -1e38])
      for (let i = 0; i < plant.nx; i++) {
        const x = new Array(plant.nx).fill(0.1);
        x[i] = s;
        for (const [flt, round] of [
          [f, (v: number) => v],
          [f32, Math.fround],
        ] as const) {
          // the box is the filter's own (float32 ends for the C)
          const u = flt.uMin.map((lo, j) => round((lo + flt.uMax[j]) / 2));
          applySafetyFilter(flt, x, u, round);
          u.forEach((v, j) => expect(v >= flt.uMin[j] && v <= flt.uMax[j], `x[${i}]=${s}: u[${j}]=${v}`).toBe(true));
        }
      }
  });

  it('the trainer leaves the filtered bounds to the filter: no one-step rows on the quadrotor and the two carts, the aircraft keeps its pitch rows', () => {
    for (const [name, stateRows] of [
      ['quadrotor-hover', false],
      ['examples/two-carts.json', false],
      ['aircraft-pitch', true],
    ] as const) {
      const plant = resolvePlant(name);
      const dom = plant.domain ?? plant.xBounds;
      const s = boxScaling(dom, plant.uBounds);
      // a state on a face, so that some one-step rows are not dropped as unreachable
      const x = dom.max.slice();
      const withF = constraintRows(plant, s, x, { safetyFilter: true });
      const without = constraintRows(plant, s, x, { safetyFilter: false });
      expect(without.some((r) => r.kind === 'safety')).toBe(true);
      expect(withF.some((r) => r.kind === 'safety')).toBe(stateRows);
      expect(withF.filter((r) => r.kind === 'actuator')).toHaveLength(2 * plant.nu);
    }
  });
});
