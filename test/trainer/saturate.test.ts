/**
 * The saturating (clamped-output) training problem of gn-kernel.ts, checked
 * against definitions written out here from a plain forward pass: the
 * objective's one-sided residuals, constraints on clamp(y), their gradients
 * by central differences and the Gauss–Newton matrix by explicit Jacobians.
 */
import { describe, expect, it } from 'vitest';
import { Rng } from '../../sim/index.js';
import { GNKernel, SAT_REACH, type KernelData } from '../../trainer/gn-kernel.js';
import { Assembler, MLP, trainAugmentedLagrangian } from '../../trainer/index.js';
import { toSharedF64, toSharedI32 } from '../../trainer/shared.js';
import { linearProblem } from '../helpers/linear-problem.js';

const sizes = [3, 8, 2];
const K = 60;
const nu = 2;

/** Random inputs; labels saturated at ±1 on about half the outputs; one affine row per sample. */
function problem(): KernelData {
  const rng = new Rng(21);
  const X = new Float64Array(K * 3).map(() => rng.uniform(-1, 1));
  const Y = new Float64Array(K * nu).map(() => (rng.next() < 0.5 ? (rng.next() < 0.5 ? 1 : -1) : rng.uniform(-0.9, 0.9)));
  const conPtr = new Int32Array(K + 1).map((_, k) => k);
  const conC = new Float64Array(K * nu).map(() => rng.uniform(-1, 1));
  const conD = new Float64Array(K).map(() => rng.uniform(-1.2, 0.2));
  return { sizes, activation: 'tanh', K, nx: 3, nu, X, Y, w: Float64Array.from([1, 1]), sw: new Float64Array(K).fill(1), nLabelled: K, conPtr, conC, conD, saturate: true };
}

/** Large random θ, so that many outputs leave [−1, 1]. */
function params(n: number): Float64Array {
  const rng = new Rng(4);
  return new Float64Array(n).map(() => rng.uniform(-1.5, 1.5));
}

const clamp = (v: number) => Math.max(-1, Math.min(1, v));

/**
 * The objective and the AL merit written out: f = ½ Σ e² / K with, for a saturated label and an output
 * beyond it on its side, e = 0 up to SAT_REACH and the distance past it beyond; y − ŷ elsewhere.
 */
function reference(data: KernelData, theta: Float64Array, rho: number, lam: Float64Array) {
  const mlp = new MLP({ sizes, activation: 'tanh' });
  const y = new Float64Array(nu);
  let f = 0;
  let sse = 0;
  let pen = 0;
  const g: number[] = [];
  let outside = 0;
  for (let k = 0; k < K; k++) {
    mlp.forward(theta, data.X, y, k * 3, 0);
    for (let j = 0; j < nu; j++) {
      const lab = data.Y[k * nu + j];
      const beyond = (y[j] >= 1 && lab >= 1 - 1e-3) || (y[j] <= -1 && lab <= -1 + 1e-3);
      const e = beyond ? Math.sign(y[j]) * Math.max(0, Math.abs(y[j]) - SAT_REACH) : y[j] - lab;
      f += (0.5 * e * e) / K;
      sse += (clamp(y[j]) - lab) ** 2;
      if (Math.abs(y[j]) > 1) outside++;
    }
    const gi = data.conD[k] + data.conC[k * nu] * clamp(y[0]) + data.conC[k * nu + 1] * clamp(y[1]);
    g.push(gi);
    const t = lam[k] + rho * gi;
    pen += (Math.max(0, t) ** 2 - lam[k] ** 2) / (2 * rho);
  }
  return { f, sse, pen, g, outside };
}

