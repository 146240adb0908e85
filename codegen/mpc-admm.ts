/**
 * The on-board MPC's algorithm, and its offline data: ADMM with Riccati
 * primal steps, after TinyMPC (Nguyen et al., "TinyMPC: Model-Predictive
 * Control on Resource-Constrained Microcontrollers", ICRA 2024).
 *
 * Problem (the host MPC's, in box-normalised coordinates x̂ = x/σx, û = u/σu):
 *   min Σ_{k<N} ½(xₖᵀQxₖ + uₖᵀRuₖ) + ½x_NᵀPx_N  s.t.  xₖ₊₁ = A xₖ + B uₖ,
 *       uₖ ∈ [umin, umax],  xₖ ∈ [xmin, xmax] (k = 1…N),  P from the DARE.
 * Splitting u = z, x = v (z, v in the boxes), scaled duals y, g, penalty ρ:
 *   1. primal: an LQR with Q + ρI, R + ρI, P + ρI and linear terms
 *      q = −ρ(v − g), r = −ρ(z − y). Its gains Kₖ, Cₖ = (R̃ + BᵀPₖ₊₁B)⁻¹ and
 *      (A − BKₖ)ᵀ come from the finite-horizon Riccati recursion, offline, so the
 *      online pass is matrix–vector products only (no factorisation, no
 *      division): dₖ = Cₖ(Bᵀpₖ₊₁ + rₖ), pₖ = qₖ − Kₖᵀrₖ + (A − BKₖ)ᵀpₖ₊₁,
 *      uₖ = −Kₖxₖ − dₖ, xₖ₊₁ = Axₖ + Buₖ.
 *   2. z = clip(u + y), v = clip(x + g);  3. y += u − z, g += x − v.
 * Stop when the primal residual max|u − z|, |x − v| and the dual residual
 * ρ·max|Δz|, |Δv| are below tol, or after maxIter. Warm start: the previous
 * z, v, y, g shifted by one stage. The applied input is z₀ (inside the box).
 *
 * Why this on an AVR: RAM is only the trajectories plus z, v, y, g, d
 * (≈ N(3nx + 4nu) floats), the gains sit in flash, and every iteration is a
 * fixed amount of soft-float multiply–adds with no divisions or square roots.
 * The time-varying gains (rather than TinyMPC's cached infinite-horizon ones)
 * make the problem exactly the host MPC's, so the two can be compared.
 *
 * This TypeScript version (float64) is the reference the C is checked against.
 */
import { LinearMPC, linalg, type Mat, type Plant } from '../sim/index.js';

const { add, eye, fromRows, matmul, scale, solve, toRows, transpose } = linalg;

export interface AdmmSettings {
  horizon: number;
  rho?: number;
  maxIter?: number;
  tol?: number;
}

export interface AdmmData {
  nx: number;
  nu: number;
  N: number;
  rho: number;
  maxIter: number;
  tol: number;
  /** Scaling: x̂ = x / sx, û = u / su. */
  sx: number[];
  su: number[];
  A: number[][];
  B: number[][];
  /** Per stage k = 0…N−1. */
  K: number[][][];
  C: number[][][];
  AmBKt: number[][][];
  umin: number[];
  umax: number[];
  xmin: number[];
  xmax: number[];
  /** Host-MPC weights the data came from (for the record). */
  Q: number[][];
  R: number[][];
  P: number[][];
}

/** A bound too large to matter (unbounded states), still a finite float32. */
const BIG = 1e30;

/** Scale of a variable: its largest bound; for an unbounded one, the operating domain's (else 1). */
function halfRange(lo: number, hi: number, domain?: [number, number]): number {
  if (Number.isFinite(lo) && Number.isFinite(hi)) return Math.max(Math.abs(lo), Math.abs(hi));
  if (!Number.isFinite(lo) && !Number.isFinite(hi) && domain) return Math.max(Math.abs(domain[0]), Math.abs(domain[1]), 1e-9);
  const f = Number.isFinite(lo) ? Math.abs(lo) : Number.isFinite(hi) ? Math.abs(hi) : 1;
  return Math.max(f, 1e-9);
}

