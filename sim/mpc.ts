/**
 * Linear MPC, condensed into a dense QP and solved with solveQP.
 *
 *   minimise  Σₖ₌₀ᴺ⁻¹ (xₖ−x_r)ᵀQ(xₖ−x_r) + (uₖ−u_r)ᵀR(uₖ−u_r) + (x_N−x_r)ᵀP(x_N−x_r) + Σₖ ρ sₖ + ½ sₖ²
 *   subject to  xₖ₊₁ = A xₖ + B uₖ,  u_min ≤ uₖ ≤ u_max,
 *               x_min − σ sₖ ≤ xₖ₊₁ ≤ x_max + σ sₖ,  H xₖ₊₁ ≤ h + σ_H sₖ,  sₖ ≥ 0
 *
 * P defaults to the DARE solution, so that with inactive constraints the first
 * input is exactly the LQR input −K x₀. The state constraints are softened with
 * one slack per stage (in units of σᵢ, half the width of state i's box) and an
 * exact L1 penalty ρ: when the hard-constrained problem is feasible and ρ
 * exceeds its largest multiplier, the slacks are zero and the solution is the
 * hard-constrained one; otherwise the QP stays feasible and the slack says by
 * how much the constraints must give.
 *
 * Condensed, with X = Φx₀ + ΓU, the QP in U is dense N·nu × N·nu; only q, l
 * and u depend on x₀, so A and P are built once.
 */
import { InputError } from './io.js';
import { LIMITS } from './limits.js';
import { type Mat, fromRows, matmul, maxAbs, toRows, transpose, zeros } from './linalg.js';
import type { Plant } from './plants/plant.js';
import { QPSolver } from './qp/solve.js';
import type { ActiveSet, QPStatus } from './qp/problem.js';
import { DareError, lqrGain, solveDare } from './riccati.js';

export interface MPCSettings {
  /** Prediction horizon N (number of inputs). */
  horizon: number;
  /** Stage weights; default the plant's. */
  Q?: number[][];
  R?: number[][];
  /** Terminal weight: 'dare' (default) or an explicit matrix. */
  terminal?: 'dare' | number[][];
  /** Enforce the plant's state box (softened). Default true. */
  stateConstraints?: boolean;
  /** Optional polytope H x ≤ h on every predicted state (softened). */
  polytope?: { H: number[][]; h: number[] };
  /** L1 weight on the slacks. Default: 1e4 × the terminal cost at the box corner. */
  slackPenalty?: number;
}

export interface MPCReference {
  x?: ArrayLike<number>;
  u?: ArrayLike<number>;
}

export interface MPCSolution {
  /** First input, the one applied. */
  u: Float64Array;
  /** Whole input sequence, N·nu. */
  U: Float64Array;
  /** Predicted states x₁ … x_N, N·nx. */
  X: Float64Array;
  status: QPStatus;
  /** Largest slack, in units of σ (0 when the state constraints hold). */
  slack: number;
  /** True when the state constraints could not be met without slack. */
  needsSlack: boolean;
  iterations: number;
  /** Predicted cost of the plan (stage costs from x₀, terminal cost; slack penalty excluded). */
  cost: number;
  active: ActiveSet;
  solveTimeMs: number;
}

/**
 * Slack below this (in σ units) counts as zero. The QP is solved to ~1e-12 and
 * an unneeded slack sits exactly on its bound s = 0, so 1e-9 is far above
 * noise; it matches the closed-loop violation tolerance (also 1e-9), so a state
 * called feasible here is never counted as violated there.
 */
export const SLACK_TOL = 1e-9;

export class LinearMPC {
  readonly plant: Plant;
  readonly N: number;
  readonly nx: number;
  readonly nu: number;
  readonly Q: Mat;
  readonly R: Mat;
  readonly P: Mat;
  /** LQR gain from the same DARE (u = −Kx), for checks and fallbacks. */
  readonly K: Mat;
  readonly slackPenalty: number;
  private readonly Phi: Mat; // N·nx × nx
  private readonly Gamma: Mat; // N·nx × N·nu
  private readonly QbarGamma2: Mat; // 2 Q̄ Γ  (N·nx × N·nu), for the linear term
  private readonly nz: number;
  private readonly ns: number;
  private readonly qpSolver: QPSolver;
  private readonly m: number;
  /** Per constraint row: kind and data to fill l/u from x₀. */
  private readonly rowStage: Int32Array;
  private readonly rowKind: Int8Array; // 0 input, 1 state upper, 2 state lower, 3 polytope, 4 slack ≥ 0
  private readonly rowIndex: Int32Array; // input index / state index / polytope row
  private readonly sigma: Float64Array;
  private readonly polyH: Mat | null;
  private readonly polyh: Float64Array | null;

