import { describe, expect, it } from 'vitest';
import { Rng } from '../../sim/index.js';
import { Assembler, MLP, WeightNormConstraints, trainAdam, trainAugmentedLagrangian, trainInteriorPoint } from '../../trainer/index.js';
import { curvatureSampled, type KernelData } from '../../trainer/gn-kernel.js';
import { brokenRows } from '../../trainer/train.js';
import { polishBiases } from '../../trainer/qat.js';
import { toSharedF64, toSharedI32 } from '../../trainer/shared.js';
import { linearProblem, qpOptimum } from '../helpers/linear-problem.js';

describe('Gauss–Newton assembly', () => {
  it('G and ∇ equal Σ Jᵀ W J and Σ Jᵀ r computed sample by sample', async () => {
    const d = linearProblem(50, 3, 0.2, [1, 4, 1]);
    const mlp = new MLP({ sizes: d.sizes, activation: 'tanh' });
    const theta = mlp.init(2);
    const asm = await Assembler.create(d, { threads: 1 });
    asm.mult.fill(0.01);
    const rho = 0.5;
    const { G, grad } = await asm.assemble(theta, { mode: 'al', rho, mu: 0, margin: 0 }, true);
    const n = mlp.nParams;
    const Gn = new Float64Array(n * n),
      gn = new Float64Array(n);
    const y = new Float64Array(1),
      J = new Float64Array(n);
    for (let k = 0; k < d.K; k++) {
      mlp.jacobian(theta, [d.X[k]], y, J);
      let W = 1 / d.K;
      let r = (y[0] - d.Y[k]) / d.K;
      for (const [c, i] of [
        [1, 2 * k],
        [-1, 2 * k + 1],
      ]) {
        const g = c * y[0] - 1;
        const t = asm.mult[i] + rho * g;
        if (t > 0) {
          W += rho;
          r += t * c;
        }
      }
      for (let a = 0; a < n; a++) {
        gn[a] += J[a] * r;
        for (let b = 0; b < n; b++) Gn[a * n + b] += J[a] * W * J[b];
      }
    }
    for (let i = 0; i < n * n; i++) expect(G![i]).toBeCloseTo(Gn[i], 12);
    for (let i = 0; i < n; i++) expect(grad[i]).toBeCloseTo(gn[i], 13);
    await asm.close();
  });
  it('sub-sampled G: the objective of the sampled samples weighs 1/p, every active constraint enters exactly', async () => {
    // two outputs, actuator rows ±y_j ≤ 1 and a coupled row 0.7 y_0 − 0.4 y_1 ≤ 0.3 at every sample
    const K = 300;
    const rng = new Rng(5);
    const X = Float64Array.from({ length: 2 * K }, () => rng.uniform(-1, 1));
    const Y = Float64Array.from({ length: 2 * K }, (_, i) => 2.5 * X[i] - 0.8 * X[i ^ 1]);
    const rowsC = [
      [1, 0],
      [-1, 0],
      [0, 1],
      [0, -1],
      [0.7, -0.4],
    ];
    const rowsD = [-1, -1, -1, -1, -0.3];
    const d: KernelData = {
      sizes: [2, 5, 2],
      activation: 'tanh',
      K,
      nx: 2,
      nu: 2,
      X: toSharedF64(X),
      Y: toSharedF64(Y),
      w: toSharedF64([1, 2]),
      sw: toSharedF64(new Array(K).fill(1)),
      nLabelled: K,
      conPtr: toSharedI32(Int32Array.from({ length: K + 1 }, (_, k) => 5 * k)),
      conC: toSharedF64(Array.from({ length: K }, () => rowsC.flat()).flat()),
      conD: toSharedF64(Array.from({ length: K }, () => rowsD).flat()),
    };
    const mlp = new MLP({ sizes: d.sizes, activation: 'tanh' });
    const theta = mlp.init(3);
    const asm = await Assembler.create(d, { threads: 1, curvatureSamples: 100 });
    const p = asm.curvKeep;
    expect(p).toBeCloseTo(1 / 3, 12);
    asm.mult.fill(0.45); // λ + ρg > 0 where g > −0.9: some rows of each kind are active, some not
    const rho = 0.5;
    const { G } = await asm.assemble(theta, { mode: 'al', rho, mu: 0, margin: 0 }, true); // the first assembly: seed 0
    const n = mlp.nParams;
    const Gn = new Float64Array(n * n);
    const y = new Float64Array(2),
      J = new Float64Array(2 * n);
    let sampled = 0,
      activeOutside = 0,
      inactive = 0;
    for (let k = 0; k < K; k++) {
      mlp.jacobian(theta, [X[2 * k], X[2 * k + 1]], y, J);
      const inSub = curvatureSampled(k, 0, p);
      const W = [0, 0, 0, 0];
      if (inSub) {
        sampled++;
        W[0] = d.w[0] / K / p;
        W[3] = d.w[1] / K / p;
      }
      rowsC.forEach((c, i) => {
        const g = c[0] * y[0] + c[1] * y[1] + rowsD[i];
        if (asm.mult[5 * k + i] + rho * g > 0) {
          if (!inSub) activeOutside++;
          for (let a = 0; a < 2; a++) for (let b = 0; b < 2; b++) W[a * 2 + b] += rho * c[a] * c[b];
        } else inactive++;
      });
      for (let s = 0; s < n; s++)
        for (let t = 0; t < n; t++) {
          let v = 0;
          for (let a = 0; a < 2; a++) for (let b = 0; b < 2; b++) v += J[a * n + s] * W[a * 2 + b] * J[b * n + t];
          Gn[s * n + t] += v;
        }
    }
    // the case this is about happens: samples outside the sub-sample with active constraints
    expect(sampled).toBeGreaterThan(60);
    expect(sampled).toBeLessThan(140);
    expect(activeOutside).toBeGreaterThan(20);
    expect(inactive).toBeGreaterThan(20);
    for (let i = 0; i < n * n; i++) expect(G![i]).toBeCloseTo(Gn[i], 10);
    await asm.close();
  });
  it('one thread and two threads give bitwise-identical G and ∇', async () => {
    const d = linearProblem(2000, 3, 0.2, [1, 16, 16, 1]);
    const theta = new MLP({ sizes: d.sizes, activation: 'tanh' }).init(1);
    const a1 = await Assembler.create(d, { threads: 1 });
    const a2 = await Assembler.create(d, { threads: 2 });
    expect(a2.threads).toBe(2);
    const p = { mode: 'al' as const, rho: 1, mu: 0, margin: 0 };
    const r1 = await a1.assemble(theta, p, true);
    const r2 = await a2.assemble(theta, p, true);
    expect(Buffer.from(r1.G!.buffer).equals(Buffer.from(r2.G!.buffer))).toBe(true);
    expect(Buffer.from(r1.grad.buffer).equals(Buffer.from(r2.grad.buffer))).toBe(true);
    await a1.close();
    await a2.close();
  });
});

