/**
 * States where the MPC teacher is feasible, drawn in a way that scales with
 * the state dimension.
 *
 * Uniform rejection sampling in the operating domain keeps a state when the
 * hard-constrained MPC problem has a solution. In a 12-dimensional box that
 * fraction can be tiny, so instead of guessing we look at it: a pilot of box
 * states tells the acceptance rate, and when it is low the states come from a
 * hit-and-run walk (Smith 1984; Lovász, "Hit-and-run mixes fast", 1999) inside
 * the lifted feasible set
 *
 *   F = { (x₀, U) : x₀ ∈ domain, u_min ≤ u_k ≤ u_max, x_min ≤ x_k ≤ x_max (k = 1…N) },
 *
 * a polytope whose projection onto x₀ is exactly the set of MPC-feasible
 * initial states (LinearMPC.liftedFeasibleSet). Every point of the walk is
 * feasible, so no candidate is wasted. The walk is uniform on F, so its x₀
 * marginal weights a state by how many input sequences keep it feasible: it
 * favours the interior over the thin edges of the feasible set, which the
 * trainer's closed-loop trajectories, DAgger states and constraint generation
 * cover instead.
 *
 * An empty F is found in milliseconds by the interior-point search below and
 * reported with what to change.
 */
import type { Bounds, Plant } from './plants/plant.js';
import type { LinearMPC } from './mpc.js';
import { InputError } from './io.js';
import { solveQP } from './qp/index.js';
import { Rng } from './random.js';

/** One-sided rows G z ≤ h of a bounded polytope, and a per-coordinate scale for directions. */
export interface Polytope {
  n: number;
  m: number;
  G: Float64Array;
  h: Float64Array;
  /** Typical extent of each coordinate (half-widths of the domain and the input box). */
  scale: Float64Array;
  /** Centre of the bounding box, where the interior search starts. */
  centre: Float64Array;
}

/** F for `mpc` over `domain` (finite), as one-sided rows. */
export function liftedPolytope(mpc: LinearMPC, domain: Bounds): Polytope {
  const set = mpc.liftedFeasibleSet();
  const { n } = set;
  const nx = mpc.nx;
  const G: number[] = [];
  const h: number[] = [];
  const push = (row: ArrayLike<number>, sign: 1 | -1, rhs: number) => {
    for (let j = 0; j < n; j++) G.push(sign * row[j]);
    h.push(sign * rhs);
  };
  for (let r = 0; r < set.m; r++) {
    const row = set.A.subarray(r * n, (r + 1) * n);
    if (Number.isFinite(set.u[r])) push(row, 1, set.u[r]);
    if (Number.isFinite(set.l[r])) push(row, -1, set.l[r]);
  }
  const scale = new Float64Array(n);
  const centre = new Float64Array(n);
  const e = new Float64Array(n);
  for (let i = 0; i < nx; i++) {
    e.fill(0);
    e[i] = 1;
    push(e, 1, domain.max[i]);
    push(e, -1, domain.min[i]);
    scale[i] = (domain.max[i] - domain.min[i]) / 2;
    centre[i] = (domain.max[i] + domain.min[i]) / 2;
  }
  const { uBounds } = mpc.plant;
  for (let k = 0; k < mpc.N; k++)
    for (let j = 0; j < mpc.nu; j++) {
      scale[nx + k * mpc.nu + j] = (uBounds.max[j] - uBounds.min[j]) / 2;
      centre[nx + k * mpc.nu + j] = (uBounds.max[j] + uBounds.min[j]) / 2;
    }
  for (let i = 0; i < n; i++) if (!(scale[i] > 0) || !Number.isFinite(scale[i])) throw new Error(`feasible set: coordinate ${i} has no finite extent`);
  return { n, m: h.length, G: Float64Array.from(G), h: Float64Array.from(h), scale, centre };
}

/**
 * A point of the polytope with a ball of radius ε (in scaled coordinates)
 * inside it, for the largest ε of a short list; null when the polytope is
 * empty. Each try is one strictly convex QP: the point of the ε-shrunk
 * polytope nearest the box centre.
 */
export function interiorPoint(p: Polytope): { z: Float64Array; radius: number } | null {
  const { n, m, G, h, scale, centre } = p;
  const P = new Float64Array(n * n);
  const q = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    P[i * n + i] = 1 / (scale[i] * scale[i]);
    q[i] = -centre[i] / (scale[i] * scale[i]);
  }
  const rowNorm = new Float64Array(m);
  for (let r = 0; r < m; r++) {
    let s = 0;
    for (let j = 0; j < n; j++) s += (G[r * n + j] * scale[j]) ** 2;
    rowNorm[r] = Math.sqrt(s);
  }
  for (const eps of [0.2, 0.05, 0.01, 1e-3, 0]) {
    const u = Float64Array.from(h, (v, r) => v - eps * rowNorm[r]);
    const res = solveQP({ P, q, A: G, u, l: new Float64Array(m).fill(-Infinity), n, m });
    if (res.status === 'solved') return { z: res.x, radius: eps };
  }
  return null;
}