  constructor(plant: Plant, settings: MPCSettings) {
    const N = settings.horizon;
    if (!Number.isInteger(N) || N < 1) throw new InputError(`MPC: horizon must be a positive integer, got ${N}`);
    const { nx, nu } = plant;
    if (N > LIMITS.maxHorizon) throw new InputError(`MPC: horizon ${N} is above the limit of ${LIMITS.maxHorizon} steps`);
    if (N * nu > LIMITS.maxQpInputs) throw new InputError(`MPC: horizon ${N} × ${nu} inputs = ${N * nu} QP variables, above the limit of ${LIMITS.maxQpInputs}; shorten the horizon`);
    this.plant = plant;
    this.N = N;
    this.nx = nx;
    this.nu = nu;
    const A = fromRows(plant.A);
    const B = fromRows(plant.B);
    this.Q = fromRows(settings.Q ?? plant.Q);
    this.R = fromRows(settings.R ?? plant.R);
    const term = settings.terminal ?? 'dare';
    try {
      this.P = term === 'dare' ? solveDare(A, B, this.Q, this.R) : fromRows(term);
    } catch (e) {
      if (e instanceof DareError) throw new InputError(`plant ${plant.name}: no stabilising LQR solution for the MPC's terminal cost (${e.message})`);
      throw e;
    }
    this.K = lqrGain(A, B, this.R, this.P);

    // Prediction matrices.
    const Phi = zeros(N * nx, nx);
    const Gamma = zeros(N * nx, N * nu);
    const powers: Mat[] = [];
    let Ak: Mat = A;
    for (let k = 0; k < N; k++) {
      powers.push(Ak);
      for (let i = 0; i < nx; i++) for (let j = 0; j < nx; j++) Phi.data[(k * nx + i) * nx + j] = Ak.data[i * nx + j];
      Ak = matmul(A, Ak);
    }
    // The condensed QP holds A^k for k ≤ N: a plant that grows too fast over the horizon makes it overflow or lose every digit.
    const growth = maxAbs(Phi);
    if (!(growth <= LIMITS.maxGrowth * Math.max(1, maxAbs(A))))
      throw new InputError(
        `plant ${plant.name}: its free response grows by ${growth.toExponential(1)} over the ${N}-step horizon, beyond what the condensed MPC can represent (limit ${LIMITS.maxGrowth.toExponential(0)}): the plant is too unstable for this horizon at dt = ${plant.dt} s; shorten --horizon or the sample time`,
      );
    // Γ block (k, j) = A^{k-j} B for j ≤ k (row block k is x_{k+1}).
    const AkB: Mat[] = [B];
    for (let k = 1; k < N; k++) AkB.push(matmul(A, AkB[k - 1]));
    for (let k = 0; k < N; k++)
      for (let j = 0; j <= k; j++) {
        const blk = AkB[k - j];
        for (let i = 0; i < nx; i++) for (let c = 0; c < nu; c++) Gamma.data[(k * nx + i) * (N * nu) + j * nu + c] = blk.data[i * nu + c];
      }
    this.Phi = Phi;
    this.Gamma = Gamma;
    // Q̄ = blkdiag(Q, …, Q, P)
    const Qbar = zeros(N * nx, N * nx);
    for (let k = 0; k < N; k++) {
      const W = k === N - 1 ? this.P : this.Q;
      for (let i = 0; i < nx; i++) for (let j = 0; j < nx; j++) Qbar.data[(k * nx + i) * (N * nx) + k * nx + j] = W.data[i * nx + j];
    }
    const QbarGamma = matmul(Qbar, Gamma);
    const QG2 = zeros(N * nx, N * nu);
    for (let i = 0; i < QG2.data.length; i++) QG2.data[i] = 2 * QbarGamma.data[i];
    this.QbarGamma2 = QG2;
    const H = matmul(transpose(Gamma), QbarGamma); // ΓᵀQ̄Γ
    const nU = N * nu;

    // State-constraint rows and slack scaling.
    const useState = settings.stateConstraints ?? true;
    const sigma = new Float64Array(nx);
    const bounded: number[] = [];
    for (let i = 0; i < nx; i++) {
      const lo = plant.xBounds.min[i],
        hi = plant.xBounds.max[i];
      // Slack unit: half the box width; for a one-sided bound its magnitude (at least 1). A state
      // with no bound has no state rows, so its σ never enters the QP (1 keeps it finite).
      const finLo = Number.isFinite(lo),
        finHi = Number.isFinite(hi);
      sigma[i] = finLo && finHi ? Math.max((hi - lo) / 2, 1e-9) : finLo || finHi ? Math.max(Math.abs(finLo ? lo : hi), 1) : 1;
      if (useState && (finLo || finHi)) bounded.push(i);
    }
    this.sigma = sigma;
    this.polyH = settings.polytope ? fromRows(settings.polytope.H) : null;
    this.polyh = settings.polytope ? Float64Array.from(settings.polytope.h) : null;
    if (this.polyH && (this.polyH.cols !== nx || this.polyH.rows !== this.polyh!.length)) throw new Error(`MPC: polytope H must be r×${nx} with h of length r`);
    const npoly = this.polyH ? this.polyH.rows : 0;
    const ns = bounded.length + npoly > 0 ? N : 0;
    this.ns = ns;
    const nz = nU + ns;
    this.nz = nz;

    // Exact-penalty weight: large against any multiplier the hard problem can have.
    // The corner of the constrained states' box (unbounded states contribute nothing to a slack).
    const inBox = new Float64Array(nx);
    for (const i of bounded) inBox[i] = sigma[i];
    let corner = 0;
    for (let i = 0; i < nx; i++) for (let j = 0; j < nx; j++) corner += this.P.data[i * nx + j] * inBox[i] * inBox[j];
    this.slackPenalty = settings.slackPenalty ?? 1e4 * Math.max(1, Math.abs(corner));

    // QP Hessian: ½zᵀPz with P = blkdiag(2(ΓᵀQ̄Γ + R̄), I). The unit slack curvature keeps the QP
    // strictly convex (Goldfarb–Idnani needs P ≻ 0) without changing the exact-penalty solution.
    const Pqp = new Float64Array(nz * nz);
    for (let i = 0; i < nU; i++) for (let j = 0; j < nU; j++) Pqp[i * nz + j] = 2 * H.data[i * nU + j];
    for (let k = 0; k < N; k++) for (let i = 0; i < nu; i++) for (let j = 0; j < nu; j++) Pqp[(k * nu + i) * nz + k * nu + j] += 2 * this.R.data[i * nu + j];
    for (let k = 0; k < ns; k++) Pqp[(nU + k) * nz + nU + k] = 1;

    // Constraint rows.
    const stage: number[] = [],
      kind: number[] = [],
      index: number[] = [];
    for (let k = 0; k < N; k++) for (let j = 0; j < nu; j++) (stage.push(k), kind.push(0), index.push(j));
    for (let k = 0; k < N; k++) {
      for (const i of bounded) {
        if (Number.isFinite(plant.xBounds.max[i])) (stage.push(k), kind.push(1), index.push(i));
        if (Number.isFinite(plant.xBounds.min[i])) (stage.push(k), kind.push(2), index.push(i));
      }
      for (let r = 0; r < npoly; r++) (stage.push(k), kind.push(3), index.push(r));
    }
    for (let k = 0; k < ns; k++) (stage.push(k), kind.push(4), index.push(0));
    const m = stage.length;
    this.m = m;
    this.rowStage = Int32Array.from(stage);
    this.rowKind = Int8Array.from(kind);
    this.rowIndex = Int32Array.from(index);
    const Aqp = new Float64Array(m * nz);
    for (let r = 0; r < m; r++) {
      const k = stage[r],
        kd = kind[r],
        idx = index[r];
      const row = r * nz;
      if (kd === 0) Aqp[row + k * nu + idx] = 1;
      else if (kd === 1 || kd === 2) {
        for (let j = 0; j < nU; j++) Aqp[row + j] = Gamma.data[(k * nx + idx) * nU + j];
        Aqp[row + nU + k] = (kd === 1 ? -1 : 1) * sigma[idx];
      } else if (kd === 3) {
        const Hp = this.polyH!;
        for (let j = 0; j < nU; j++) {
          let s = 0;
          for (let i = 0; i < nx; i++) s += Hp.data[idx * nx + i] * Gamma.data[(k * nx + i) * nU + j];
          Aqp[row + j] = s;
        }
        let hn = 0;
        for (let i = 0; i < nx; i++) hn = Math.max(hn, Math.abs(Hp.data[idx * nx + i]) * sigma[i]);
        Aqp[row + nU + k] = -Math.max(hn, 1e-9);
      } else Aqp[row + nU + k] = 1;
    }
    this.qpSolver = new QPSolver({ P: Pqp, A: Aqp, n: nz, m });
  }

