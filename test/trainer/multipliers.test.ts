import { describe, expect, it } from 'vitest';
import { Assembler, trainAugmentedLagrangian } from '../../trainer/index.js';
import { leastSquaresMultipliers } from '../../trainer/multipliers.js';
import { linearProblem, qpOptimum } from '../helpers/linear-problem.js';

// ŷ = 1.6 x + 0.3 leaves [−1, 1] near x = ±1: at the QP optimum the row y ≤ bound at the largest x is active.
const margin = 0.01;

describe('least-squares multiplier estimates', () => {
  it('at the constrained optimum they are the QP’s KKT multipliers (Goldfarb–Idnani duals)', () => {
    const d = linearProblem(400, 1.6, 0.3);
    const want = qpOptimum(d, 1 - margin);
    const est = leastSquaresMultipliers(d, Float64Array.of(want.w, want.b), { margin, activeTol: 1e-7, ridge: 0, maxSweeps: 10000 });
    expect(est.positive).toBe(1);
    expect(est.stationarity).toBeLessThan(1e-8);
    // row 2k is y ≤ bound (dual y_k > 0), row 2k+1 is −y ≤ bound (dual −y_k)
    let biggest = 0;
    for (let k = 0; k < d.K; k++) {
      const up = Math.max(0, want.duals[k]);
      const lo = Math.max(0, -want.duals[k]);
      biggest = Math.max(biggest, up, lo);
      expect(est.mult[2 * k]).toBeCloseTo(up, 8);
      expect(est.mult[2 * k + 1]).toBeCloseTo(lo, 8);
    }
    expect(biggest).toBeGreaterThan(1e-3);
    // the default ridge shrinks them a little, never past zero
    const ridged = leastSquaresMultipliers(d, Float64Array.of(want.w, want.b), { margin, activeTol: 1e-7 });
    for (let i = 0; i < ridged.mult.length; i++) {
      expect(ridged.mult[i]).toBeGreaterThanOrEqual(0);
      expect(ridged.mult[i]).toBeLessThanOrEqual(est.mult[i] + 1e-12);
    }
  });

  it('one active row: the closed-form multiplier, with and without a frozen weight', () => {
    // θ = (0.9, b0) puts the row y ≤ 1 − margin at the largest x exactly on its bound and no other
    // row near one. ∇g = (x_max, 1); with both parameters free the estimate is the least-squares
    // −(x_max·f_w + f_b)/(x_max² + 1) and leaves a residual; with w frozen it is −f_b, exactly.
    const d = linearProblem(400, 1.6, 0.3);
    let xMax = -Infinity;
    for (let k = 0; k < d.K; k++) xMax = Math.max(xMax, d.X[k]);
    const w0 = 0.9;
    const b0 = 1 - margin - w0 * xMax;
    let fw = 0,
      fb = 0;
    for (let k = 0; k < d.K; k++) {
      const e = w0 * d.X[k] + b0 - d.Y[k];
      fw += (e * d.X[k]) / d.K;
      fb += e / d.K;
    }
    const theta = Float64Array.of(w0, b0);
    const free = leastSquaresMultipliers(d, theta, { margin, activeTol: 1e-9, ridge: 0 });
    const frozen = leastSquaresMultipliers(d, theta, { margin, activeTol: 1e-9, ridge: 0, frozen: Uint8Array.of(1, 0) });
    expect(free.candidates).toBe(1);
    const top = Array.from(d.X).indexOf(xMax);
    expect(free.mult[2 * top]).toBeCloseTo(-(xMax * fw + fb) / (xMax * xMax + 1), 12);
    expect(free.stationarity).toBeGreaterThan(1e-3);
    expect(frozen.mult[2 * top]).toBeCloseTo(-fb, 12);
    expect(frozen.stationarity).toBeLessThan(1e-12);
  });
});

describe('a phase restarted at a lower ρ', () => {
  it('starts from least-squares multipliers, not from ones an inexact phase inflated, and reaches the tightened optimum', async () => {
    // After outer iterations at a huge ρ whose inner loops stopped short, λ ← λ + ρ·g had added
    // ρ times a small stalled violation, many times over (two carts: λ_max 123 where the
    // estimate at θ is 2.4e-3). Restarted at ρ ≤ 100 ρ₀ with those, the polish pushed its rows
    // λ/ρ deep inside and the 4 polish iterations ended far from the optimum (MSE ×9).
    const d = linearProblem(400, 1.6, 0.3);
    const asm = await Assembler.create(d, { threads: 1 });
    const first = await trainAugmentedLagrangian(asm, Float64Array.of(0.1, 0), { polishMargin: margin, polishOuter: 20 });
    expect(first.stopped).toBe('converged');
    const tight = 0.05;
    const want = qpOptimum(d, 1 - tight);
    const inflated = first.multipliers.map((l) => l * 1e4);
    const res = await trainAugmentedLagrangian(asm, first.theta, {
      skipFit: true,
      polishOnly: true,
      polishMargin: tight,
      warm: { multipliers: inflated, rho: 1e6 * first.rho!, nLabelled: d.nLabelled, converged: true },
    });
    expect(res.history[0].rho).toBeLessThanOrEqual(1000 * (100 / d.nLabelled));
    expect(res.stopped).toBe('converged');
    expect(res.theta[0]).toBeCloseTo(want.w, 4);
    expect(res.theta[1]).toBeCloseTo(want.b, 4);
    await asm.close();
  });
});
