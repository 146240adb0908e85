/**
 * solveQP: dense convex QP in OSQP form, solved to machine accuracy.
 *
 * Strictly convex problems (P ≻ 0) go straight to the Goldfarb–Idnani dual
 * active-set method. Merely convex ones (P ⪰ 0, e.g. LPs or least squares with
 * a rank-deficient model) are solved by the proximal-point method: each outer
 * step solves the strictly convex problem with P + σI and q − σxₖ by
 * Goldfarb–Idnani, warm-started with the previous working set; once the
 * working set settles, a polish step solves the KKT system of the original
 * problem on it directly (the idea of OSQP's polishing) and is accepted only if
 * it is primal and dual feasible.
 */
import { cholesky, luFactor, luSolve, type Mat } from '../linalg.js';
import { GoldfarbIdnani, giRowPattern, initialBasis, type GIConstraints } from './goldfarb-idnani.js';
import { InputError } from '../io.js';
import {
  normalizeMatrices,
  normalizeVectors,
  qpMetrics,
  type ActiveSet,
  type DenseInput,
  type NormalizedQP,
  type QPMatrices,
  type QPOptions,
  type QPProblem,
  type QPResult,
  type QPStatus,
  type QPVectors,
} from './problem.js';

interface Mapping {
  cons: GIConstraints;
  row: Int32Array; // constraint -> OSQP row
  side: Int8Array; // -1 lower, +1 upper, 0 equality
  lowerOf: Int32Array; // row -> constraint (or -1)
  upperOf: Int32Array;
  eqOf: Int32Array;
}

/**
 * Per OSQP row, which Goldfarb–Idnani constraints it makes: 0 none (free), 1 lower,
 * 2 upper, 3 both, 4 equality. The constraints' normals depend only on this and A.
 */
function rowShape(l: Float64Array, u: Float64Array, m: number, out: Uint8Array): void {
  for (let i = 0; i < m; i++) out[i] = l[i] === u[i] ? 4 : (l[i] > -Infinity ? 1 : 0) | (u[i] < Infinity ? 2 : 0);
}

/** The GI constraints of rows shaped as `shape` (rowShape): normals, pattern and mirrors; b is filled by fillRhs. */
function buildConstraints(n: number, m: number, A: Float64Array, shape: Uint8Array): Mapping {
  const rows: number[] = [];
  const sides: number[] = [];
  const lowerOf = new Int32Array(m).fill(-1);
  const upperOf = new Int32Array(m).fill(-1);
  const eqOf = new Int32Array(m).fill(-1);
  for (let i = 0; i < m; i++) {
    if (shape[i] === 4) {
      eqOf[i] = rows.length;
      rows.push(i);
      sides.push(0);
      continue;
    }
    if (shape[i] & 1) {
      lowerOf[i] = rows.length;
      rows.push(i);
      sides.push(-1);
    }
    if (shape[i] & 2) {
      upperOf[i] = rows.length;
      rows.push(i);
      sides.push(1);
    }
  }
  const count = rows.length;
  const N = new Float64Array(count * n);
  const isEq = new Uint8Array(count);
  const mirror = new Int32Array(count).fill(-1);
  for (let k = 0; k < count; k++) {
    const i = rows[k];
    const sgn = sides[k] === 1 ? -1 : 1;
    for (let j = 0; j < n; j++) N[k * n + j] = sgn * A[i * n + j];
    isEq[k] = sides[k] === 0 ? 1 : 0;
    if (sides[k] !== 0 && lowerOf[i] >= 0 && upperOf[i] >= 0) mirror[k] = sides[k] === 1 ? lowerOf[i] : upperOf[i];
  }
  return {
    cons: { count, N, b: new Float64Array(count), isEq, mirror, pattern: giRowPattern(N, count, n) },
    row: Int32Array.from(rows),
    side: Int8Array.from(sides),
    lowerOf,
    upperOf,
    eqOf,
  };
}

function fillRhs(map: Mapping, l: Float64Array, u: Float64Array): void {
  const { b } = map.cons;
  for (let k = 0; k < map.cons.count; k++) {
    const i = map.row[k];
    b[k] = map.side[k] === 1 ? -u[i] : l[i];
  }
}

