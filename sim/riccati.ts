/**
 * Discrete algebraic Riccati equation
 *   X = AᵀXA − AᵀXB (R + BᵀXB)⁻¹ BᵀXA + Q
 * solved by the structure-preserving doubling algorithm (SDA):
 *   W = I + GₖHₖ,  Aₖ₊₁ = Aₖ W⁻¹ Aₖ,  Gₖ₊₁ = Gₖ + Aₖ W⁻¹ Gₖ Aₖᵀ,  Hₖ₊₁ = Hₖ + Aₖᵀ Hₖ W⁻¹ Aₖ,
 * with A₀ = A, G₀ = B R⁻¹ Bᵀ, H₀ = Q; Hₖ → X quadratically.
 * E. K.-W. Chu, H.-Y. Fan, W.-W. Lin, C.-S. Wang, "Structure-preserving
 * algorithms for periodic discrete-time algebraic Riccati equations",
 * Int. J. Control 77(8), 2004. Needs (A, B) stabilisable and (A, Q½) detectable.
 */
import { type Mat, add, eye, fromRows, inverse, matmul, maxAbs, solve, sub, symmetrize, toRows, transpose } from './linalg.js';

/** The DARE has no stabilising solution (or the doubling broke down): (A, B) not stabilisable, or (A, Q) not detectable. */
export class DareError extends Error {}

export function solveDare(A: Mat, B: Mat, Q: Mat, R: Mat, opts: { maxIter?: number; tol?: number } = {}): Mat {
  const n = A.rows;
  const maxIter = opts.maxIter ?? 100;
  const tol = opts.tol ?? 1e-14;
  let Ak = A;
  let Gk = matmul(matmul(B, inverse(R)), transpose(B));
  symmetrize(Gk);
  let Hk = Q;
  const I = eye(n);
  for (let it = 0; it < maxIter; it++) {
    const W = add(I, matmul(Gk, Hk));
    const WinvA = solve(W, Ak); // W⁻¹ A
    const WinvG = solve(W, Gk); // W⁻¹ G
    const AkT = transpose(Ak);
    const Hn = symmetrize(add(Hk, matmul(matmul(AkT, Hk), WinvA)));
    const Gn = symmetrize(add(Gk, matmul(matmul(Ak, WinvG), AkT)));
    const An = matmul(Ak, WinvA);
    // An unstable mode the inputs cannot reach makes the iterates overflow: that is no solution, not convergence.
    if (!Hn.data.every(Number.isFinite) || !An.data.every(Number.isFinite)) throw new DareError('the Riccati iteration overflowed: (A, B) is not stabilisable');
    const change = maxAbs(sub(Hn, Hk));
    Ak = An;
    Gk = Gn;
    Hk = Hn;
    if (change <= tol * Math.max(1, maxAbs(Hk))) return Hk;
  }
  throw new DareError('the Riccati iteration did not converge: (A, B) is not stabilisable or (A, Q) not detectable');
}

/** LQR gain K = (R + BᵀPB)⁻¹ BᵀPA, so that u = −K x. */
export function lqrGain(A: Mat, B: Mat, R: Mat, P: Mat): Mat {
  const BtP = matmul(transpose(B), P);
  return solve(add(R, matmul(BtP, B)), matmul(BtP, A));
}

/** DARE residual ‖AᵀXA − AᵀXB(R+BᵀXB)⁻¹BᵀXA + Q − X‖∞ (max abs entry). */
export function dareResidual(A: Mat, B: Mat, Q: Mat, R: Mat, X: Mat): number {
  const At = transpose(A);
  const AtXA = matmul(matmul(At, X), A);
  const AtXB = matmul(matmul(At, X), B);
  const mid = solve(add(R, matmul(matmul(transpose(B), X), B)), transpose(AtXB));
  return maxAbs(sub(add(sub(AtXA, matmul(AtXB, mid)), Q), X));
}

/** Convenience: LQR for a plant given as row arrays. */
export function lqr(A: number[][], B: number[][], Q: number[][], R: number[][]): { K: number[][]; P: number[][] } {
  const Am = fromRows(A),
    Bm = fromRows(B),
    Qm = fromRows(Q),
    Rm = fromRows(R);
  const P = solveDare(Am, Bm, Qm, Rm);
  return { K: toRows(lqrGain(Am, Bm, Rm, P)), P: toRows(P) };
}
