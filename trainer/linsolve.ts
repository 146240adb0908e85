/**
 * The damped Gauss–Newton solve (G + μ s I) δ = −∇ shared by the trainers:
 * dense blocked Cholesky up to DENSE_PARAM_LIMIT parameters, matrix-free
 * preconditioned CG above it (G v from Jacobian–vector products).
 */
import { choleskyBlocked, choleskySolve, dot } from './kernels.js';

export interface GNOperator {
  n: number;
  /** Dense G (full symmetric), or null for matrix-free. */
  G: Float64Array | null;
  /** G v, required when G is null. */
  matvec?: (v: Float64Array) => Promise<Float64Array>;
  /** diag(G), required when G is null (Jacobi preconditioner and damping scale). */
  diag?: Float64Array;
}

/** Mean of diag(G): the scale the damping μ is relative to. */
export function dampingScale(op: GNOperator): number {
  let s = 0;
  if (op.G) for (let i = 0; i < op.n; i++) s += op.G[i * op.n + i];
  else for (let i = 0; i < op.n; i++) s += op.diag![i];
  return Math.max(s / op.n, 1e-300);
}

/** Solve (G + λI) δ = rhs. Returns null if the dense factorisation fails (λ too small). */
export async function solveDamped(op: GNOperator, lambda: number, rhs: Float64Array, cgTol = 1e-6, cgMaxIter = 250): Promise<Float64Array | null> {
  const n = op.n;
  if (op.G) {
    const A = Float64Array.from(op.G);
    for (let i = 0; i < n; i++) A[i * n + i] += lambda;
    if (!choleskyBlocked(A, n)) return null;
    return choleskySolve(A, n, Float64Array.from(rhs));
  }
  // Preconditioned CG with Jacobi preconditioner on G + λI.
  const x = new Float64Array(n);
  const r = Float64Array.from(rhs);
  const Minv = new Float64Array(n);
  for (let i = 0; i < n; i++) Minv[i] = 1 / (op.diag![i] + lambda);
  const z = new Float64Array(n);
  for (let i = 0; i < n; i++) z[i] = Minv[i] * r[i];
  const p = Float64Array.from(z);
  let rz = dot(r, z);
  const r0 = Math.sqrt(dot(r, r));
  for (let it = 0; it < cgMaxIter; it++) {
    const Ap = await op.matvec!(p);
    for (let i = 0; i < n; i++) Ap[i] += lambda * p[i];
    const pAp = dot(p, Ap);
    if (!(pAp > 0)) break;
    const alpha = rz / pAp;
    for (let i = 0; i < n; i++) {
      x[i] += alpha * p[i];
      r[i] -= alpha * Ap[i];
    }
    if (Math.sqrt(dot(r, r)) <= cgTol * r0) break;
    for (let i = 0; i < n; i++) z[i] = Minv[i] * r[i];
    const rzNew = dot(r, z);
    const beta = rzNew / rz;
    rz = rzNew;
    for (let i = 0; i < n; i++) p[i] = z[i] + beta * p[i];
  }
  return x;
}

/** δᵀ G δ (dense or matrix-free). */
export async function quadForm(op: GNOperator, d: Float64Array): Promise<number> {
  if (op.G) {
    const n = op.n;
    let s = 0;
    for (let i = 0; i < n; i++) {
      let t = 0;
      const ri = i * n;
      for (let j = 0; j < n; j++) t += op.G[ri + j] * d[j];
      s += d[i] * t;
    }
    return s;
  }
  return dot(d, await op.matvec!(d));
}
