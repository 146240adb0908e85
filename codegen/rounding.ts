/**
 * How the quantiser rounds a layer's weights onto their integer grid.
 *
 * Round-to-nearest treats every weight alone. Rounding with error feedback
 * (GPTQ: Frantar, Ashkboos, Hoefler & Alistarh, ICLR 2023; the optimal brain
 * surgeon step of Hassibi & Stork, one weight at a time) rounds a row's
 * weights in turn and moves the weights not yet rounded so that the row's
 * output on calibration inputs moves as little as possible: with H the second
 * moment of the layer's inputs and U the upper Cholesky factor of H⁻¹, the
 * error e_j = (w_j − q_j) / U_jj of weight j is taken off the later weights as
 * w_k −= e_j·U_jk. The mean of what is left, Σ_j (w_j − q_j)·E[a_j], goes into
 * the bias (which is on a much finer grid). A weight already on its grid (a
 * quantisation-aware refit put it there) has no error and moves nothing, so
 * such a model quantises exactly as before.
 *
 * The calibration inputs are the quantised network's own integer activations
 * at seeded uniform states of the domain (not the states the fixed-point error
 * is measured on), so each layer also makes up for the rounding before it.
 */
import { CholeskyDecomposition, Matrix, inverse } from 'ml-matrix';
import { Rng } from '../sim/index.js';

/** States for the calibration: seeded uniform samples of the domain. */
export function calibrationStates(min: number[], max: number[], count = 1024, seed = 17): number[][] {
  const rng = new Rng(seed);
  return Array.from({ length: count }, () => min.map((lo, i) => lo + (max[i] - lo) * rng.uniform(0, 1)));
}

export interface InputMoments {
  /** Mean of each input. */
  mean: number[];
  /** Upper Cholesky factor of the inverse of the damped second moment, inputs in `order` (null when it is not positive definite). */
  U: Matrix | null;
  /** The order the weights are rounded in: inputs of larger second moment first. */
  order: number[];
}

/** The moments of a layer's calibration inputs, H = E[a aᵀ] + 1 % of its mean diagonal on the diagonal. */
export function inputMoments(ins: ArrayLike<number>[], nin: number): InputMoments {
  const H = new Float64Array(nin * nin);
  const mean = new Array<number>(nin).fill(0);
  for (const a of ins)
    for (let i = 0; i < nin; i++) {
      const ai = a[i] / ins.length;
      mean[i] += ai;
      if (ai !== 0) for (let j = 0; j < nin; j++) H[i * nin + j] += ai * a[j];
    }
  let diag = 0;
  for (let i = 0; i < nin; i++) diag += H[i * nin + i] / nin;
  const damp = Math.max(0.01 * diag, 1e-9);
  const order = Array.from({ length: nin }, (_, i) => i);
  order.sort((a, b) => H[b * nin + b] - H[a * nin + a] || a - b);
  const M = new Matrix(nin, nin);
  for (let i = 0; i < nin; i++) for (let j = 0; j < nin; j++) M.set(i, j, H[order[i] * nin + order[j]] + (i === j ? damp : 0));
  try {
    const Hi = inverse(M);
    const S = Hi.add(Hi.transpose()).mul(0.5);
    const c = new CholeskyDecomposition(S);
    if (!c.isPositiveDefinite()) return { mean, U: null, order };
    return { mean, U: c.lowerTriangularMatrix.transpose(), order };
  } catch {
    return { mean, U: null, order };
  }
}

/**
 * One row on its grid: `w` in grid units (the float weights times 2^f), rounded in order with
 * error feedback (or to nearest without moments), each saturated to ±maxW. Returns the integers
 * and the bias correction Σ_j (w_j − q_j)·E[a_j] in accumulator units.
 */
export function roundRow(w: number[], m: InputMoments | null, maxW: number): { q: number[]; bias: number } {
  const r = w.slice();
  const q = new Array<number>(r.length);
  const U = m?.U ?? null;
  const order = m?.order ?? r.map((_, j) => j);
  for (let jj = 0; jj < r.length; jj++) {
    const j = order[jj];
    q[j] = Math.max(-maxW, Math.min(maxW, Math.round(r[j])));
    if (!U) continue;
    const e = (r[j] - q[j]) / U.get(jj, jj);
    if (e !== 0) for (let kk = jj + 1; kk < r.length; kk++) r[order[kk]] -= e * U.get(jj, kk);
  }
  const bias = m ? w.reduce((s, wj, j) => s + (wj - q[j]) * m.mean[j], 0) : 0;
  return { q, bias };
}
