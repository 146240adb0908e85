/**
 * The Plant seam (the model every folder simulates, trains on and emits C
 * for; see the README's map): a discrete-time linear model with bounds and
 * default weights, optionally backed by nonlinear continuous dynamics that the
 * closed-loop simulator integrates with RK4.
 */
import { fromRows, toRows } from '../linalg.js';
import { zohDiscretize } from '../expm.js';
import { InputError } from '../io.js';
import { LIMITS } from '../limits.js';
import { DareError, solveDare } from '../riccati.js';

export type Vec = ArrayLike<number>;

export interface Bounds {
  /** Lower bounds, -Infinity where unbounded. */
  min: number[];
  /** Upper bounds, +Infinity where unbounded. */
  max: number[];
}

export interface NonlinearDynamics {
  /** Continuous dynamics ẋ = f(x, u), in the plant's (absolute) coordinates. */
  f(x: Vec, u: Vec): Float64Array;
  /** Analytic Jacobians of f at (x, u): ∂f/∂x (nx×nx) and ∂f/∂u (nx×nu). */
  jacobian(x: Vec, u: Vec): { A: number[][]; B: number[][] };
  /** Equilibrium about which the linear model is taken (f(xEq, uEq) = 0). */
  xEq: number[];
  uEq: number[];
}

export interface Plant {
  name: string;
  description: string;
  /** Where the model comes from (paper, textbook, data sheet). */
  source: string;
  nx: number;
  nu: number;
  /** Sample time in seconds. */
  dt: number;
  /** Discrete-time model x⁺ = A x + B u (deviation coordinates about xEq/uEq for nonlinear plants). */
  A: number[][];
  B: number[][];
  /** Continuous-time model the discrete one came from, when there is one. */
  continuous?: { A: number[][]; B: number[][] };
  xBounds: Bounds;
  uBounds: Bounds;
  /**
   * Operating domain: the box the policy must cover (training samples, held-out
   * checks, HIL initial states). Inside the state box; needed where a state has
   * no bound. Absent: the state box.
   */
  domain?: Bounds;
  /** Default stage weights for x'Qx + u'Ru. */
  Q: number[][];
  R: number[][];
  stateNames: string[];
  inputNames: string[];
  nonlinear?: NonlinearDynamics;
}

export interface PlantSpec {
  name: string;
  description: string;
  source: string;
  dt: number;
  xBounds: Bounds;
  uBounds: Bounds;
  domain?: Bounds;
  Q: number[][];
  R: number[][];
  stateNames?: string[];
  inputNames?: string[];
  nonlinear?: NonlinearDynamics;
}

function defaultNames(prefix: string, n: number): string[] {
  return Array.from({ length: n }, (_, i) => `${prefix}${i}`);
}

/** Build a plant from a continuous-time model, discretised by zero-order hold. */
export function plantFromContinuous(spec: PlantSpec & { Ac: number[][]; Bc: number[][] }): Plant {
  const { Ad, Bd } = zohDiscretize(fromRows(spec.Ac), fromRows(spec.Bc), spec.dt);
  const nx = spec.Ac.length;
  const nu = spec.Bc[0]?.length ?? 0;
  return {
    name: spec.name,
    description: spec.description,
    source: spec.source,
    nx,
    nu,
    dt: spec.dt,
    A: toRows(Ad),
    B: toRows(Bd),
    continuous: { A: spec.Ac.map((r) => r.slice()), B: spec.Bc.map((r) => r.slice()) },
    xBounds: spec.xBounds,
    uBounds: spec.uBounds,
    ...(spec.domain ? { domain: spec.domain } : {}),
    Q: spec.Q,
    R: spec.R,
    stateNames: spec.stateNames ?? defaultNames('x', nx),
    inputNames: spec.inputNames ?? defaultNames('u', nu),
    nonlinear: spec.nonlinear,
  };
}

/** Build a plant from a discrete-time model. */
export function plantFromDiscrete(spec: PlantSpec & { A: number[][]; B: number[][] }): Plant {
  const nx = spec.A.length;
  const nu = spec.B[0]?.length ?? 0;
  return {
    name: spec.name,
    description: spec.description,
    source: spec.source,
    nx,
    nu,
    dt: spec.dt,
    A: spec.A.map((r) => r.slice()),
    B: spec.B.map((r) => r.slice()),
    xBounds: spec.xBounds,
    uBounds: spec.uBounds,
    ...(spec.domain ? { domain: spec.domain } : {}),
    Q: spec.Q,
    R: spec.R,
    stateNames: spec.stateNames ?? defaultNames('x', nx),
    inputNames: spec.inputNames ?? defaultNames('u', nu),
    nonlinear: spec.nonlinear,
  };
}

