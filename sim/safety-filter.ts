/**
 * The one-step safety filter: after the network, each input is clamped to the
 * interval that keeps the next state x⁺ = A x + B u inside the state bounds
 * that this input moves, alone or nearly so.
 *
 * A bounded state i whose row of B has exactly one nonzero entry b = B_ij is
 * moved by input j alone, so its bounds become an interval on u_j:
 *
 *   x_min,i + δ_i ≤ Σ_k A_ik x_k + b u_j ≤ x_max,i − δ_i
 *   ⇔ u_j between  t + (x_min,i + δ_i)/b  and  t + (x_max,i − δ_i)/b,  t = Σ_k (−A_ik/b) x_k
 *
 * (which end is the lower one follows the sign of b). A state that several
 * inputs move, one of them far more than the others (their reach
 * Σ |B_ik|·(u_max,k − u_min,k) at most COUPLING_MAX of that input's; the two
 * carts' spring couples each velocity to the other motor at 1.3 %), is given
 * to that input j with the others at their worst case over their boxes,
 * s_lo = Σ_k min(B_ik u_min,k, B_ik u_max,k) and s_hi the same with max:
 *
 *   x_min,i + δ_i − s_lo ≤ Σ_k A_ik x_k + b u_j ≤ x_max,i − δ_i − s_hi
 *
 * so the bound holds whatever the other inputs do, and the filter stays a
 * clamp of each input to its own interval. The price is that u_j's interval
 * is narrower by the others' reach (0.7 % of the two carts' motor range).
 * Where inputs move a state comparably (the aircraft's angle of attack) there
 * is no such input, and the trainer keeps that state's one-step constraints.
 *
 * Per input, the filter intersects these intervals with the actuator box and
 * clamps u_j to the result: the Euclidean projection onto the box of inputs
 * that keep the filtered bounds one step ahead (the one-step safe set itself
 * when every row has one input; inside it otherwise), so it never moves an
 * output that was already in that box and never moves one further from a
 * target in it (the MPC's label). When the intervals do not meet (a state from
 * which no input keeps every bound), u_j is the middle of the conflicting ends,
 * clamped to the box. Rows no input dominates stay with the trainer's
 * constraints; rows no input moves cannot be helped.
 *
 * The margin δ_i = 1e-5·max(1, |x_min,i|, |x_max,i|) absorbs the float32
 * rounding of the on-board evaluation, so the float64 plant step of a filtered
 * float32 control still meets the bound (for states of the size of the bounds).
 *
 * NaN and infinities: a NaN term tightens nothing (every compare with NaN is
 * false); an infinite end empties the interval and the box end wins; the result
 * is always a finite value inside the actuator box. The same arithmetic runs in
 * float64 (`round` = identity: host evaluation) and float32 (`round` =
 * Math.fround: the reference of the generated C, bit for bit).
 */
import type { Plant } from './plants/plant.js';

/** One interval end on an input: u ≥ t + c ('lower') or u ≤ t + c ('upper'). */
export interface FilterBound {
  c: number;
  side: 'lower' | 'upper';
  /** The state bound it comes from, for people: "next vz ≤ 2". */
  what: string;
}

export interface FilterRow {
  /** The bounded state and the one input that moves it. */
  state: number;
  input: number;
  /** t = Σ coef[n] · x[idx[n]] over the nonzero entries of A's row, in index order. */
  idx: number[];
  coef: number[];
  bounds: FilterBound[];
}

export interface SafetyFilter {
  nx: number;
  nu: number;
  uMin: number[];
  uMax: number[];
  /** Rows in (input, state) order: the order the on-board code evaluates them in. */
  rows: FilterRow[];
}

/** Relative margin of the filter's bounds (see the module comment). */
export const FILTER_MARGIN = 1e-5;

/** Largest reach of the other inputs on a state, as a share of its main input's, for the filter to keep it. */
export const COUPLING_MAX = 0.05;

/**
 * The input that keeps state i's bounds and the other inputs' worst case
 * [sLo, sHi] on x⁺_i, or null when no input dominates the row of B.
 */
function rowOwner(B: number[][], i: number, uMin: number[], uMax: number[]): { j: number; sLo: number; sHi: number } | null {
  const reach = B[i].map((b, k) => Math.abs(b) * (uMax[k] - uMin[k]));
  const movers = B[i].flatMap((b, k) => (b !== 0 ? [k] : []));
  if (movers.length === 0) return null;
  const j = movers.reduce((a, k) => (reach[k] > reach[a] ? k : a));
  let rest = 0,
    sLo = 0,
    sHi = 0;
  for (const k of movers) {
    if (k === j) continue;
    rest += reach[k];
    const a = B[i][k] * uMin[k],
      b = B[i][k] * uMax[k];
    sLo += Math.min(a, b);
    sHi += Math.max(a, b);
  }
  // (a NaN or infinite reach of another input, an actuator without bounds, fails this test)
  if (!(rest <= COUPLING_MAX * reach[j]) || !Number.isFinite(sLo) || !Number.isFinite(sHi)) return null;
  return { j, sLo, sHi };
}

