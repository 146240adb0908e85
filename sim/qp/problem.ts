/**
 * QP problem and result types (OSQP form) and input normalisation.
 *
 *   minimise ½ xᵀPx + qᵀx + c   subject to   l ≤ A x ≤ u
 *
 * Rows with l = u are equalities; ±Infinity makes a side inactive.
 */
import { InputError } from '../io.js';
import type { Mat } from '../linalg.js';

/** A dense matrix: rows of numbers, a `Mat`, or a row-major Float64Array (dimensions given beside it). */
export type DenseInput = readonly (readonly number[])[] | Mat | Float64Array;

export interface QPProblem {
  P: DenseInput;
  q: ArrayLike<number>;
  A?: DenseInput;
  l?: ArrayLike<number>;
  u?: ArrayLike<number>;
  /** Number of variables; required when P is a bare Float64Array. */
  n?: number;
  /** Number of constraint rows; required when A is a bare Float64Array. */
  m?: number;
  /** Constant added to the objective (Maros–Meszaros problems carry one). */
  c?: number;
}

export type QPStatus =
  | 'solved'
  | 'infeasible' // primal infeasible: no x satisfies l ≤ Ax ≤ u
  | 'dual_infeasible' // unbounded below
  | 'max_iter'
  | 'non_convex';

/** A working-set entry: row i at its upper side is +(i+1), at its lower side −(i+1). */
export type ActiveSet = Int32Array;

export interface QPOptions {
  /** Cap on active-set changes (adds + drops) over the whole solve. */
  maxIter?: number;
  /** Relative feasibility tolerance for choosing violated rows (default 1e-11). */
  feasTol?: number;
  /** Start from this working set, e.g. the `active` field of a previous result. */
  warmStart?: ActiveSet | { active: ActiveSet };
}

export interface QPResult {
  status: QPStatus;
  /** Primal solution (NaN-filled when infeasible or non-convex: never a wrong x). */
  x: Float64Array;
  /** Dual solution in OSQP convention: P x + q + Aᵀ y = 0, y_i ≥ 0 at an upper bound, ≤ 0 at a lower one. */
  y: Float64Array;
  obj: number;
  iterations: number;
  /** ‖max(Ax − u, 0) + max(l − Ax, 0)‖∞ */
  primalResidual: number;
  /** ‖P x + q + Aᵀ y‖∞ */
  dualResidual: number;
  /** Working set at the solution, reusable as `warmStart`. */
  active: ActiveSet;
  /** Human-readable reason for a non-solved status. */
  message?: string;
}

export interface NormalizedQP {
  n: number;
  m: number;
  P: Float64Array; // n×n row-major, symmetrised
  q: Float64Array;
  A: Float64Array; // m×n row-major
  l: Float64Array;
  u: Float64Array;
  c: number;
}

function toDense(name: string, M: DenseInput | undefined, rows: number | undefined, cols: number | undefined): { data: Float64Array; rows: number; cols: number } {
  if (M === undefined) return { data: new Float64Array(0), rows: 0, cols: cols ?? 0 };
  if (M instanceof Float64Array) {
    if (rows === undefined || cols === undefined) throw new InputError(`QP: ${name} is a Float64Array; give its dimensions (n, m)`);
    if (M.length !== rows * cols) throw new InputError(`QP: ${name} has ${M.length} entries, expected ${rows}×${cols}`);
    return { data: M, rows, cols };
  }
  if ('data' in M && 'rows' in M) {
    const mm = M as Mat;
    return { data: mm.data, rows: mm.rows, cols: mm.cols };
  }
  const arr = M as readonly (readonly number[])[];
  const r = arr.length;
  const c = r > 0 ? arr[0].length : (cols ?? 0);
  const data = new Float64Array(r * c);
  for (let i = 0; i < r; i++) {
    if (arr[i].length !== c) throw new InputError(`QP: ${name}[${i}] has ${arr[i].length} entries, expected ${c}`);
    for (let j = 0; j < c; j++) data[i * c + j] = arr[i][j];
  }
  return { data, rows: r, cols: c };
}

/** The constant part of a QP: the matrices, validated and copied. */
export interface QPMatrices {
  n: number;
  m: number;
  P: Float64Array;
  A: Float64Array;
}

/** The data that changes between solves of the same QP structure (OSQP's update(q, l, u)). */
export interface QPVectors {
  q: ArrayLike<number>;
  l?: ArrayLike<number>;
  u?: ArrayLike<number>;
  c?: number;
}