  /**
   * The set of initial states where the hard-constrained problem is feasible,
   * lifted into (x₀, U): l ≤ A [x₀; U] ≤ u with the input box, the state box on
   * x₁ … x_N (one-sided rows where a bound is infinite) and the polytope. Its
   * projection onto x₀ is exactly where `solve` needs no slack. Row-major A,
   * n = nx + N·nu columns.
   */
  liftedFeasibleSet(): { n: number; m: number; A: Float64Array; l: Float64Array; u: Float64Array } {
    const { N, nx, nu } = this;
    const nU = N * nu;
    const n = nx + nU;
    const rows: { a: Float64Array; l: number; u: number }[] = [];
    const { xBounds, uBounds } = this.plant;
    for (let k = 0; k < N; k++)
      for (let j = 0; j < nu; j++) {
        const a = new Float64Array(n);
        a[nx + k * nu + j] = 1;
        rows.push({ a, l: uBounds.min[j], u: uBounds.max[j] });
      }
    const predicted = (k: number, weights: ArrayLike<number>) => {
      // row of wᵀ x_{k+1} = wᵀ(Φ_k x₀ + Γ_k U)
      const a = new Float64Array(n);
      for (let i = 0; i < nx; i++) {
        const w = weights[i];
        if (w === 0) continue;
        const r = k * nx + i;
        for (let j = 0; j < nx; j++) a[j] += w * this.Phi.data[r * nx + j];
        for (let j = 0; j < nU; j++) a[nx + j] += w * this.Gamma.data[r * nU + j];
      }
      return a;
    };
    if (this.ns > 0)
      for (let k = 0; k < N; k++) {
        for (let i = 0; i < nx; i++) {
          const lo = xBounds.min[i],
            hi = xBounds.max[i];
          if (!Number.isFinite(lo) && !Number.isFinite(hi)) continue;
          const e = new Float64Array(nx);
          e[i] = 1;
          rows.push({ a: predicted(k, e), l: lo, u: hi });
        }
        if (this.polyH) for (let r = 0; r < this.polyH.rows; r++) rows.push({ a: predicted(k, this.polyH.data.subarray(r * nx, (r + 1) * nx)), l: -Infinity, u: this.polyh![r] });
      }
    const m = rows.length;
    const A = new Float64Array(m * n);
    rows.forEach((r, i) => A.set(r.a, i * n));
    return { n, m, A, l: Float64Array.from(rows, (r) => r.l), u: Float64Array.from(rows, (r) => r.u) };
  }