/** Diagonal matrix helper for the registry. */
export function diagRows(values: readonly number[]): number[][] {
  return values.map((v, i) => values.map((_, j) => (i === j ? v : 0)));
}

/** One classical RK4 step of ẋ = f(x, u) with u held constant. */
export function rk4Step(f: (x: Vec, u: Vec) => Float64Array, x: Vec, u: Vec, h: number): Float64Array {
  const n = x.length;
  const tmp = new Float64Array(n);
  const k1 = f(x, u);
  for (let i = 0; i < n; i++) tmp[i] = x[i] + 0.5 * h * k1[i];
  const k2 = f(tmp, u);
  for (let i = 0; i < n; i++) tmp[i] = x[i] + 0.5 * h * k2[i];
  const k3 = f(tmp, u);
  for (let i = 0; i < n; i++) tmp[i] = x[i] + h * k3[i];
  const k4 = f(tmp, u);
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = x[i] + (h / 6) * (k1[i] + 2 * k2[i] + 2 * k3[i] + k4[i]);
  return out;
}

/** How the simulator advances a plant: the linear model, or the nonlinear one under RK4. */
/** Which dynamics advance a simulated plant: its linear (discrete) model, or its nonlinear one by RK4. */
export type Dynamics = 'linear' | 'nonlinear';
export const DYNAMICS: readonly Dynamics[] = ['linear', 'nonlinear'];

/**
 * Advance the plant one sample with the input held (ZOH).
 * `x` and `u` are in deviation coordinates (the coordinates of A and B); for
 * the nonlinear model they are shifted by the equilibrium before integrating.
 */
export function plantStep(plant: Plant, x: Vec, u: Vec, dynamics: Dynamics = 'linear', substeps = 10): Float64Array {
  const { nx, nu } = plant;
  if (dynamics === 'nonlinear') {
    const nl = plant.nonlinear;
    if (!nl) throw new Error(`plant ${plant.name} has no nonlinear model`);
    let xa: Float64Array = new Float64Array(nx);
    const ua = new Float64Array(nu);
    for (let i = 0; i < nx; i++) xa[i] = x[i] + nl.xEq[i];
    for (let j = 0; j < nu; j++) ua[j] = u[j] + nl.uEq[j];
    const h = plant.dt / substeps;
    for (let s = 0; s < substeps; s++) xa = rk4Step(nl.f, xa, ua, h);
    for (let i = 0; i < nx; i++) xa[i] -= nl.xEq[i];
    return xa;
  }
  const out = new Float64Array(nx);
  for (let i = 0; i < nx; i++) {
    let s = 0;
    const Ai = plant.A[i];
    const Bi = plant.B[i];
    for (let j = 0; j < nx; j++) s += Ai[j] * x[j];
    for (let j = 0; j < nu; j++) s += Bi[j] * u[j];
    out[i] = s;
  }
  return out;
}

/** Largest amount by which v leaves the box (0 when inside). */
export function boxViolation(v: Vec, b: Bounds): number {
  let worst = 0;
  for (let i = 0; i < v.length; i++) {
    const lo = b.min[i] - v[i];
    const hi = v[i] - b.max[i];
    if (lo > worst) worst = lo;
    if (hi > worst) worst = hi;
  }
  return worst;
}