/** Offline data for the plant's MPC (weights and terminal cost of the host MPC). */
export function admmData(plant: Plant, s: AdmmSettings): AdmmData {
  const { nx, nu } = plant;
  const N = s.horizon;
  const host = new LinearMPC(plant, { horizon: N });
  const sx = plant.xBounds.min.map((lo, i) => halfRange(lo, plant.xBounds.max[i], plant.domain ? [plant.domain.min[i], plant.domain.max[i]] : undefined));
  const su = plant.uBounds.min.map((lo, j) => halfRange(lo, plant.uBounds.max[j]));
  const Sx = fromRows(sx.map((v, i) => sx.map((_, j) => (i === j ? v : 0))));
  const Su = fromRows(su.map((v, i) => su.map((_, j) => (i === j ? v : 0))));
  const SxInv = fromRows(sx.map((v, i) => sx.map((_, j) => (i === j ? 1 / v : 0))));
  const A = matmul(matmul(SxInv, fromRows(plant.A)), Sx);
  const B = matmul(matmul(SxInv, fromRows(plant.B)), Su);
  const Q = matmul(matmul(Sx, host.Q), Sx);
  const R = matmul(matmul(Su, host.R), Su);
  const P = matmul(matmul(Sx, host.P), Sx);
  // ρ: the geometric mean of the average state and input curvature (box-normalised, so
  // scale-free). Measured in warm-started closed loop (scratch of 8 runs × 60 steps, N=10,
  // tol 1e-3): ×1 gives median 3 / 5 / 10 iterations on the double integrator, DC motor and
  // hover model; ×10 gives 19 / 37 / 50 and hits the cap. Smaller ρ converges faster near
  // equilibrium but stalls on steps with active constraints.
  const meanDiag = (M: Mat) => {
    let t = 0;
    for (let i = 0; i < M.rows; i++) t += M.data[i * M.cols + i];
    return t / M.rows;
  };
  const rho = s.rho ?? Math.sqrt(Math.max(meanDiag(Q), 1e-9) * Math.max(meanDiag(R), 1e-9));
  const Qr = add(Q, scale(eye(nx), rho));
  const Rr = add(R, scale(eye(nu), rho));
  // Finite-horizon Riccati with terminal P + ρI.
  let Pk = add(P, scale(eye(nx), rho));
  const K: number[][][] = new Array(N);
  const C: number[][][] = new Array(N);
  const AmBKt: number[][][] = new Array(N);
  const Bt = transpose(B);
  for (let k = N - 1; k >= 0; k--) {
    const BtP = matmul(Bt, Pk);
    const Cinv = add(Rr, matmul(BtP, B));
    const Cm = solve(Cinv, eye(nu));
    const Km = matmul(Cm, matmul(BtP, A));
    const AmBK = add(A, scale(matmul(B, Km), -1));
    K[k] = toRows(Km);
    C[k] = toRows(Cm);
    AmBKt[k] = toRows(transpose(AmBK));
    // Pₖ = Q̃ + Aᵀ Pₖ₊₁ (A − B K)
    Pk = add(Qr, matmul(matmul(transpose(A), Pk), AmBK));
    for (let i = 0; i < nx; i++)
      for (let j = i + 1; j < nx; j++) {
        const v = 0.5 * (Pk.data[i * nx + j] + Pk.data[j * nx + i]);
        Pk.data[i * nx + j] = v;
        Pk.data[j * nx + i] = v;
      }
  }
  const nb = (v: number, sc: number) => (Number.isFinite(v) ? v / sc : v > 0 ? BIG : -BIG);
  return {
    nx,
    nu,
    N,
    rho,
    maxIter: s.maxIter ?? 50,
    tol: s.tol ?? 1e-3,
    sx,
    su,
    A: toRows(A),
    B: toRows(B),
    K,
    C,
    AmBKt,
    umin: plant.uBounds.min.map((v, j) => nb(v, su[j])),
    umax: plant.uBounds.max.map((v, j) => nb(v, su[j])),
    xmin: plant.xBounds.min.map((v, i) => nb(v, sx[i])),
    xmax: plant.xBounds.max.map((v, i) => nb(v, sx[i])),
    Q: toRows(host.Q),
    R: toRows(host.R),
    P: toRows(host.P),
  };
}

export interface AdmmResult {
  u: number[];
  iterations: number;
  converged: boolean;
  primal: number;
  dual: number;
}

/** The ADMM solver with warm-start state, float64 (the C runs the same steps in float32). */
export class AdmmMPC {
  private readonly z: Float64Array;
  private readonly y: Float64Array;
  private readonly v: Float64Array;
  private readonly g: Float64Array;

  constructor(readonly d: AdmmData) {
    this.z = new Float64Array(d.N * d.nu);
    this.y = new Float64Array(d.N * d.nu);
    this.v = new Float64Array(d.N * d.nx);
    this.g = new Float64Array(d.N * d.nx);
  }