describe('the quantisation-aware refit guard', () => {
  it('brokenRows counts the sampled rows θ breaks and the reference keeps', async () => {
    // y = w x + b on x ∈ [−1, 1], rows |y| ≤ 1
    const d = linearProblem(200, 0, 0);
    const asm = await Assembler.create(d, { threads: 1 });
    const keeps = Float64Array.from([0.9, 0]);
    expect(await brokenRows(asm, keeps, keeps)).toBeNull();
    const breaks = Float64Array.from([1.2, 0.1]); // breaks y ≤ 1 where x > 0.75, y ≥ −1 where x < −11/12
    const want = Array.from(d.X).filter((x) => 1.2 * x + 0.1 > 1 || 1.2 * x + 0.1 < -1).length;
    const worst = Math.max(...Array.from(d.X, (x) => Math.abs(1.2 * x + 0.1) - 1));
    const r = await brokenRows(asm, breaks, keeps);
    expect(want).toBeGreaterThan(10);
    expect(r!.count).toBe(want);
    expect(r!.max).toBeCloseTo(worst, 12);
    // rows the reference breaks too are not the refit's doing
    expect(await brokenRows(asm, breaks, Float64Array.from([1.3, 0.1]))).toBeNull();
    await asm.close();
  });
});

describe('constrained training reaches a known constrained optimum', () => {
  // ŷ = 1.6 x + 0.3 leaves [−1, 1] for x near ±1, so the bounds are active at the optimum.
  const margin = 0.01;
  it('augmented Lagrangian + LM (dense)', async () => {
    const d = linearProblem(400, 1.6, 0.3);
    const want = qpOptimum(d, 1 - margin);
    const asm = await Assembler.create(d, { threads: 1 });
    const res = await trainAugmentedLagrangian(asm, Float64Array.of(0.1, 0), { polishMargin: margin, polishOuter: 20 });
    // AL stops at |g| ≤ 1e-5 (feasTol); the optimum moves by about that much.
    expect(res.theta[0]).toBeCloseTo(want.w, 4);
    expect(res.theta[1]).toBeCloseTo(want.b, 4);
    const g = await asm.constraintValues(res.theta, margin);
    expect(Math.max(...g)).toBeLessThan(1e-5);
    // the multipliers are those of the QP's active rows: some positive, none negative
    expect(Math.min(...res.multipliers)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...res.multipliers)).toBeGreaterThan(0);
    await asm.close();
  });
  it('the polish after a converged train phase restarts ρ (≤ 100 ρ₀) and reaches the tightened QP optimum', async () => {
    // A tiny ρ₀ makes the train phase raise ρ many times over; the polish used to inherit that ρ, and on
    // real networks the LM subproblem then stalled far from the optimum (the polish "converged" at several
    // times the MSE). With good multipliers a moderate ρ suffices.
    const d = linearProblem(400, 1.6, 0.3);
    const want = qpOptimum(d, 1 - margin);
    const rho0 = 1e-4;
    const asm = await Assembler.create(d, { threads: 1 });
    const res = await trainAugmentedLagrangian(asm, Float64Array.of(0.1, 0), { rho0, polishMargin: margin, polishOuter: 20 });
    const train = res.history.filter((h) => h.phase === 'train');
    const polish = res.history.filter((h) => h.phase === 'polish');
    expect(train.at(-1)!.rho).toBeGreaterThan(1e3 * rho0);
    // the first polish entry reports ρ after its first outer iteration: at most one ×10 above the restart
    expect(polish[0].rho).toBeLessThanOrEqual(1000 * rho0);
    expect(res.stopped).toBe('converged');
    expect(res.theta[0]).toBeCloseTo(want.w, 4);
    expect(res.theta[1]).toBeCloseTo(want.b, 4);
    await asm.close();
  });
  it('"converged" is the last phase’s: a polish cut short is reported as such', async () => {
    const d = linearProblem(400, 1.6, 0.3);
    const asm = await Assembler.create(d, { threads: 1 });
    const res = await trainAugmentedLagrangian(asm, Float64Array.of(0.1, 0), { polishMargin: 0.2, polishOuter: 1 });
    expect(res.history.filter((h) => h.phase === 'train').length).toBeGreaterThan(0);
    const last = res.history.at(-1)!;
    expect(last.phase).toBe('polish');
    expect(last.maxViol).toBeGreaterThan(1e-5);
    expect(res.stopped).toBe('max_outer');
    await asm.close();
  });
  it('abandonAbove: a polish whose training MSE must pass the bound to be feasible stops early, one that need not runs to the optimum', async () => {
    // Started from the unconstrained fit (MSE 0, infeasible), the polish has to climb to the tightened
    // QP optimum's MSE; a bound below that MSE is passed on the way, one above it never is.
    const d = linearProblem(400, 1.6, 0.3);
    const want = qpOptimum(d, 1 - margin);
    let mseOpt = 0;
    for (let k = 0; k < d.K; k++) mseOpt += (want.w * d.X[k] + want.b - d.Y[k]) ** 2 / d.K;
    const asm = await Assembler.create(d, { threads: 1 });
    const run = (abandonAbove: number) => trainAugmentedLagrangian(asm, Float64Array.of(1.6, 0.3), { skipFit: true, polishOnly: true, polishMargin: margin, polishOuter: 20, abandonAbove });
    const full = await run(2 * mseOpt);
    expect(full.stopped).toBe('converged');
    expect(full.theta[0]).toBeCloseTo(want.w, 4);
    const given = await run(0.5 * mseOpt);
    expect(given.stopped).toBe('abandoned');
    expect(given.steps).toBeLessThan(full.steps);
    await asm.close();
  });
  it('augmented Lagrangian + matrix-free CG gives the same answer', async () => {
    const d = linearProblem(400, 1.6, 0.3);
    const want = qpOptimum(d, 1 - margin);
    const asm = await Assembler.create(d, { threads: 1, matrixFree: true });
    expect(asm.dense).toBe(false);
    const res = await trainAugmentedLagrangian(asm, Float64Array.of(0.1, 0), { polishMargin: margin, polishOuter: 20 });
    expect(res.theta[0]).toBeCloseTo(want.w, 4);
    expect(res.theta[1]).toBeCloseTo(want.b, 4);
    await asm.close();
  });
  it('interior point', async () => {
    const d = linearProblem(400, 1.6, 0.3);
    const want = qpOptimum(d, 1 - margin);
    const asm = await Assembler.create(d, { threads: 1 });
    const res = await trainInteriorPoint(asm, Float64Array.of(0.1, 0), { margin });
    expect(res.stopped).toBe('converged');
    // the barrier stops at μ_final: strictly inside, within ~1e-4 of the optimum
    expect(res.theta[0]).toBeCloseTo(want.w, 3);
    expect(res.theta[1]).toBeCloseTo(want.b, 3);
    const g = await asm.constraintValues(res.theta, margin);
    expect(Math.max(...g)).toBeLessThan(1e-6);
    await asm.close();
  });
  it('a weight-norm bound |w| ≤ c is met with the closed-form answer w = c', async () => {
    // ŷ = 2x, no actuator rows active (|ŷ| small enough after scaling the data to |x| ≤ 0.4)
    const d = linearProblem(200, 2, 0);
    for (let k = 0; k < d.K; k++) {
      d.X[k] *= 0.4;
      d.Y[k] *= 0.4;
    }
    const wn = new WeightNormConstraints([1, 1], 1.5);
    const asm = await Assembler.create(d, { threads: 1 });
    const res = await trainAugmentedLagrangian(asm, Float64Array.of(0.1, 0), { weightNorm: wn, polishMargin: 0 });
    // with w held at its bound, b is the least-squares intercept: mean(ŷ) − 1.5·mean(x)
    let mx = 0,
      my = 0;
    for (let k = 0; k < d.K; k++) {
      mx += d.X[k] / d.K;
      my += d.Y[k] / d.K;
    }
    expect(res.theta[0]).toBeCloseTo(1.5, 4);
    expect(res.theta[1]).toBeCloseTo(my - 1.5 * mx, 4);
    await asm.close();
  });
  it('the fixed-penalty Adam baseline runs and leaves some violation (that is what it is for)', async () => {
    const d = linearProblem(400, 1.6, 0.3);
    const asm = await Assembler.create(d, { threads: 1 });
    const res = await trainAdam(asm, Float64Array.of(0.1, 0), { epochs: 300, margin: 0 });
    const g = await asm.constraintValues(res.theta, 0);
    // a finite quadratic penalty trades feasibility against fit: bounds are exceeded
    expect(Math.max(...g)).toBeGreaterThan(1e-4);
    expect(res.history.length).toBeGreaterThan(1);
    await asm.close();
  });
});