  /** Number of QP variables and constraint rows (for benchmarks and reports). */
  get qpSize(): { n: number; m: number } {
    return { n: this.nz, m: this.m };
  }

  /** Solve the MPC problem at state x0. `warm` is an active set from a previous solution (see shiftActive). */
  solve(x0: ArrayLike<number>, ref: MPCReference = {}, warm?: ActiveSet): MPCSolution {
    const t0 = performance.now();
    const { N, nx, nu, nz, m } = this;
    const nU = N * nu;
    if (x0.length !== nx) throw new Error(`MPC: x0 has ${x0.length} entries, expected ${nx}`);
    for (let i = 0; i < nx; i++) if (!Number.isFinite(x0[i])) throw new Error(`MPC: x0[${i}] is not finite`);
    const xr = ref.x ? Float64Array.from(ref.x) : new Float64Array(nx);
    const ur = ref.u ? Float64Array.from(ref.u) : new Float64Array(nu);
    // Free response Φx₀ and its deviation from the reference.
    const free = new Float64Array(N * nx);
    for (let r = 0; r < N * nx; r++) {
      let s = 0;
      for (let j = 0; j < nx; j++) s += this.Phi.data[r * nx + j] * x0[j];
      free[r] = s;
    }
    // q_U = 2ΓᵀQ̄(Φx₀ − X_r) − 2R̄U_r
    const q = new Float64Array(nz);
    for (let r = 0; r < N * nx; r++) {
      const dev = free[r] - xr[r % nx];
      if (dev === 0) continue;
      for (let j = 0; j < nU; j++) q[j] += this.QbarGamma2.data[r * nU + j] * dev;
    }
    for (let k = 0; k < N; k++)
      for (let i = 0; i < nu; i++) {
        let s = 0;
        for (let j = 0; j < nu; j++) s += this.R.data[i * nu + j] * ur[j];
        q[k * nu + i] -= 2 * s;
      }
    for (let k = 0; k < this.ns; k++) q[nU + k] = this.slackPenalty;
    const l = new Float64Array(m);
    const u = new Float64Array(m);
    const { xBounds, uBounds } = this.plant;
    for (let r = 0; r < m; r++) {
      const k = this.rowStage[r],
        kd = this.rowKind[r],
        idx = this.rowIndex[r];
      if (kd === 0) {
        l[r] = uBounds.min[idx];
        u[r] = uBounds.max[idx];
      } else if (kd === 1) {
        l[r] = -Infinity;
        u[r] = xBounds.max[idx] - free[k * nx + idx];
      } else if (kd === 2) {
        l[r] = xBounds.min[idx] - free[k * nx + idx];
        u[r] = Infinity;
      } else if (kd === 3) {
        let hf = 0;
        for (let i = 0; i < nx; i++) hf += this.polyH!.data[idx * nx + i] * free[k * nx + i];
        l[r] = -Infinity;
        u[r] = this.polyh![idx] - hf;
      } else {
        l[r] = 0;
        u[r] = Infinity;
      }
    }
    const res = this.qpSolver.solve({ q, l, u }, warm ? { warmStart: warm } : {});
    const U = res.x.slice(0, nU);
    // The QP meets the input box to ~1e-15; clamp so the applied input is inside it exactly.
    for (let k = 0; k < N; k++) for (let j = 0; j < nu; j++) U[k * nu + j] = Math.min(uBounds.max[j], Math.max(uBounds.min[j], U[k * nu + j]));
    const X = free.slice();
    for (let r = 0; r < N * nx; r++) {
      let s = 0;
      for (let j = 0; j < nU; j++) s += this.Gamma.data[r * nU + j] * U[j];
      X[r] += s;
    }
    let slack = 0;
    for (let k = 0; k < this.ns; k++) slack = Math.max(slack, res.x[nU + k]);
    const cost = this.planCost(x0, U, X, xr, ur);
    return {
      u: U.slice(0, nu),
      U,
      X,
      status: res.status,
      slack,
      needsSlack: !(slack <= SLACK_TOL),
      iterations: res.iterations,
      cost,
      active: res.active,
      solveTimeMs: performance.now() - t0,
    };
  }