  reset(): void {
    this.z.fill(0);
    this.y.fill(0);
    this.v.fill(0);
    this.g.fill(0);
  }

  solve(x0phys: ArrayLike<number>, maxIter = this.d.maxIter): AdmmResult {
    const { nx, nu, N, rho, A, B, K, C, AmBKt, umin, umax, xmin, xmax, tol } = this.d;
    const { z, y, v, g } = this;
    const x = new Float64Array((N + 1) * nx);
    const u = new Float64Array(N * nu);
    const dd = new Float64Array(N * nu);
    const p = new Float64Array(nx);
    const pn = new Float64Array(nx);
    const r = new Float64Array(nu);
    const t = new Float64Array(nu);
    for (let i = 0; i < nx; i++) x[i] = x0phys[i] / this.d.sx[i];
    let it = 0,
      pri = Infinity,
      dua = Infinity;
    for (it = 1; it <= maxIter; it++) {
      // backward pass
      for (let i = 0; i < nx; i++) p[i] = -rho * (v[(N - 1) * nx + i] - g[(N - 1) * nx + i]);
      for (let k = N - 1; k >= 0; k--) {
        for (let j = 0; j < nu; j++) r[j] = -rho * (z[k * nu + j] - y[k * nu + j]);
        // t = Bᵀp + r ; d = C t
        for (let j = 0; j < nu; j++) {
          let s = r[j];
          for (let i = 0; i < nx; i++) s += B[i][j] * p[i];
          t[j] = s;
        }
        for (let j = 0; j < nu; j++) {
          let s = 0;
          for (let l = 0; l < nu; l++) s += C[k][j][l] * t[l];
          dd[k * nu + j] = s;
        }
        if (k === 0) break;
        // p ← q_k − Kᵀ r + (A − BK)ᵀ p,  q_k = −ρ(v_k − g_k) for x_k (k ≥ 1) at v index k−1
        for (let i = 0; i < nx; i++) {
          let s = -rho * (v[(k - 1) * nx + i] - g[(k - 1) * nx + i]);
          for (let j = 0; j < nu; j++) s -= K[k][j][i] * r[j];
          for (let l = 0; l < nx; l++) s += AmBKt[k][i][l] * p[l];
          pn[i] = s;
        }
        p.set(pn);
      }
      // forward pass
      for (let k = 0; k < N; k++) {
        for (let j = 0; j < nu; j++) {
          let s = -dd[k * nu + j];
          for (let i = 0; i < nx; i++) s -= K[k][j][i] * x[k * nx + i];
          u[k * nu + j] = s;
        }
        for (let i = 0; i < nx; i++) {
          let s = 0;
          for (let l = 0; l < nx; l++) s += A[i][l] * x[k * nx + l];
          for (let j = 0; j < nu; j++) s += B[i][j] * u[k * nu + j];
          x[(k + 1) * nx + i] = s;
        }
      }
      // projections and dual updates
      pri = 0;
      dua = 0;
      for (let k = 0; k < N; k++)
        for (let j = 0; j < nu; j++) {
          const idx = k * nu + j;
          const zn = Math.min(umax[j], Math.max(umin[j], u[idx] + y[idx]));
          dua = Math.max(dua, Math.abs(zn - z[idx]));
          z[idx] = zn;
          y[idx] += u[idx] - zn;
          pri = Math.max(pri, Math.abs(u[idx] - zn));
        }
      for (let k = 0; k < N; k++)
        for (let i = 0; i < nx; i++) {
          const idx = k * nx + i;
          const xi = x[(k + 1) * nx + i];
          const vn = Math.min(xmax[i], Math.max(xmin[i], xi + g[idx]));
          dua = Math.max(dua, Math.abs(vn - v[idx]));
          v[idx] = vn;
          g[idx] += xi - vn;
          pri = Math.max(pri, Math.abs(xi - vn));
        }
      dua *= rho;
      if (pri <= tol && dua <= tol) break;
    }
    const converged = pri <= tol && dua <= tol;
    const u0 = Array.from({ length: nu }, (_, j) => z[j] * this.d.su[j]);
    this.shift();
    return { u: u0, iterations: Math.min(it, maxIter), converged, primal: pri, dual: dua };
  }

  /** Warm start for the next sample: drop stage 0, repeat the last stage. */
  private shift(): void {
    const { nx, nu, N } = this.d;
    for (const [a, w] of [
      [this.z, nu],
      [this.y, nu],
      [this.v, nx],
      [this.g, nx],
    ] as const) {
      a.copyWithin(0, w, N * w);
    }
  }
}
