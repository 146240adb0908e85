/**
 * Turns a labelled dataset into the trainer's problem in normalised units.
 *
 * Scaling: the network sees x_n = (x − c_x) / h_x and produces y with
 * u = c_u + h_u ⊙ y, where c, h are the centres and half-widths of the input
 * domain and of the actuator box. So the actuator bounds are |y_j| ≤ 1 and the
 * MSE is in units of the actuator half-range.
 *
 * Constraints, all affine in the output y_k of one sample (g = cᵀy + d ≤ 0):
 *  - actuator: y_j − 1 ≤ 0 and −y_j − 1 ≤ 0;
 *  - one-step safety: x⁺ = A x + B u stays in the state box (or a polytope
 *    H x⁺ ≤ h), except the state bounds the deployed safety filter keeps
 *    (states one input moves, alone or nearly so: sim/safety-filter.ts). Each row is divided by ‖c‖₁, so that g is measured in
 *    normalised output units ("how far the output must move to satisfy it"),
 *    like the actuator rows; margins and tolerances then mean the same thing
 *    for every row. Rows that no output in [−1.5, 1.5] can violate are dropped
 *    (they cannot become active near a feasible network).
 */
import { boundText, filteredStates, nextStateBound, safetyFilter, type Bounds, type Plant } from '../sim/index.js';
import { ORIGIN, type Dataset } from './dataset.js';
import type { KernelData } from './gn-kernel.js';
import type { Activation } from './mlp.js';
import { toSharedF64, toSharedI32 } from './shared.js';

export interface Scaling {
  /** x_n = (x − inOffset) / inScale */
  inOffset: number[];
  inScale: number[];
  /** u = outOffset + outScale ⊙ y */
  outOffset: number[];
  outScale: number[];
}

export function boxScaling(domain: Bounds, uBounds: Bounds): Scaling {
  const c = (b: Bounds) => b.min.map((lo, i) => (lo + b.max[i]) / 2);
  const h = (b: Bounds) => b.min.map((lo, i) => (b.max[i] - lo) / 2);
  for (const v of [...h(domain), ...h(uBounds)]) if (!(v > 0) || !Number.isFinite(v)) throw new Error('scaling: every domain and actuator range must be finite and non-empty');
  return { inOffset: c(domain), inScale: h(domain), outOffset: c(uBounds), outScale: h(uBounds) };
}

/**
 * Default tightening of the polish (normalised output units: 0.2 % of the
 * actuator half-range): the trainers, the refinement and the row caps share it.
 */
export const DEFAULT_MARGIN = 2e-3;
/**
 * Constraint-generation rounds after DAgger (each stops the loop when it finds nothing). Five: on the
 * quadrotor rounds 4 and 5 found 2 and 9 more cuts, and held-out violations went 2 → 0 of 10,000.
 */
export const DEFAULT_REFINE_ROUNDS = 5;

export interface ConstraintOptions {
  /** Actuator bounds |y| ≤ 1 on every sample (default true; none when saturating). */
  actuator?: boolean;
  /**
   * The trained policy is the network clamped to the actuator box, as it is
   * deployed (KernelData.saturate): the actuator bounds hold by construction,
   * so they get no rows, and the other rows constrain the clamped output.
   */
  saturate?: boolean;
  /** One-step state constraints: 'box' (default) keeps A x + B π(x) in the state box; 'none' drops them. */
  safety?: 'box' | 'none';
  /** Optional polytope H x⁺ ≤ h on the successor state. */
  polytope?: { H: number[][]; h: number[] };
  /**
   * The deployed policy ends with the plant's one-step safety filter: the
   * state bounds it keeps (states one input moves, alone or nearly so) get no rows here.
   */
  safetyFilter?: boolean;
  /**
   * The tightening the trainer's polish will use (normalised output units,
   * default 2e-3): buildKernelData caps each row's share of it so that the
   * label itself keeps every tightened row (see rowCaps).
   */
  margin?: number;
}

export function normaliseInputs(X: Float64Array, nx: number, s: Scaling): Float64Array {
  const out = new Float64Array(X.length);
  for (let k = 0; k < X.length; k++) out[k] = (X[k] - s.inOffset[k % nx]) / s.inScale[k % nx];
  return out;
}

export function normaliseOutputs(U: Float64Array, nu: number, s: Scaling): Float64Array {
  const out = new Float64Array(U.length);
  for (let k = 0; k < U.length; k++) out[k] = (U[k] - s.outOffset[k % nu]) / s.outScale[k % nu];
  return out;
}

