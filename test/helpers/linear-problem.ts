/** A linear training problem with a known constrained optimum (a QP in θ = (w, b)), for the trainer's tests. */
import { expect } from 'vitest';
import { Rng, solveQP } from '../../sim/index.js';
import type { KernelData } from '../../trainer/gn-kernel.js';
import { toSharedF64, toSharedI32 } from '../../trainer/shared.js';

/** Samples x ∈ [−1, 1], labels ŷ = slope·x + offset, actuator rows |y| ≤ 1 at every sample. */
export function linearProblem(K: number, slope: number, offset: number, sizes = [1, 1]): KernelData {
  const rng = new Rng(21);
  const X = Float64Array.from({ length: K }, () => rng.uniform(-1, 1));
  const Y = X.map((x) => slope * x + offset);
  const conPtr = Int32Array.from({ length: K + 1 }, (_, k) => 2 * k);
  const conC = Float64Array.from({ length: 2 * K }, (_, i) => (i % 2 ? -1 : 1));
  const conD = new Float64Array(2 * K).fill(-1);
  return {
    sizes,
    activation: 'tanh',
    K,
    nx: 1,
    nu: 1,
    X: toSharedF64(X),
    Y: toSharedF64(Y),
    w: toSharedF64([1]),
    sw: toSharedF64(new Array(K).fill(1)),
    nLabelled: K,
    conPtr: toSharedI32(conPtr),
    conC: toSharedF64(conC),
    conD: toSharedF64(conD),
  };
}

/**
 * The same problem as a QP in θ = (w, b), solved by Goldfarb–Idnani:
 * min ½ Σ (w x + b − ŷ)² / K  s.t.  −bound ≤ w x_k + b ≤ bound.
 * duals: OSQP convention, y_k > 0 where the upper bound is active, < 0 at the lower.
 */
export function qpOptimum(d: KernelData, bound: number): { w: number; b: number; f: number; duals: Float64Array } {
  const K = d.K;
  let sxx = 0,
    sx = 0,
    sxy = 0,
    sy = 0;
  for (let k = 0; k < K; k++) {
    sxx += d.X[k] * d.X[k];
    sx += d.X[k];
    sxy += d.X[k] * d.Y[k];
    sy += d.Y[k];
  }
  const r = solveQP({
    P: [
      [sxx / K, sx / K],
      [sx / K, 1],
    ],
    q: [-sxy / K, -sy / K],
    A: Array.from({ length: K }, (_, k) => [d.X[k], 1]),
    l: new Array(K).fill(-bound),
    u: new Array(K).fill(bound),
  });
  expect(r.status).toBe('solved');
  let f = 0;
  for (let k = 0; k < K; k++) f += 0.5 * (r.x[0] * d.X[k] + r.x[1] - d.Y[k]) ** 2;
  return { w: r.x[0], b: r.x[1], f: f / K, duals: r.y };
}