/** The plant's one-step safety filter, or null when no bounded state is moved by a single input (alone or nearly so). */
export function safetyFilter(plant: Plant): SafetyFilter | null {
  const { nx, nu, A, B, xBounds, uBounds } = plant;
  const rows: FilterRow[] = [];
  const owners = B.map((_, i) => rowOwner(B, i, uBounds.min, uBounds.max));
  for (let j = 0; j < nu; j++)
    for (let i = 0; i < nx; i++) {
      const lo = xBounds.min[i],
        hi = xBounds.max[i];
      if (!Number.isFinite(lo) && !Number.isFinite(hi)) continue;
      const owner = owners[i];
      if (!owner || owner.j !== j) continue;
      const b = B[i][j];
      const delta = FILTER_MARGIN * Math.max(1, ...[lo, hi].filter(Number.isFinite).map(Math.abs));
      const idx: number[] = [];
      const coef: number[] = [];
      A[i].forEach((a, k) => {
        if (a !== 0) {
          idx.push(k);
          coef.push(-a / b);
        }
      });
      const bounds: FilterBound[] = [];
      // x⁺ ≥ lo + δ whatever the other inputs add: a lower end on u when b > 0, an upper one when b < 0.
      if (Number.isFinite(lo)) bounds.push({ c: (lo + delta - owner.sLo) / b, side: b > 0 ? 'lower' : 'upper', what: nextStateBound(plant, i, 'min') });
      if (Number.isFinite(hi)) bounds.push({ c: (hi - delta - owner.sHi) / b, side: b > 0 ? 'upper' : 'lower', what: nextStateBound(plant, i, 'max') });
      rows.push({ state: i, input: j, idx, coef, bounds });
    }
  return rows.length ? { nx, nu, uMin: [...uBounds.min], uMax: [...uBounds.max], rows } : null;
}

/** A bound as people read it: 4 significant digits, no trailing zeros ("0.3351", "-5"). */
export const boundText = (v: number) => String(Number(v.toPrecision(4)));

/** A one-step state bound as people read it: "next vz ≤ 2", "next position ≥ -5". */
export function nextStateBound(plant: Plant, i: number, side: 'min' | 'max'): string {
  return `next ${plant.stateNames[i]} ${side === 'min' ? '≥' : '≤'} ${boundText(plant.xBounds[side][i])}`;
}

/** The states whose bounds the filter keeps (the trainer leaves their one-step rows to it). */
export function filteredStates(f: SafetyFilter | null): Set<number> {
  return new Set(f ? f.rows.map((r) => r.state) : []);
}

/** The filter's constants in float32 (what the generated C stores). */
export function filterFloat32(f: SafetyFilter): SafetyFilter {
  const r = Math.fround;
  return {
    ...f,
    uMin: f.uMin.map(r),
    uMax: f.uMax.map(r),
    rows: f.rows.map((row) => ({ ...row, coef: row.coef.map(r), bounds: row.bounds.map((b) => ({ ...b, c: r(b.c) })) })),
  };
}

const identity = (v: number) => v;

/**
 * Filter u (in place; already inside the actuator box) for the state x.
 * Returns true when some input was moved. With `round` = Math.fround and the
 * constants of filterFloat32, this is the generated C's arithmetic exactly.
 */
export function applySafetyFilter(f: SafetyFilter, x: ArrayLike<number>, u: number[] | Float64Array, round: (v: number) => number = identity): boolean {
  let moved = false;
  let r = 0;
  for (let j = 0; j < f.nu; j++) {
    if (r >= f.rows.length || f.rows[r].input !== j) continue;
    let lo = f.uMin[j],
      hi = f.uMax[j];
    for (; r < f.rows.length && f.rows[r].input === j; r++) {
      const row = f.rows[r];
      let t = 0;
      for (let n = 0; n < row.idx.length; n++) {
        const p = round(row.coef[n] * round(x[row.idx[n]]));
        t = n === 0 ? p : round(t + p);
      }
      for (const b of row.bounds) {
        const v = round(t + b.c);
        if (b.side === 'lower') {
          if (v > lo) lo = v;
        } else if (v < hi) hi = v;
      }
    }
    let v = u[j];
    if (lo <= hi) {
      if (v < lo) v = lo;
      else if (v > hi) v = hi;
    } else {
      const m = round(round(lo + hi) * 0.5);
      v = m >= f.uMin[j] ? (m > f.uMax[j] ? f.uMax[j] : m) : f.uMin[j];
    }
    if (v !== u[j]) moved = true;
    u[j] = v;
  }
  return moved;
}