describe('polishBiases (the re-polish after a kept quantisation-aware refit)', () => {
  it('moves only the biases, to the constrained least-squares optimum (closed form on a linear problem)', async () => {
    // ŷ = 3x + 0.5 on x ∈ [−1, 1], |y| ≤ 1; the weight frozen at 0.9 (on its grid), so only b moves:
    // min_b Σ (0.9x + b − ŷ)² s.t. −1 − min_k 0.9x_k ≤ b ≤ 1 − max_k 0.9x_k, whose answer is the mean residual clamped.
    const d = linearProblem(200, 3, 0.5);
    const asm = await Assembler.create(d, { threads: 1 });
    try {
      const w = 0.9;
      const theta = Float64Array.from([w, -0.4]);
      const { theta: out, converged } = await polishBiases(asm, theta, [1, 1], { margin: 0 });
      let mean = 0,
        lo = -Infinity,
        hi = Infinity;
      for (let k = 0; k < d.K; k++) {
        mean += (d.Y[k] - w * d.X[k]) / d.K;
        lo = Math.max(lo, -1 - w * d.X[k]);
        hi = Math.min(hi, 1 - w * d.X[k]);
      }
      const want = Math.min(hi, Math.max(lo, mean));
      expect(want).toBe(hi); // the bound is active: the constraint, not the fit, sets b
      expect(converged).toBe(true);
      expect(out[0]).toBe(w); // bit for bit
      expect(Math.abs(out[1] - want)).toBeLessThan(1e-5);
    } finally {
      await asm.close();
    }
  });
});