describe('saturating outputs in the Gauss–Newton kernel', () => {
  const data = problem();
  const kernel = new GNKernel(data);
  const theta = params(kernel.nParams);
  const rho = 0.7;
  const lam = new Float64Array(K).map((_, k) => (k % 3 === 0 ? 0.05 : 0));
  const p = { mode: 'al' as const, rho, mu: 0, margin: 0, mult: lam, slack: new Float64Array(K) };

  it('objective, penalty and constraint values are those of the clamped output', () => {
    const ref = reference(data, theta, rho, lam);
    // the probe is only meaningful if outputs leave the box on both kinds of label
    expect(ref.outside).toBeGreaterThan(0.2 * K * nu);
    const st = kernel.evaluate(theta, p, 0, K);
    expect(st.f).toBeCloseTo(ref.f, 12);
    expect(st.sse).toBeCloseTo(ref.sse, 10);
    expect(st.pen).toBeCloseTo(ref.pen, 12);
    const g = new Float64Array(K);
    kernel.constraintValues(theta, 0, 0, K, g);
    for (let k = 0; k < K; k++) expect(g[k]).toBeCloseTo(ref.g[k], 12);
  });

  it('the gradient matches central differences of the written-out merit', () => {
    const grad = new Float64Array(kernel.nParams);
    kernel.assemble(theta, p, 0, K, grad, null);
    const merit = (th: Float64Array) => {
      const r = reference(data, th, rho, lam);
      return r.f + r.pen;
    };
    const rng = new Rng(5);
    for (let t = 0; t < 6; t++) {
      const v = new Float64Array(kernel.nParams).map(() => rng.uniform(-1, 1));
      const h = 1e-6;
      const fd = (merit(theta.map((x, i) => x + h * v[i])) - merit(theta.map((x, i) => x - h * v[i]))) / (2 * h);
      const an = grad.reduce((s, gi, i) => s + gi * v[i], 0);
      expect(Math.abs(fd - an)).toBeLessThan(1e-6 * Math.max(1, Math.abs(an)));
    }
  });

  it('G is Σ Jᵀ W J with every objective term and the clamped constraint components left out', () => {
    const n = kernel.nParams;
    const G = new Float64Array(n * n);
    kernel.assemble(theta, p, 0, K, new Float64Array(n), G);
    const mlp = new MLP({ sizes, activation: 'tanh' });
    const y = new Float64Array(nu);
    const J = new Float64Array(nu * n);
    const Gref = new Float64Array(n * n);
    for (let k = 0; k < K; k++) {
      mlp.jacobian(theta, data.X.subarray(k * 3, k * 3 + 3), y, J);
      const W = new Float64Array(nu * nu);
      for (let j = 0; j < nu; j++) {
        W[j * nu + j] = 1 / K; // a flat term keeps its curvature (a majorant of moving it)
      }
      const g = data.conD[k] + data.conC[k * nu] * clamp(y[0]) + data.conC[k * nu + 1] * clamp(y[1]);
      if (lam[k] + rho * g > 0) {
        const c = [0, 1].map((j) => (Math.abs(y[j]) > 1 ? 0 : data.conC[k * nu + j]));
        for (let a = 0; a < nu; a++) for (let b = 0; b < nu; b++) W[a * nu + b] += rho * c[a] * c[b];
      }
      for (let s = 0; s < n; s++)
        for (let t = 0; t <= s; t++) {
          let v = 0;
          for (let a = 0; a < nu; a++) for (let b = 0; b < nu; b++) v += J[a * n + s] * W[a * nu + b] * J[b * n + t];
          Gref[s * n + t] += v;
        }
    }
    let worst = 0;
    let scale = 0;
    for (let s = 0; s < n; s++)
      for (let t = 0; t <= s; t++) {
        worst = Math.max(worst, Math.abs(G[s * n + t] - Gref[s * n + t]));
        scale = Math.max(scale, Math.abs(Gref[s * n + t]));
      }
    expect(worst).toBeLessThan(1e-10 * scale);
  });
});

describe('training through the clamp', () => {
  it('recovers a saturated linear law exactly, where the constrained raw network cannot', async () => {
    // labels sat(1.15 x + 0.05): a linear network through the clamp reproduces them with w = 1.15, b = 0.05
    // (its output stays inside the band up to SAT_REACH, 1.2 at most)
    const base = linearProblem(400, 1.15, 0.05);
    const Y = base.Y.map(clamp);
    const sat: KernelData = { ...base, Y: toSharedF64(Y), conPtr: toSharedI32(new Int32Array(base.K + 1)), conC: toSharedF64([]), conD: toSharedF64([]), saturate: true };
    const asm = await Assembler.create(sat, { threads: 1 });
    const res = await trainAugmentedLagrangian(asm, Float64Array.of(0.1, 0));
    await asm.close();
    expect(res.theta[0]).toBeCloseTo(1.15, 6);
    expect(res.theta[1]).toBeCloseTo(0.05, 6);
    // nothing to constrain: one least-squares fit, run to its own stopping rule
    expect(res.stopped).toBe('converged');
    expect(res.history.map((h) => h.outer)).toEqual([0]);
    expect(res.history[0].mse).toBeLessThan(1e-12);
    // the raw network kept inside the bounds on the same labels errs where they saturate
    const raw = await Assembler.create({ ...base, Y: toSharedF64(Y) }, { threads: 1 });
    const kept = await trainAugmentedLagrangian(raw, Float64Array.of(0.1, 0));
    await raw.close();
    expect(kept.history.at(-1)!.mse).toBeGreaterThan(1e-4);
  });
});

it('a saturated label is met anywhere in the band up to SAT_REACH, and pulled back from beyond it', () => {
  expect(SAT_REACH).toBeGreaterThan(1);
  // one sample, a linear 1-1 network y = w·x + b at x = 1, label +1: the objective is ½ max(0, y − SAT_REACH)²
  const data: KernelData = {
    sizes: [1, 1],
    activation: 'tanh',
    K: 1,
    nx: 1,
    nu: 1,
    X: Float64Array.of(1),
    Y: Float64Array.of(1),
    w: Float64Array.of(1),
    sw: Float64Array.of(1),
    nLabelled: 1,
    conPtr: Int32Array.of(0, 0),
    conC: new Float64Array(0),
    conD: new Float64Array(0),
    saturate: true,
  };
  const kernel = new GNKernel(data);
  const p = { mode: 'objective' as const, rho: 0, mu: 0, margin: 0, mult: new Float64Array(0), slack: new Float64Array(0) };
  for (const y of [0.5, 1, 1.1, SAT_REACH, 1.6, 3]) {
    const grad = new Float64Array(2);
    const st = kernel.assemble(Float64Array.of(y, 0), p, 0, 1, grad, null);
    const past = Math.max(0, y - SAT_REACH);
    const e = y < 1 ? y - 1 : past;
    expect(st.f).toBeCloseTo(0.5 * e * e, 14);
    expect(grad[1]).toBeCloseTo(e, 14); // ∂f/∂b
    expect(st.sse).toBeCloseTo((Math.min(y, 1) - 1) ** 2, 14); // the clamped output's error
  }
});