  private planCost(x0: ArrayLike<number>, U: Float64Array, X: Float64Array, xr: Float64Array, ur: Float64Array): number {
    const { N, nx, nu } = this;
    const quad = (W: Mat, v: ArrayLike<number>, off: number, refv: Float64Array, n: number) => {
      let s = 0;
      for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) s += (v[off + i] - refv[i]) * W.data[i * n + j] * (v[off + j] - refv[j]);
      return s;
    };
    let c = quad(this.Q, x0, 0, xr, nx);
    for (let k = 0; k < N; k++) {
      c += quad(this.R, U, k * nu, ur, nu);
      c += quad(k === N - 1 ? this.P : this.Q, X, k * nx, xr, nx);
    }
    return c;
  }

  /** Shift an active set one stage forward in time (the classic MPC warm start). */
  shiftActive(active: ActiveSet): ActiveSet {
    const out: number[] = [];
    // Rows are laid out stage-major within each kind group, so shifting a row
    // means finding the row with the same kind and index one stage earlier.
    const key = (k: number, kd: number, idx: number) => `${kd}:${idx}:${k}`;
    if (!this.rowLookup) {
      this.rowLookup = new Map();
      for (let r = 0; r < this.m; r++) this.rowLookup.set(key(this.rowStage[r], this.rowKind[r], this.rowIndex[r]), r);
    }
    for (const e of active) {
      const r = Math.abs(e) - 1;
      const k = this.rowStage[r];
      if (k === 0) continue;
      const r2 = this.rowLookup.get(key(k - 1, this.rowKind[r], this.rowIndex[r]));
      if (r2 !== undefined) out.push(Math.sign(e) * (r2 + 1));
    }
    return Int32Array.from(out);
  }
  private rowLookup: Map<string, number> | null = null;

  /** A closed-loop controller x ↦ u that warm-starts each solve from the shifted previous plan. */
  controller(ref: MPCReference = {}): (x: ArrayLike<number>) => { u: Float64Array; info: MPCSolution } {
    let prev: ActiveSet | undefined;
    return (x) => {
      const sol = this.solve(x, ref, prev ? this.shiftActive(prev) : undefined);
      prev = sol.active;
      return { u: sol.u, info: sol };
    };
  }

  /** Settings summary for provenance records. */
  describe(): { horizon: number; Q: number[][]; R: number[][]; P: number[][]; slackPenalty: number; stateConstraints: boolean } {
    return { horizon: this.N, Q: toRows(this.Q), R: toRows(this.R), P: toRows(this.P), slackPenalty: this.slackPenalty, stateConstraints: this.ns > 0 };
  }
}