function warmIndices(map: Mapping, warm: ActiveSet | undefined): Int32Array | null {
  if (!warm || warm.length === 0) return null;
  const out: number[] = [];
  for (const e of warm) {
    const i = Math.abs(e) - 1;
    if (i < 0 || i >= map.eqOf.length) continue;
    const k = map.eqOf[i] >= 0 ? map.eqOf[i] : e < 0 ? map.lowerOf[i] : map.upperOf[i];
    if (k >= 0) out.push(k);
  }
  return Int32Array.from(out);
}

/** Working set and OSQP duals from the solver state. */
function extract(map: Mapping, gi: GoldfarbIdnani, m: number): { y: Float64Array; active: ActiveSet } {
  const y = new Float64Array(m);
  const active = new Int32Array(gi.q);
  for (let j = 0; j < gi.q; j++) {
    const k = gi.act[j];
    const i = map.row[k];
    const lam = gi.u[j];
    const side = map.side[k];
    if (side === 0) {
      // current normal is (flipped ? -a_i : a_i); Aᵀy = -Σ λ n_k
      y[i] += gi.flipped[k] ? lam : -lam;
      active[j] = i + 1;
    } else if (side === -1) {
      y[i] += -lam;
      active[j] = -(i + 1);
    } else {
      y[i] += lam;
      active[j] = i + 1;
    }
  }
  return { y, active };
}

function nanResult(status: QPStatus, qp: NormalizedQP, iterations: number, message: string): QPResult {
  return {
    status,
    x: new Float64Array(qp.n).fill(NaN),
    y: new Float64Array(qp.m).fill(NaN),
    obj: NaN,
    iterations,
    primalResidual: NaN,
    dualResidual: NaN,
    active: new Int32Array(0),
    message,
  };
}

function finish(qp: NormalizedQP, x: Float64Array, y: Float64Array, active: ActiveSet, iterations: number, status: QPStatus, message?: string): QPResult {
  const met = qpMetrics(qp, x, y);
  return { status, x: Float64Array.from(x), y, obj: met.obj, iterations, primalResidual: met.primalResidual, dualResidual: met.dualResidual, active, message };
}

/**
 * Polish: solve [[P, Aₐᵀ], [Aₐ, 0]] [x; y] = [−q; bₐ] on the working set and
 * accept the answer only if it is primal feasible and its multipliers have the
 * right signs. The KKT matrix is singular whenever the working set does not
 * pin down P's null space (an LP-like problem, a dependent active row), so it
 * is solved regularised, [[P + δI, Aₐᵀ], [Aₐ, −δI]], and the answer refined
 * against the unregularised system (as OSQP polishes): a consistent system
 * converges to a solution of it. Returns null when the refinement does not
 * converge or the check fails.
 */
function polish(qp: NormalizedQP, active0: ActiveSet, tol: number): { x: Float64Array; y: Float64Array; active: ActiveSet } | null {
  // A row the working set left out (deferred as numerically dependent) may be violated by the
  // polished point: add the worst such row on its violated side and polish again, a few times.
  let active = active0;
  for (let attempt = 0; attempt < 4; attempt++) {
    const r = polishOnce(qp, active, tol);
    if (r === null) return null;
    if ('x' in r) return { ...r, active };
    if (active.some((a) => Math.abs(a) - 1 === r.violated)) return null;
    active = Int32Array.from([...active, r.side * (r.violated + 1)]);
  }
  return null;
}

