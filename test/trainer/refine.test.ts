/**
 * The constraint cuts' local search (refine.ts, ascend): it must reach the
 * maximiser of a function over the box, on the box's faces when the
 * unconstrained maximiser lies outside, and never end below where it began.
 */
import { describe, expect, it } from 'vitest';
import { Rng } from '../../sim/index.js';
import { ascend } from '../../trainer/refine.js';

describe('ascend (the worst state near a cut)', () => {
  const box = { min: [-2, 0, -1, 10], max: [2, 1, 3, 20] };
  it('reaches the maximiser of a concave quadratic inside the box, and its projection onto the box outside it', () => {
    const rng = new Rng(3);
    for (const c of [
      [0.5, 0.25, 2, 15],
      [3, -1, 2, 25],
    ]) {
      // f = −Σ ((x_i − c_i)/w_i)²: separable, so the box maximiser is the clamp of c
      const f = (x: Float64Array) => -x.reduce((s, v, i) => s + ((v - c[i]) / (box.max[i] - box.min[i])) ** 2, 0);
      const want = c.map((ci, i) => Math.min(box.max[i], Math.max(box.min[i], ci)));
      for (let t = 0; t < 5; t++) {
        const x = Float64Array.from(box.min, (lo, i) => rng.uniform(lo, box.max[i]));
        const f0 = f(x);
        const fx = ascend(x, f, box, 200);
        expect(fx).toBeGreaterThanOrEqual(f0);
        expect(fx).toBe(f(x));
        x.forEach((v, i) => expect(Math.abs(v - want[i])).toBeLessThan(2e-3 * (box.max[i] - box.min[i])));
      }
    }
  });
  it('climbs a piecewise-linear ridge (a hard-tanh unit) to the plateau, and stays in the box', () => {
    // f = min(1, max(−1, 3·x₀ − x₂)): the plateau f = 1 is where 3x₀ − x₂ ≥ 1
    const f = (x: Float64Array) => Math.min(1, Math.max(-1, 3 * x[0] - x[2]));
    const rng = new Rng(4);
    for (let t = 0; t < 10; t++) {
      const x = Float64Array.from(box.min, (lo, i) => rng.uniform(lo, box.max[i]));
      if (f(x) <= -1) x[0] = (x[2] - 0.5) / 3; // start on the slope, not the flat floor
      const fx = ascend(x, f, box, 60);
      expect(fx).toBe(1);
      x.forEach((v, i) => expect(v >= box.min[i] && v <= box.max[i]).toBe(true));
    }
  });
});
