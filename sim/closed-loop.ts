/**
 * Closed-loop simulation of any controller x ↦ u on a plant: records states,
 * inputs, cost, constraint violations and the controller's compute times.
 */
import { boxViolation, plantStep, type Plant, type PlantModel } from './plants/plant.js';
import { Rng } from './random.js';

/** A controller returns the input, optionally with diagnostics. */
export type Controller = (x: Float64Array, k: number) => ArrayLike<number> | { u: ArrayLike<number>; info?: unknown };

export interface ClosedLoopOptions {
  /** Which model advances the plant (default: linear). */
  model?: PlantModel;
  /** Additive process noise on the state, std per state (or one number for all). */
  disturbanceStd?: number | number[];
  /** Measurement noise seen by the controller, std per state. */
  noiseStd?: number | number[];
  seed?: number;
  /** Weights for the reported cost; default the plant's Q and R. */
  Q?: number[][];
  R?: number[][];
  /** Tolerance below which a bound excursion is not counted (default 1e-9). */
  violationTol?: number;
}

export interface ViolationStats {
  /** Number of samples that leave the bounds. */
  count: number;
  /** Largest excursion beyond a bound. */
  max: number;
  /** Indices of the samples that leave the bounds. */
  steps: number[];
}

export interface Trace {
  plant: string;
  steps: number;
  x: number[][];
  u: number[][];
  /** Σ xₖᵀQxₖ + uₖᵀRuₖ over k = 0 … T−1 (no terminal term). */
  cost: number;
  stageCost: number[];
  stateViolations: ViolationStats;
  inputViolations: ViolationStats;
  /** Wall time of each controller call, in ms. */
  computeMs: number[];
  info: unknown[];
}

const asVec = (v: number | number[] | undefined, n: number): number[] | null =>
  v === undefined ? null : typeof v === 'number' ? new Array(n).fill(v) : v;

function quad(W: number[][], v: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < W.length; i++) for (let j = 0; j < W.length; j++) s += v[i] * W[i][j] * v[j];
  return s;
}

export function simulateClosedLoop(plant: Plant, controller: Controller, x0: ArrayLike<number>, steps: number, opts: ClosedLoopOptions = {}): Trace {
  const { nx, nu } = plant;
  if (x0.length !== nx) throw new Error(`closed loop: x0 has ${x0.length} entries, expected ${nx}`);
  const rng = new Rng(opts.seed ?? 1);
  const dist = asVec(opts.disturbanceStd, nx);
  const noise = asVec(opts.noiseStd, nx);
  const Q = opts.Q ?? plant.Q;
  const R = opts.R ?? plant.R;
  const tol = opts.violationTol ?? 1e-9;
  let x: Float64Array = Float64Array.from(x0);
  const xs: number[][] = [Array.from(x)];
  const us: number[][] = [];
  const stageCost: number[] = [];
  const computeMs: number[] = [];
  const info: unknown[] = [];
  const sv: ViolationStats = { count: 0, max: 0, steps: [] };
  const iv: ViolationStats = { count: 0, max: 0, steps: [] };
  const note = (s: ViolationStats, v: number, k: number) => {
    if (v > tol) {
      s.count++;
      s.steps.push(k);
    }
    if (v > s.max) s.max = v;
  };
  note(sv, boxViolation(x, plant.xBounds), 0);
  let cost = 0;
  for (let k = 0; k < steps; k++) {
    const meas = Float64Array.from(x);
    if (noise) for (let i = 0; i < nx; i++) meas[i] += noise[i] * rng.normal();
    const t0 = performance.now();
    const out = controller(meas, k);
    computeMs.push(performance.now() - t0);
    const uRaw = 'u' in (out as object) && !ArrayBuffer.isView(out) && !Array.isArray(out) ? (out as { u: ArrayLike<number> }).u : (out as ArrayLike<number>);
    info.push((out as { info?: unknown }).info);
    if (uRaw.length !== nu) throw new Error(`closed loop: controller returned ${uRaw.length} inputs, expected ${nu}`);
    const u = Float64Array.from(uRaw);
    for (let j = 0; j < nu; j++) if (!Number.isFinite(u[j])) throw new Error(`closed loop: controller returned a non-finite u[${j}] at step ${k}`);
    note(iv, boxViolation(u, plant.uBounds), k);
    const c = quad(Q, x) + quad(R, u);
    stageCost.push(c);
    cost += c;
    us.push(Array.from(u));
    x = plantStep(plant, x, u, opts.model ?? 'linear');
    if (dist) for (let i = 0; i < nx; i++) x[i] += dist[i] * rng.normal();
    xs.push(Array.from(x));
    note(sv, boxViolation(x, plant.xBounds), k + 1);
  }
  return { plant: plant.name, steps, x: xs, u: us, cost, stageCost, stateViolations: sv, inputViolations: iv, computeMs, info };
}