function polishOnce(qp: NormalizedQP, active: ActiveSet, tol: number): { x: Float64Array; y: Float64Array } | { violated: number; side: 1 | -1 } | null {
  const { n, m, P, q, A, l, u } = qp;
  const k = active.length;
  const dim = n + k;
  const K: Mat = { rows: dim, cols: dim, data: new Float64Array(dim * dim) };
  const rhs: Mat = { rows: dim, cols: 1, data: new Float64Array(dim) };
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) K.data[i * dim + j] = P[i * n + j];
    rhs.data[i] = -q[i];
  }
  for (let a = 0; a < k; a++) {
    const i = Math.abs(active[a]) - 1;
    for (let j = 0; j < n; j++) {
      K.data[(n + a) * dim + j] = A[i * n + j];
      K.data[j * dim + n + a] = A[i * n + j];
    }
    rhs.data[n + a] = l[i] === u[i] ? l[i] : active[a] > 0 ? u[i] : l[i];
  }
  let kScale = 1;
  for (let i = 0; i < dim * dim; i++) kScale = Math.max(kScale, Math.abs(K.data[i]));
  const delta = 1e-7 * kScale;
  const Kd: Mat = { rows: dim, cols: dim, data: Float64Array.from(K.data) };
  for (let i = 0; i < dim; i++) Kd.data[i * dim + i] += i < n ? delta : -delta;
  const f = luFactor(Kd);
  if (!f) return null;
  const sol = luSolve(f, rhs).data;
  // Iterative refinement on the true KKT system.
  const res: Mat = { rows: dim, cols: 1, data: new Float64Array(dim) };
  let rScale = 1;
  for (let i = 0; i < dim; i++) rScale = Math.max(rScale, Math.abs(rhs.data[i]));
  // Refine until the residual is at rounding level (or stops falling); it must end below 1e-12 of the data.
  let best = Infinity;
  for (let it = 0; it < 30; it++) {
    let worst = 0,
      solScale = 1;
    for (let i = 0; i < dim; i++) solScale = Math.max(solScale, Math.abs(sol[i]));
    for (let i = 0; i < dim; i++) {
      let s = rhs.data[i];
      for (let j = 0; j < dim; j++) s -= K.data[i * dim + j] * sol[j];
      res.data[i] = s;
      worst = Math.max(worst, Math.abs(s));
    }
    if (worst <= 1e-15 * (rScale + kScale * solScale) || !(worst < 0.5 * best)) {
      best = Math.min(best, worst);
      break;
    }
    best = worst;
    const corr = luSolve(f, res).data;
    for (let i = 0; i < dim; i++) sol[i] += corr[i];
  }
  if (!(best <= 1e-12 * rScale * Math.max(1, kScale))) return null;
  const x = sol.slice(0, n);
  const y = new Float64Array(m);
  for (let a = 0; a < k; a++) {
    const i = Math.abs(active[a]) - 1;
    const yi = sol[n + a];
    if (l[i] !== u[i]) {
      if (active[a] > 0 && yi < -tol) return null;
      if (active[a] < 0 && yi > tol) return null;
    }
    y[i] = yi;
  }
  let xs = 0;
  for (let j = 0; j < n; j++) xs = Math.max(xs, Math.abs(x[j]));
  let worst = 0;
  let violated: { violated: number; side: 1 | -1 } | null = null;
  for (let i = 0; i < m; i++) {
    let ax = 0;
    for (let j = 0; j < n; j++) ax += A[i * n + j] * x[j];
    const t = tol * (1 + Math.abs(Number.isFinite(l[i]) ? l[i] : 0) + Math.abs(Number.isFinite(u[i]) ? u[i] : 0) + xs);
    const v = Math.max(l[i] - ax, ax - u[i]) / t;
    if (v > 1 && v > worst) {
      worst = v;
      violated = { violated: i, side: ax > u[i] ? 1 : -1 };
    }
  }
  if (violated) return violated;
  return { x, y };
}

/**
 * A QP whose matrices stay fixed while q, l, u change (the MPC case): P is
 * factorised once and each solve only pays for the active-set iterations.
 */
export class QPSolver {
  readonly n: number;
  readonly m: number;
  private readonly mats: QPMatrices;
  private readonly convexity: 'definite' | 'semidefinite' | 'non_convex';
  private readonly sigma: number;
  private readonly gi: GoldfarbIdnani | null;
  /** The constraints of the last solve's row shape: an MPC's rows keep their shape from solve to solve. */
  private cached: { shape: Uint8Array; map: Mapping } | null = null;
  private readonly shape: Uint8Array;

  constructor(problem: { P: DenseInput; A?: DenseInput; n?: number; m?: number }) {
    const n = problem.n ?? (problem.P instanceof Float64Array ? Math.round(Math.sqrt(problem.P.length)) : 'rows' in problem.P ? (problem.P as Mat).rows : problem.P.length);
    this.mats = normalizeMatrices(problem, n);
    this.n = n;
    this.m = this.mats.m;
    this.shape = new Uint8Array(this.m);
    const P = this.mats.P;
    this.sigma = 0;
    if (n === 0) {
      this.convexity = 'definite';
      this.gi = null;
      return;
    }
    const L = cholesky({ rows: n, cols: n, data: P }, 1e-12);
    if (L) {
      this.convexity = 'definite';
      this.gi = new GoldfarbIdnani(initialBasis(L.data, n), n);
      return;
    }
    let dmax = 1;
    for (let i = 0; i < n; i++) dmax = Math.max(dmax, Math.abs(P[i * n + i]));
    // A negative eigenvalue larger than ~1e-10 of the scale makes the problem non-convex.
    const probe = Float64Array.from(P);
    for (let i = 0; i < n; i++) probe[i * n + i] += 1e-10 * dmax;
    const sigma = 1e-6 * dmax;
    const Ps = Float64Array.from(P);
    for (let i = 0; i < n; i++) Ps[i * n + i] += sigma;
    const Ls = cholesky({ rows: n, cols: n, data: Ps }, 0);
    if (!cholesky({ rows: n, cols: n, data: probe }, 0) || !Ls) {
      this.convexity = 'non_convex';
      this.gi = null;
      return;
    }
    this.convexity = 'semidefinite';
    this.sigma = sigma;
    this.gi = new GoldfarbIdnani(initialBasis(Ls.data, n), n);
  }

