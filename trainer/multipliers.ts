/**
 * First-order (least-squares) multiplier estimates for the training problem
 *
 *   minimise f(θ)  subject to  g_i(θ) = c_iᵀ y_θ(x_k(i)) + d_i + margin_i ≤ 0:
 *
 *   λ̂ = argmin_{λ ≥ 0} ‖∇f(θ) + Σ_{i ∈ A} λ_i ∇g_i(θ)‖²,  λ̂_i = 0 outside A,
 *
 * over a candidate set A of rows (Nocedal & Wright, Numerical Optimization,
 * §18.3, the least-squares multiplier estimate, here with the sign
 * constraints of inequalities). It depends on θ only, not on how the
 * multipliers were reached, so it is a fresh start for the augmented
 * Lagrangian where its own estimates are not to be trusted: an outer
 * iteration whose inner loop stopped early updates λ by ρ·g with the g of an
 * inexact minimiser, and with ρ in the millions a violation of 1e-5 that the
 * LM loop cannot remove adds tens to a multiplier per iteration.
 *
 * ∇g_i = J_kᵀ c_i and ∇f = Σ_k J_kᵀ r_k (one backward sweep each). The
 * non-negative least-squares problem is solved by cyclic coordinate descent
 * on λ, keeping the residual ∇f + Aᵀλ: O(|A|·P) per sweep.
 */
import { GNKernel, type KernelData } from './gn-kernel.js';

export interface MultiplierEstimate {
  /** One per constraint row; 0 outside the candidate set. */
  mult: Float64Array;
  /** Candidate rows. */
  candidates: number;
  /** Rows with λ̂ > 0. */
  positive: number;
  /** ‖∇f + Σ λ̂_i ∇g_i‖ / ‖∇f‖: the KKT stationarity residual, relative (0 when ∇f = 0). */
  stationarity: number;
  sweeps: number;
}

export interface MultiplierOptions {
  /** Tightening added to every row (as in the kernel: min(margin, cap_i)). */
  margin?: number;
  /**
   * A row is a candidate when |g_i| ≤ activeTol (default 1e-4, normalised units: near active) or
   * when keep(i). Rows violated by more are not: their multipliers start at 0 and the augmented
   * Lagrangian's own updates price them (a refinement round's new cut rows are violated by up to
   * 1e-2, and the estimate would otherwise spend ∇f on them).
   */
  activeTol?: number;
  keep?: (i: number) => boolean;
  /** Coordinate-descent sweeps at most (default 1,000); stops when no λ moves by more than 1e-10 relative. */
  maxSweeps?: number;
  /** Candidate rows at most (default 20,000, fewer above 625 parameters so that their gradients take ≤ 100 MB): the nearest to active are kept. */
  maxCandidates?: number;
  /**
   * Ridge ε relative to the mean ‖∇g_i‖² (default 1e-2). Rows of nearby samples have nearly
   * parallel gradients, so the plain problem is degenerate: coordinate descent creeps along
   * its near-null directions (two carts: λ_max 0.007 after 200 sweeps, 0.36 after 20,000,
   * with the same residual). The ridge makes the estimate unique, small, and reached in a few
   * hundred sweeps.
   */
  ridge?: number;
  /** Parameters held fixed (1 = frozen): stationarity is over the free ones only. */
  frozen?: Uint8Array;
}

export function leastSquaresMultipliers(data: KernelData, theta: Float64Array, o: MultiplierOptions = {}): MultiplierEstimate {
  const { conPtr, K } = data;
  // The kernel's own definitions of g_i and of ∇f (its objective mode, no G).
  const kernel = new GNKernel(data);
  const mlp = kernel.mlp;
  const P = mlp.nParams;
  const margin = o.margin ?? 0;
  const activeTol = o.activeTol ?? 1e-4;
  const ncon = conPtr[K];
  const g = new Float64Array(ncon);
  kernel.constraintValues(theta, margin, 0, K, g);
  const grad = new Float64Array(P);
  const none = new Float64Array(0);
  kernel.assemble(theta, { mode: 'objective', rho: 0, mu: 0, margin, mult: none, slack: none }, 0, K, grad, null);
  const frozen = o.frozen;
  if (frozen) for (let p = 0; p < P; p++) if (frozen[p]) grad[p] = 0;
  let cand: number[] = [];
  for (let i = 0; i < ncon; i++) if (Math.abs(g[i]) <= activeTol || o.keep?.(i)) cand.push(i);
  // A holds m × P doubles: at most 20,000 rows and 100 MB.
  const maxCand = o.maxCandidates ?? Math.min(20000, Math.floor(1.25e7 / P));
  if (cand.length > maxCand)
    cand = cand
      .sort((a, b) => g[b] - g[a])
      .slice(0, maxCand)
      .sort((a, b) => a - b);
  const m = cand.length;
  // Pass 2: the candidate rows' gradients, A (m × P).
  const A = new Float64Array(m * P);
  const norm2 = new Float64Array(m);
  let c = 0;
  for (let k = 0; k < K && c < m; k++) {
    if (cand[c] >= conPtr[k + 1]) continue;
    kernel.forwardForRows(theta, k);
    while (c < m && cand[c] < conPtr[k + 1]) {
      const row = A.subarray(c * P, (c + 1) * P);
      // g's gradient in y (without the components a saturating output clamps), back to θ
      mlp.vjpAfterForward(theta, kernel.row(cand[c]), row);
      if (frozen) for (let p = 0; p < P; p++) if (frozen[p]) row[p] = 0;
      let n2 = 0;
      for (let p = 0; p < P; p++) n2 += row[p] * row[p];
      norm2[c++] = n2;
    }
  }
  // Coordinate descent on ½‖∇f + Aᵀλ‖² + ½ε‖λ‖², λ ≥ 0, from λ = 0.
  let mean = 0;
  for (let a = 0; a < m; a++) mean += norm2[a] / m;
  const eps = (o.ridge ?? 1e-2) * mean;
  const lam = new Float64Array(m);
  const res = Float64Array.from(grad);
  const maxSweeps = o.maxSweeps ?? 1000;
  let sweeps = 0;
  for (; sweeps < maxSweeps; sweeps++) {
    let moved = 0;
    let biggest = 0;
    for (let a = 0; a < m; a++) {
      if (norm2[a] === 0) continue;
      const row = a * P;
      let dot = eps * lam[a];
      for (let p = 0; p < P; p++) dot += A[row + p] * res[p];
      const next = Math.max(0, lam[a] - dot / (norm2[a] + eps));
      const d = next - lam[a];
      if (d === 0) continue;
      lam[a] = next;
      for (let p = 0; p < P; p++) res[p] += d * A[row + p];
      moved = Math.max(moved, Math.abs(d));
      biggest = Math.max(biggest, next);
    }
    if (moved <= 1e-10 * Math.max(biggest, 1e-300)) {
      sweeps++;
      break;
    }
  }
  const mult = new Float64Array(ncon);
  let positive = 0;
  for (let a = 0; a < m; a++) {
    mult[cand[a]] = lam[a];
    if (lam[a] > 0) positive++;
  }
  const nf = Math.sqrt(dot2(grad));
  const nr = Math.sqrt(dot2(res));
  return { mult, candidates: m, positive, stationarity: nf > 0 ? nr / nf : 0, sweeps };
}

function dot2(v: Float64Array): number {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i] * v[i];
  return s;
}