/** Validate and copy P and A. `n` is the number of variables. */
export function normalizeMatrices(p: { P: DenseInput; A?: DenseInput; n?: number; m?: number }, n: number): QPMatrices {
  const P = toDense('P', p.P, n, n);
  if (P.rows !== n || P.cols !== n) throw new InputError(`QP: P is ${P.rows}×${P.cols}, expected ${n}×${n} (length of q)`);
  const A = toDense('A', p.A, p.m ?? (p.A instanceof Float64Array ? undefined : 0), n);
  const m = A.rows;
  if (p.A !== undefined && A.cols !== n) throw new InputError(`QP: A has ${A.cols} columns, expected ${n}`);
  const Pc = Float64Array.from(P.data);
  for (let i = 0; i < Pc.length; i++) if (!Number.isFinite(Pc[i])) throw new InputError(`QP: P[${Math.floor(i / n)}][${i % n}] is not finite`);
  for (let i = 0; i < A.data.length; i++) if (!Number.isFinite(A.data[i])) throw new InputError(`QP: A[${Math.floor(i / n)}][${i % n}] is not finite`);
  // Symmetrise P: only its symmetric part enters xᵀPx.
  for (let i = 0; i < n; i++)
    for (let j = i + 1; j < n; j++) {
      const v = 0.5 * (Pc[i * n + j] + Pc[j * n + i]);
      Pc[i * n + j] = v;
      Pc[j * n + i] = v;
    }
  return { n, m, P: Pc, A: Float64Array.from(A.data) };
}

/** Validate q, l, u, c against the matrices' dimensions. */
export function normalizeVectors(mats: QPMatrices, p: QPVectors): NormalizedQP {
  const { n, m } = mats;
  if (p.q.length !== n) throw new InputError(`QP: q has ${p.q.length} entries, expected ${n}`);
  const l = new Float64Array(m).fill(-Infinity);
  const u = new Float64Array(m).fill(Infinity);
  if (p.l) {
    if (p.l.length !== m) throw new InputError(`QP: l has ${p.l.length} entries, expected ${m} (rows of A)`);
    l.set(Array.from(p.l));
  }
  if (p.u) {
    if (p.u.length !== m) throw new InputError(`QP: u has ${p.u.length} entries, expected ${m} (rows of A)`);
    u.set(Array.from(p.u));
  }
  for (let i = 0; i < n; i++) if (!Number.isFinite(p.q[i])) throw new InputError(`QP: q[${i}] is not finite`);
  for (let i = 0; i < m; i++) {
    if (Number.isNaN(l[i]) || l[i] === Infinity) throw new InputError(`QP: l[${i}] must be a number or -Infinity`);
    if (Number.isNaN(u[i]) || u[i] === -Infinity) throw new InputError(`QP: u[${i}] must be a number or +Infinity`);
  }
  const c = p.c ?? 0;
  if (!Number.isFinite(c)) throw new InputError('QP: c is not finite');
  return { n, m, P: mats.P, q: Float64Array.from(p.q), A: mats.A, l, u, c };
}

/** Validate shapes and values of a whole problem. */
export function normalizeQP(p: QPProblem): NormalizedQP {
  const n = p.q.length;
  if (p.n !== undefined && p.n !== n) throw new InputError(`QP: n = ${p.n} but q has ${n} entries`);
  return normalizeVectors(normalizeMatrices(p, n), p);
}

/** Objective, residuals for a candidate (x, y). */
export function qpMetrics(qp: NormalizedQP, x: Float64Array, y: Float64Array): { obj: number; primalResidual: number; dualResidual: number } {
  const { n, m, P, q, A, l, u, c } = qp;
  let obj = c;
  const grad = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let j = 0; j < n; j++) s += P[i * n + j] * x[j];
    grad[i] = s + q[i];
    obj += x[i] * (0.5 * s + q[i]);
  }
  let pr = 0;
  for (let i = 0; i < m; i++) {
    let ax = 0;
    for (let j = 0; j < n; j++) {
      ax += A[i * n + j] * x[j];
      grad[j] += A[i * n + j] * y[i];
    }
    pr = Math.max(pr, ax - u[i], l[i] - ax);
  }
  let dr = 0;
  for (let j = 0; j < n; j++) dr = Math.max(dr, Math.abs(grad[j]));
  return { obj, primalResidual: pr, dualResidual: dr };
}