  /** Solve with new q, l, u (and objective constant c). */
  solve(vectors: QPVectors, options: QPOptions = {}): QPResult {
    const qp = normalizeVectors(this.mats, vectors);
    const { n, m } = qp;
    const feasTol = options.feasTol ?? 1e-11;
    const maxIter = options.maxIter ?? 50 * (n + 2 * m) + 1000;
    for (let i = 0; i < m; i++) if (qp.l[i] > qp.u[i]) return nanResult('infeasible', qp, 0, `row ${i} has l > u`);
    rowShape(qp.l, qp.u, m, this.shape);
    if (!this.cached || !this.shape.every((v, i) => v === this.cached!.shape[i])) this.cached = { shape: Uint8Array.from(this.shape), map: buildConstraints(n, m, qp.A, this.shape) };
    const map = this.cached.map;
    fillRhs(map, qp.l, qp.u);
    const warmRaw = options.warmStart;
    const warmSet = warmRaw === undefined ? undefined : 'active' in warmRaw ? warmRaw.active : warmRaw;
    const warm = warmIndices(map, warmSet);
    if (n === 0) return finish(qp, new Float64Array(0), new Float64Array(m), new Int32Array(0), 0, 'solved');
    if (this.convexity === 'non_convex' || !this.gi) return nanResult('non_convex', qp, 0, 'P is not positive semidefinite');
    const gi = this.gi;
    if (this.convexity === 'definite') {
      const st = gi.solve(qp.q, map.cons, warm, maxIter, feasTol);
      if (st === 'infeasible') return nanResult('infeasible', qp, gi.iterations, 'no point satisfies l ≤ Ax ≤ u');
      const { y, active } = extract(map, gi, m);
      return finish(qp, gi.x, y, active, gi.iterations, st === 'solved' ? 'solved' : 'max_iter');
    }
    return solveSemidefinite(qp, map, gi, this.sigma, warm, feasTol, maxIter);
  }
}

/**
 * Solve  minimise ½xᵀPx + qᵀx + c  subject to  l ≤ Ax ≤ u.
 *
 * Status is 'solved', 'infeasible' (no feasible x; x is NaN), 'dual_infeasible'
 * (unbounded below), 'non_convex' (P has a negative eigenvalue) or 'max_iter'.
 * For repeated solves with the same P and A, use QPSolver.
 */
export function solveQP(problem: QPProblem, options: QPOptions = {}): QPResult {
  const n = problem.q.length;
  if (problem.n !== undefined && problem.n !== n) throw new InputError(`QP: n = ${problem.n} but q has ${n} entries`);
  return new QPSolver({ ...problem, n }).solve(problem, options);
}