export interface ConstraintRow {
  c: number[];
  d: number;
  kind: 'actuator' | 'safety';
  /** What the row bounds, for people: "thrust ≤ 0.3351", "next p ≤ 5", "next polytope row 2". */
  what: string;
}

/** Constraint rows (c, d) for one raw state x (in normalised output units). */
export function constraintRows(plant: Plant, s: Scaling, x: ArrayLike<number>, opts: ConstraintOptions = {}): ConstraintRow[] {
  const { nx, nu } = plant;
  const rows: ConstraintRow[] = [];
  if ((opts.actuator ?? true) && !opts.saturate) {
    for (let j = 0; j < nu; j++) {
      const c = new Array(nu).fill(0);
      c[j] = 1;
      rows.push({ c, d: -1, kind: 'actuator', what: `${plant.inputNames[j]} ≤ ${boundText(plant.uBounds.max[j])}` });
      rows.push({ c: c.map((v) => -v), d: -1, kind: 'actuator', what: `${plant.inputNames[j]} ≥ ${boundText(plant.uBounds.min[j])}` });
    }
  }
  const affine: { a: number[]; rhs: number; what: string }[] = [];
  if ((opts.safety ?? 'box') === 'box') {
    const kept = opts.safetyFilter ? filteredStatesOf(plant) : NONE;
    for (let i = 0; i < nx; i++) {
      if (kept.has(i)) continue;
      const e = new Array(nx).fill(0);
      e[i] = 1;
      if (Number.isFinite(plant.xBounds.max[i])) affine.push({ a: e, rhs: plant.xBounds.max[i], what: nextStateBound(plant, i, 'max') });
      if (Number.isFinite(plant.xBounds.min[i])) affine.push({ a: e.map((v) => -v), rhs: -plant.xBounds.min[i], what: nextStateBound(plant, i, 'min') });
    }
  }
  if (opts.polytope) opts.polytope.H.forEach((a, r) => affine.push({ a, rhs: opts.polytope!.h[r], what: `next polytope row ${r}` }));
  // a·x⁺ ≤ rhs with x⁺ = A x + B (c_u + h_u ⊙ y)
  for (const { a, rhs, what } of affine) {
    let free = -rhs;
    const c = new Array(nu).fill(0);
    for (let i = 0; i < nx; i++) {
      if (a[i] === 0) continue;
      for (let j = 0; j < nx; j++) free += a[i] * plant.A[i][j] * x[j];
      for (let j = 0; j < nu; j++) {
        free += a[i] * plant.B[i][j] * s.outOffset[j];
        c[j] += a[i] * plant.B[i][j] * s.outScale[j];
      }
    }
    const scale = c.reduce((t, v) => t + Math.abs(v), 0);
    // No control authority over this row in one step: nothing the network can do; skip it.
    if (!(scale > 1e-12)) continue;
    const cn = c.map((v) => v / scale);
    const dn = free / scale;
    // Drop rows no output in [−1.5, 1.5] can violate.
    if (dn + 1.5 * cn.reduce((t, v) => t + Math.abs(v), 0) < 0) continue;
    rows.push({ c: cn, d: dn, kind: 'safety', what });
  }
  return rows;
}

const NONE: ReadonlySet<number> = new Set();
const filteredByPlant = new WeakMap<Plant, ReadonlySet<number>>();

/** The states the plant's safety filter keeps, derived once per plant (constraintRows runs once per sample). */
export function filteredStatesOf(plant: Plant): ReadonlySet<number> {
  let s = filteredByPlant.get(plant);
  if (!s) filteredByPlant.set(plant, (s = filteredStates(safetyFilter(plant))));
  return s;
}

/** The options of a sample's rows: constraint-only samples (MPC-infeasible states, no label) carry actuator rows only. */
function rowOptions(data: Dataset, k: number, opts: ConstraintOptions): ConstraintOptions {
  return data.origin[k] === ORIGIN.constraintOnly ? { ...opts, safety: 'none', polytope: undefined } : opts;
}

export interface ActiveConstraint {
  what: string;
  /** Samples where this bound's multiplier is positive, and its share of all multipliers. */
  samples: number;
  share: number;
}

/**
 * Which bounds the trained network is held by: the multipliers of a run on
 * buildKernelData(plant, data, …) (same row order) summed per bound, largest
 * first. A bound with a large share is one the fit pays for.
 */
