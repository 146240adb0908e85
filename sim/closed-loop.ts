/**
 * Closed-loop simulation of any controller x ↦ u on a plant: records states,
 * inputs, cost, constraint violations and the controller's compute times.
 * One loop serves a controller that answers at once (simulateClosedLoop) and
 * one that answers later (simulateClosedLoopAsync: a board over a link, in
 * HIL), so both are scored the same way.
 */
import { boxViolation, plantStep, type Bounds, type Dynamics, type Plant } from './plants/plant.js';
import { Rng } from './random.js';

/**
 * What a controller returns: the input, optionally with diagnostics (kept in
 * Trace.info), or `stop` with a reason when it has no control to give (the
 * episode ends there and the plant is not stepped).
 */
export type ControllerOutput = ArrayLike<number> | { u: ArrayLike<number>; info?: unknown; stop?: undefined } | { stop: string; u?: undefined; info?: unknown };
export type Controller = (x: Float64Array, k: number) => ControllerOutput;
export type AsyncController = (x: Float64Array, k: number) => Promise<ControllerOutput>;

export interface ClosedLoopOptions {
  /** Which dynamics advance the plant (default: linear). */
  dynamics?: Dynamics;
  /** Additive process noise on the state, std per state (or one number for all). */
  disturbanceStd?: number | number[];
  /** Measurement noise seen by the controller, std per state. */
  noiseStd?: number | number[];
  seed?: number;
  /**
   * Draw the measurement noise and the disturbance of each step from these
   * instead (they replace noiseStd / disturbanceStd and the seed): HIL gives
   * every controller the same sequences this way.
   */
  noiseSource?: () => ArrayLike<number>;
  disturbanceSource?: () => ArrayLike<number>;
  /**
   * A non-finite control ends the episode (Trace.stopped) instead of throwing;
   * the plant is never stepped with it. Default false.
   */
  stopOnNonFinite?: boolean;
  /** Called after each step (k = 0 … steps−1), and for the steps an early stop skips. */
  onStep?: (k: number) => void;
  /** Weights for the reported cost; default the plant's Q and R. */
  Q?: number[][];
  R?: number[][];
  /** Tolerance below which a bound excursion is not counted (default 1e-9). */
  violationTol?: number;
}

export interface ViolationStats {
  /** Number of samples that leave the bounds. */
  count: number;
  /** Individual bound excursions (a sample with two entries out counts twice). */
  excursions: number;
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
  /** Set when the episode ended early: the controller stopped it, or gave a non-finite control (stopOnNonFinite). */
  stopped?: { step: number; reason: string };
}

const asVec = (v: number | number[] | undefined, n: number): number[] | null => (v === undefined ? null : typeof v === 'number' ? new Array(n).fill(v) : v);

function quad(W: number[][], v: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < W.length; i++) for (let j = 0; j < W.length; j++) s += v[i] * W[i][j] * v[j];
  return s;
}

/**
 * The loop itself: yields each measured state and receives the controller's
 * output, so that a synchronous and an asynchronous driver share every line
 * of the bookkeeping.
 */
function* closedLoop(plant: Plant, x0: ArrayLike<number>, steps: number, opts: ClosedLoopOptions): Generator<Float64Array, Trace, { out: ControllerOutput; ms: number }> {
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
  const sv: ViolationStats = { count: 0, excursions: 0, max: 0, steps: [] };
  const iv: ViolationStats = { count: 0, excursions: 0, max: 0, steps: [] };
  const note = (s: ViolationStats, v: ArrayLike<number>, b: Bounds, k: number) => {
    const worst = boxViolation(v, b);
    if (worst > tol) {
      s.count++;
      s.steps.push(k);
      for (let i = 0; i < v.length; i++) if (b.min[i] - v[i] > tol || v[i] - b.max[i] > tol) s.excursions++;
    }
    if (worst > s.max) s.max = worst;
  };
  note(sv, x, plant.xBounds, 0);
  let cost = 0;
  let stopped: Trace['stopped'];
  for (let k = 0; k < steps; k++) {
    const meas = Float64Array.from(x);
    if (opts.noiseSource) {
      const n = opts.noiseSource();
      for (let i = 0; i < nx; i++) meas[i] += n[i];
    } else if (noise) for (let i = 0; i < nx; i++) meas[i] += noise[i] * rng.normal();
    const { out, ms } = yield meas;
    const o = out as { u?: ArrayLike<number>; info?: unknown; stop?: string };
    const isArray = ArrayBuffer.isView(out) || Array.isArray(out);
    if (!isArray && typeof o.stop === 'string') stopped = { step: k, reason: o.stop };
    else {
      const uRaw = isArray ? (out as ArrayLike<number>) : o.u!;
      if (uRaw.length !== nu) throw new Error(`closed loop: controller returned ${uRaw.length} inputs, expected ${nu}`);
      for (let j = 0; j < nu && !stopped; j++)
        if (!Number.isFinite(uRaw[j])) {
          if (!opts.stopOnNonFinite) throw new Error(`closed loop: controller returned a non-finite u[${j}] at step ${k}`);
          stopped = { step: k, reason: `non-finite control [${Array.from(uRaw).join(', ')}]` };
        }
    }
    if (stopped) {
      for (let kk = k; kk < steps; kk++) opts.onStep?.(kk);
      break;
    }
    const u = Float64Array.from(isArray ? (out as ArrayLike<number>) : o.u!);
    computeMs.push(ms);
    info.push(isArray ? undefined : o.info);
    note(iv, u, plant.uBounds, k);
    const c = quad(Q, x) + quad(R, u);
    stageCost.push(c);
    cost += c;
    us.push(Array.from(u));
    x = plantStep(plant, x, u, opts.dynamics ?? 'linear');
    if (opts.disturbanceSource) {
      const d = opts.disturbanceSource();
      for (let i = 0; i < nx; i++) x[i] += d[i];
    } else if (dist) for (let i = 0; i < nx; i++) x[i] += dist[i] * rng.normal();
    xs.push(Array.from(x));
    note(sv, x, plant.xBounds, k + 1);
    opts.onStep?.(k);
  }
  return { plant: plant.name, steps, x: xs, u: us, cost, stageCost, stateViolations: sv, inputViolations: iv, computeMs, info, ...(stopped ? { stopped } : {}) };
}

export function simulateClosedLoop(plant: Plant, controller: Controller, x0: ArrayLike<number>, steps: number, opts: ClosedLoopOptions = {}): Trace {
  const loop = closedLoop(plant, x0, steps, opts);
  let r = loop.next();
  for (let k = 0; !r.done; k++) {
    const t0 = performance.now();
    const out = controller(r.value, k);
    r = loop.next({ out, ms: performance.now() - t0 });
  }
  return r.value;
}

/** The same loop with a controller that answers later (a board over a link). */
export async function simulateClosedLoopAsync(plant: Plant, controller: AsyncController, x0: ArrayLike<number>, steps: number, opts: ClosedLoopOptions = {}): Promise<Trace> {
  const loop = closedLoop(plant, x0, steps, opts);
  let r = loop.next();
  for (let k = 0; !r.done; k++) {
    const t0 = performance.now();
    const out = await controller(r.value, k);
    r = loop.next({ out, ms: performance.now() - t0 });
  }
  return r.value;
}