function solveSemidefinite(qp: NormalizedQP, map: Mapping, gi: GoldfarbIdnani, sigma: number, warm: Int32Array | null, feasTol: number, maxIter: number): QPResult {
  const { n, m, q } = qp;
  const a = new Float64Array(n);
  const xk = new Float64Array(n);
  let warmSet = warm;
  let total = 0;
  let prevKey = '';
  const maxOuter = 2000;
  for (let outer = 0; outer < maxOuter; outer++) {
    for (let i = 0; i < n; i++) a[i] = q[i] - sigma * xk[i];
    const st = gi.solve(a, map.cons, warmSet, Math.max(1, maxIter - total), feasTol);
    total += gi.iterations;
    if (st === 'infeasible') return nanResult('infeasible', qp, total, 'no point satisfies l ≤ Ax ≤ u');
    if (st === 'max_iter') {
      const { y, active } = extract(map, gi, m);
      return finish(qp, gi.x, y, active, total, 'max_iter', 'iteration cap reached in a proximal step');
    }
    const { y, active } = extract(map, gi, m);
    // Polish once the working set repeats.
    const key = Array.from(active)
      .sort((u, v) => u - v)
      .join(',');
    const repeated = key === prevKey;
    if (repeated) {
      const pol = polish(qp, active, 1e-9);
      if (pol) return finish(qp, pol.x, pol.y, pol.active, total, 'solved');
    }
    prevKey = key;
    // Stop on the original problem's KKT conditions, not the proximal subproblem's.
    if (kktConverged(qp, gi.x, y)) {
      // converged to the tolerance: a polish on this working set usually lands on the exact vertex
      const pol = repeated ? null : polish(qp, active, 1e-9);
      return pol ? finish(qp, pol.x, pol.y, pol.active, total, 'solved') : finish(qp, gi.x, y, active, total, 'solved');
    }
    let dx = 0;
    let xs = 0;
    for (let i = 0; i < n; i++) {
      dx = Math.max(dx, Math.abs(gi.x[i] - xk[i]));
      xs = Math.max(xs, Math.abs(gi.x[i]));
    }
    if (dx <= 1e-13 * (1 + xs)) return finish(qp, gi.x, y, active, total, 'solved');
    if (outer >= 20 && isRecessionDirection(qp, gi.x, xk, dx)) {
      return nanResult('dual_infeasible', qp, total, 'objective unbounded below along a feasible direction');
    }
    if (xs > 1e15) return nanResult('dual_infeasible', qp, total, 'iterates diverge: objective unbounded below');
    xk.set(gi.x);
    warmSet = Int32Array.from(gi.act.subarray(0, gi.q));
    if (total >= maxIter) break;
  }
  const { y, active } = extract(map, gi, m);
  return finish(qp, gi.x, y, active, total, 'max_iter', 'proximal iterations did not converge');
}

/**
 * KKT residuals of the original problem at (x, y), within 1e-9 of the data's
 * scale: primal ‖max(Ax − u, l − Ax, 0)‖∞ against the bounds and Ax, dual
 * ‖Px + q + Aᵀy‖∞ against Px, q and Aᵀy.
 */
function kktConverged(qp: NormalizedQP, x: Float64Array, y: Float64Array): boolean {
  const { n, m, P, q, A, l, u } = qp;
  const met = qpMetrics(qp, x, y);
  let pScale = 1,
    dScale = 1;
  for (let i = 0; i < m; i++) {
    let ax = 0;
    for (let j = 0; j < n; j++) ax += A[i * n + j] * x[j];
    pScale = Math.max(pScale, Math.abs(ax), Number.isFinite(l[i]) ? Math.abs(l[i]) : 0, Number.isFinite(u[i]) ? Math.abs(u[i]) : 0);
  }
  for (let i = 0; i < n; i++) {
    let px = 0,
      aty = 0;
    for (let j = 0; j < n; j++) px += P[i * n + j] * x[j];
    for (let k = 0; k < m; k++) aty += A[k * n + i] * y[k];
    dScale = Math.max(dScale, Math.abs(px), Math.abs(q[i]), Math.abs(aty));
  }
  return met.primalResidual <= 1e-9 * pScale && met.dualResidual <= 1e-9 * dScale;
}

/** d = x⁺ − x: is it a certificate that the objective decreases without bound (Pd = 0, qᵀd < 0, A d in the recession cone)? */
function isRecessionDirection(qp: NormalizedQP, xNew: Float64Array, xOld: Float64Array, dxInf: number): boolean {
  const { n, m, P, q, A, l, u } = qp;
  if (dxInf === 0) return false;
  const d = new Float64Array(n);
  for (let i = 0; i < n; i++) d[i] = (xNew[i] - xOld[i]) / dxInf;
  const eps = 1e-7;
  let qd = 0;
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let j = 0; j < n; j++) s += P[i * n + j] * d[j];
    if (Math.abs(s) > eps * (1 + Math.abs(P[i * n + i]))) return false;
    qd += q[i] * d[i];
  }
  if (qd >= -eps) return false;
  for (let i = 0; i < m; i++) {
    let ad = 0;
    for (let j = 0; j < n; j++) ad += A[i * n + j] * d[j];
    if (u[i] < Infinity && ad > eps) return false;
    if (l[i] > -Infinity && ad < -eps) return false;
  }
  return true;
}