export function activeConstraints(plant: Plant, data: Dataset, s: Scaling, multipliers: ArrayLike<number>, opts: ConstraintOptions = {}): ActiveConstraint[] {
  const { nx } = plant;
  const K = data.X.length / nx;
  const by = new Map<string, { samples: number; sum: number }>();
  let total = 0;
  let i = 0;
  for (let k = 0; k < K; k++)
    for (const r of constraintRows(plant, s, data.X.subarray(k * nx, (k + 1) * nx), rowOptions(data, k, opts))) {
      const lam = multipliers[i++];
      if (!(lam > 0)) continue;
      const e = by.get(r.what) ?? { samples: 0, sum: 0 };
      e.samples++;
      e.sum += lam;
      by.set(r.what, e);
      total += lam;
    }
  if (i !== multipliers.length) throw new Error(`activeConstraints: ${multipliers.length} multipliers for ${i} constraint rows`);
  return [...by].map(([what, e]) => ({ what, samples: e.samples, share: e.sum / total })).sort((a, b) => b.share - a.share);
}

/**
 * How far each row of a labelled sample may be tightened (KernelData.conCap):
 * never beyond what the teacher's own output keeps. A tightened problem in
 * which the label breaks a row (a one-step bound that only a saturated input
 * keeps, with the actuator rows pulled in by the same margin) leaves walls no
 * smooth network meets: the augmented Lagrangian then only raises ρ against
 * a violation of about the margin, at the expense of the fit. So, with ŷ the
 * label and ỹ = clip(ŷ, −1 + m, 1 − m) its move into the tightened actuator
 * box: where ỹ keeps every state row, the actuator rows get the whole margin
 * and each state row min(m, its slack at ỹ); where it does not, every row of
 * the sample gets min(m, its slack at ŷ) (the MPC's label is feasible: no
 * slack needed). Either way one output meets every tightened row of the
 * sample, and rows with room keep the whole margin. Constraint-only samples
 * (no label; actuator rows only) keep it whole.
 *
 * (Giving the state rows priority instead — each capped only by its slack at
 * ŷ, the actuator margin giving way where they compete — was worse on the two
 * carts: validation MSE 2.67e-3 against 1.66e-3, as many held-out one-step
 * violations, and a refinement polish that stalled again.)
 */
export function rowCaps(rows: readonly ConstraintRow[], label: ArrayLike<number> | null, m: number): number[] {
  if (!label) return rows.map(() => Infinity);
  const value = (r: ConstraintRow, y: ArrayLike<number>) => r.c.reduce((t, c, j) => t + c * y[j], r.d);
  const slack = (r: ConstraintRow, y: ArrayLike<number>) => Math.max(0, -value(r, y));
  const moved = Array.from(label, (v) => Math.min(1 - m, Math.max(-1 + m, v)));
  const keeps = rows.every((r) => r.kind === 'actuator' || value(r, moved) <= 0);
  return rows.map((r) => (keeps ? (r.kind === 'actuator' ? Infinity : Math.min(m, slack(r, moved))) : Math.min(m, slack(r, label))));
}

/** Build the kernel's data (SharedArrayBuffer-backed) from a labelled dataset. */
export function buildKernelData(plant: Plant, data: Dataset, s: Scaling, net: { sizes: number[]; activation: Activation }, opts: ConstraintOptions = {}, weights?: number[]): KernelData {
  const { nx, nu } = plant;
  const K = data.X.length / nx;
  const conPtr = new Int32Array(K + 1);
  const C: number[] = [];
  const D: number[] = [];
  const cap: number[] = [];
  const sw = new Float64Array(K);
  const Y = normaliseOutputs(data.U, nu, s);
  const m = opts.margin ?? DEFAULT_MARGIN;
  for (let k = 0; k < K; k++) {
    // Constraint-only samples (MPC-infeasible states) carry no label: actuator rows only.
    sw[k] = data.origin[k] === ORIGIN.constraintOnly ? 0 : 1;
    const rows = constraintRows(plant, s, data.X.subarray(k * nx, (k + 1) * nx), rowOptions(data, k, opts));
    for (const r of rows) {
      C.push(...r.c);
      D.push(r.d);
    }
    cap.push(...rowCaps(rows, sw[k] ? Y.subarray(k * nu, (k + 1) * nu) : null, m));
    conPtr[k + 1] = D.length;
  }
  return {
    sizes: net.sizes,
    activation: net.activation,
    K,
    nx,
    nu,
    X: toSharedF64(normaliseInputs(data.X, nx, s)),
    Y: toSharedF64(Y),
    w: toSharedF64(weights ?? new Array(nu).fill(1)),
    sw: toSharedF64(sw),
    nLabelled: Math.max(
      1,
      sw.reduce((a, b) => a + b, 0),
    ),
    conPtr: toSharedI32(conPtr),
    conC: toSharedF64(C),
    conD: toSharedF64(D),
    conCap: toSharedF64(cap),
    saturate: opts.saturate === true,
  };
}