/** Check a plant's internal consistency; throws with the offending field named. */
export function checkPlant(p: Plant): void {
  const where = `plant ${p.name}`;
  const mat = (m: number[][], name: string, r: number, c: number) => {
    if (m.length !== r) throw new Error(`${where}: ${name} has ${m.length} rows, expected ${r}`);
    m.forEach((row, i) => {
      if (row.length !== c) throw new Error(`${where}: ${name}[${i}] has ${row.length} entries, expected ${c}`);
      row.forEach((v, j) => {
        if (!Number.isFinite(v)) throw new Error(`${where}: ${name}[${i}][${j}] is not a finite number`);
      });
    });
  };
  mat(p.A, 'A', p.nx, p.nx);
  mat(p.B, 'B', p.nx, p.nu);
  mat(p.Q, 'Q', p.nx, p.nx);
  mat(p.R, 'R', p.nu, p.nu);
  if (!(p.dt > 0) || !Number.isFinite(p.dt)) throw new Error(`${where}: dt must be a positive finite number`);
  const bnd = (b: Bounds, name: string, n: number) => {
    if (b.min.length !== n || b.max.length !== n) throw new Error(`${where}: ${name} must have ${n} entries`);
    for (let i = 0; i < n; i++) {
      if (Number.isNaN(b.min[i]) || Number.isNaN(b.max[i])) throw new Error(`${where}: ${name}[${i}] is NaN`);
      if (b.min[i] > b.max[i]) throw new Error(`${where}: ${name} min[${i}] > max[${i}]`);
    }
  };
  bnd(p.xBounds, 'xBounds', p.nx);
  bnd(p.uBounds, 'uBounds', p.nu);
  if (p.domain) {
    bnd(p.domain, 'domain', p.nx);
    for (let i = 0; i < p.nx; i++) {
      if (!Number.isFinite(p.domain.min[i]) || !Number.isFinite(p.domain.max[i])) throw new Error(`${where}: domain of state ${p.stateNames[i]} must be finite`);
      if (p.domain.min[i] < p.xBounds.min[i] || p.domain.max[i] > p.xBounds.max[i]) throw new Error(`${where}: domain of state ${p.stateNames[i]} leaves its bounds`);
    }
  }
}

/**
 * What can be checked of a plant before anything is computed with it, as
 * InputErrors naming `source` and the field or the property: dimensions
 * within LIMITS, every number finite and of a size float arithmetic (and
 * float32 on a board) can carry, and a stabilising LQR solution to exist
 * ((A, B) stabilisable, (A, Q) detectable), which the MPC's terminal cost
 * needs.
 */
export function validatePlant(p: Plant, source = `plant ${p.name}`): void {
  const fail = (m: string): never => {
    throw new InputError(`${source}: ${m}`);
  };
  if (p.nx > LIMITS.maxStates) fail(`${p.nx} states; at most ${LIMITS.maxStates} are supported`);
  if (p.nu > LIMITS.maxInputs) fail(`${p.nu} inputs; at most ${LIMITS.maxInputs} are supported`);
  const big = (v: number) => !Number.isFinite(v) || Math.abs(v) > LIMITS.maxMagnitude;
  const mat = (m: number[][], name: string, note: string) =>
    m.forEach((row, i) => row.forEach((v, j) => big(v) && fail(`${name}[${i}][${j}] = ${v}${note}: entries up to ${LIMITS.maxMagnitude.toExponential(0)} in size are supported; rescale the units`)));
  mat(p.A, 'A', p.continuous ? ' (after discretisation)' : '');
  mat(p.B, 'B', p.continuous ? ' (after discretisation)' : '');
  mat(p.Q, 'Q', '');
  mat(p.R, 'R', '');
  for (const [b, name] of [
    [p.xBounds, 'x'],
    [p.uBounds, 'u'],
  ] as const)
    for (const side of ['min', 'max'] as const)
      b[side].forEach(
        (v, i) =>
          Number.isFinite(v) &&
          Math.abs(v) > LIMITS.maxMagnitude &&
          fail(`${name}${side === 'min' ? 'Min' : 'Max'}[${i}] = ${v}: bounds up to ${LIMITS.maxMagnitude.toExponential(0)} in size are supported; rescale the units`),
      );
  try {
    const P = solveDare(fromRows(p.A), fromRows(p.B), fromRows(p.Q), fromRows(p.R));
    if (!P.data.every(Number.isFinite)) throw new DareError('non-finite solution');
  } catch (e) {
    if (!(e instanceof DareError)) throw e;
    fail(`no stabilising LQR solution (${e.message}): some unstable mode is out of the inputs' reach, or invisible to Q; the MPC's terminal cost cannot be formed`);
  }
}

/**
 * The box the policy is trained on and checked over: `override` (e.g. the
 * CLI's --domain-min/--domain-max), else the plant's declared domain, else its
 * state box. Every entry must be finite; an unbounded state without a domain
 * is an error naming the state and where to declare it.
 */
export function operatingDomain(p: Plant, override?: Bounds): Bounds {
  const box = override ?? p.domain ?? p.xBounds;
  for (let i = 0; i < p.nx; i++)
    if (!Number.isFinite(box.min[i]) || !Number.isFinite(box.max[i]))
      throw new InputError(
        `plant ${p.name}: state ${p.stateNames[i]} (index ${i}) is unbounded, so the policy needs a finite operating domain for it: ` +
          `give domainMin/domainMax in the plant file, or --domain-min/--domain-max on the command line`,
      );
  return { min: box.min.slice(), max: box.max.slice() };
}