export interface HitAndRunOptions {
  /** Steps discarded before the first sample (default 10·n). */
  burnIn?: number;
  /** Steps between samples (default max(5, ⌈n/8⌉)). */
  thin?: number;
}

/**
 * `count` points of a hit-and-run walk from the interior point z0: a random
 * direction (Gaussian in scaled coordinates), the chord of the polytope
 * through the current point along it, a uniform point on the chord. Returns
 * count × n, row-major.
 */
export function hitAndRun(p: Polytope, z0: Float64Array, count: number, rng: Rng, o: HitAndRunOptions = {}): Float64Array {
  const { n, m, G, h, scale } = p;
  const burnIn = o.burnIn ?? 10 * n;
  const thin = o.thin ?? Math.max(5, Math.ceil(n / 8));
  const z = Float64Array.from(z0);
  const slack = new Float64Array(m);
  const d = new Float64Array(n);
  const Gd = new Float64Array(m);
  const refresh = () => {
    for (let r = 0; r < m; r++) {
      let s = h[r];
      for (let j = 0; j < n; j++) s -= G[r * n + j] * z[j];
      slack[r] = Math.max(0, s);
    }
  };
  refresh();
  const out = new Float64Array(count * n);
  const total = burnIn + count * thin;
  let taken = 0;
  for (let step = 1; step <= total; step++) {
    for (let j = 0; j < n; j++) d[j] = scale[j] * rng.normal();
    let lo = -Infinity,
      hi = Infinity;
    for (let r = 0; r < m; r++) {
      let s = 0;
      const o2 = r * n;
      for (let j = 0; j < n; j++) s += G[o2 + j] * d[j];
      Gd[r] = s;
      if (s > 1e-300) hi = Math.min(hi, slack[r] / s);
      else if (s < -1e-300) lo = Math.max(lo, slack[r] / s);
    }
    if (Number.isFinite(lo) && Number.isFinite(hi) && hi > lo) {
      const t = rng.uniform(lo, hi);
      for (let j = 0; j < n; j++) z[j] += t * d[j];
      for (let r = 0; r < m; r++) slack[r] = Math.max(0, slack[r] - t * Gd[r]);
    }
    if (step % 64 === 0) refresh(); // no drift in the incremental slacks
    if (step > burnIn && (step - burnIn) % thin === 0) out.set(z, n * taken++);
  }
  return out;
}

export interface FeasibleStatesOptions {
  count: number;
  seed: number;
  /** Finite operating domain (see operatingDomain). */
  domain: Bounds;
  /** Box states tried before deciding (default 200). */
  pilot?: number;
  /** Rejection sampling is kept when at least this share of the pilot is feasible (default 0.2). */
  minAcceptance?: number;
}

export interface FeasibleStates {
  /** count × nx MPC-feasible states. */
  X: Float64Array;
  method: 'rejection' | 'hit-and-run';
  /** Feasible share of the pilot. */
  acceptance: number;
}

/** The error for a domain where no state is MPC-feasible, naming what to change. */
export function noFeasibleStateError(plant: Plant, horizon: number): InputError {
  return new InputError(
    `plant ${plant.name}: no state in the operating domain can be kept inside the state bounds over the MPC horizon (${horizon} steps) ` +
      `with the input bounds: widen xMin/xMax or uMin/uMax, move the domain (domainMin/domainMax, --domain-min/--domain-max) inside the recoverable region, or shorten --horizon`,
  );
}

/**
 * `count` MPC-feasible initial states in the domain: uniform rejection when
 * the pilot says at least minAcceptance of the domain is feasible, else
 * hit-and-run in the lifted feasible set. Deterministic for a seed.
 */
export function feasibleStates(mpc: LinearMPC, o: FeasibleStatesOptions): FeasibleStates {
  const { nx } = mpc;
  const rng = new Rng(o.seed);
  const pilot = o.pilot ?? 200;
  const box = () => o.domain.min.map((lo, i) => rng.uniform(lo, o.domain.max[i]));
  const kept: number[][] = [];
  let tried = 0;
  for (; tried < pilot && kept.length < o.count; tried++) {
    const x = box();
    if (!mpc.solve(x).needsSlack) kept.push(x);
  }
  const acceptance = kept.length / Math.max(1, tried);
  if (kept.length >= o.count || acceptance >= (o.minAcceptance ?? 0.2)) {
    while (kept.length < o.count) {
      const x = box();
      if (!mpc.solve(x).needsSlack) kept.push(x);
    }
    return { X: Float64Array.from(kept.flat()), method: 'rejection', acceptance };
  }
  const poly = liftedPolytope(mpc, o.domain);
  const start = interiorPoint(poly);
  if (!start) throw noFeasibleStateError(mpc.plant, mpc.N);
  const Z = hitAndRun(poly, start.z, o.count, rng);
  const X = new Float64Array(o.count * nx);
  for (let k = 0; k < o.count; k++) X.set(Z.subarray(k * poly.n, k * poly.n + nx), k * nx);
  return { X, method: 'hit-and-run', acceptance };
}
