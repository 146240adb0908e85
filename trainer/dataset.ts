/**
 * Training data from the MPC teacher:
 *  - states drawn uniformly in the declared domain, keeping those where the
 *    MPC meets the state constraints without slack (the feasible region);
 *  - states along closed-loop MPC trajectories from random feasible starts;
 *  - DAgger rounds: states visited by the current network in closed loop,
 *    labelled by the MPC (Ross, Gordon & Bagnell, AISTATS 2011).
 * Labelling runs on two worker threads when there are more than a few
 * thousand states, with a progress bar on a TTY.
 */
import { Worker } from 'node:worker_threads';
import cliProgress from 'cli-progress';
import {
  Heartbeat,
  LinearMPC,
  Rng,
  feasibleStates,
  hitAndRun,
  interiorPoint,
  liftedPolytope,
  noFeasibleStateError,
  operatingDomain,
  plantToJson,
  progressText,
  simulateClosedLoop,
  workerPath,
  type Bounds,
  type MPCSettings,
  type Plant,
} from '../sim/index.js';

export interface Dataset {
  nx: number;
  nu: number;
  /** Raw states, K × nx. */
  X: Float64Array;
  /** MPC inputs, K × nu. */
  U: Float64Array;
  /**
   * Where each sample came from: 0 uniform, 1 MPC trajectory, 2 DAgger,
   * 3 constraint-only (a state where the MPC needs slack: no label, only the
   * actuator constraints apply there; U is 0).
   */
  origin: Uint8Array;
}

export const ORIGIN = { uniform: 0, trajectory: 1, dagger: 2, constraintOnly: 3 } as const;

/** Number of labelled samples (everything but constraint-only ones). */
export function labelledCount(d: Dataset): number {
  let n = 0;
  for (const o of d.origin) if (o !== ORIGIN.constraintOnly) n++;
  return n;
}

export function datasetSize(d: Dataset): number {
  return d.X.length / d.nx;
}

export function concatDatasets(a: Dataset, b: Dataset): Dataset {
  const cat = <T extends Float64Array | Uint8Array>(x: T, y: T): T => {
    const out = new (x.constructor as new (n: number) => T)(x.length + y.length);
    out.set(x);
    out.set(y, x.length);
    return out;
  };
  return { nx: a.nx, nu: a.nu, X: cat(a.X, b.X), U: cat(a.U, b.U), origin: cat(a.origin, b.origin) };
}

/** Seeded split into training and validation sets. */
export function splitDataset(d: Dataset, valFraction: number, seed: number): { train: Dataset; val: Dataset } {
  const K = datasetSize(d);
  const idx = new Rng(seed).shuffle(Array.from({ length: K }, (_, i) => i));
  const nVal = Math.round(valFraction * K);
  const pick = (ids: number[]): Dataset => {
    const X = new Float64Array(ids.length * d.nx);
    const U = new Float64Array(ids.length * d.nu);
    const origin = new Uint8Array(ids.length);
    ids.forEach((k, r) => {
      X.set(d.X.subarray(k * d.nx, (k + 1) * d.nx), r * d.nx);
      U.set(d.U.subarray(k * d.nu, (k + 1) * d.nu), r * d.nu);
      origin[r] = d.origin[k];
    });
    return { nx: d.nx, nu: d.nu, X, U, origin };
  };
  return { val: pick(idx.slice(0, nVal)), train: pick(idx.slice(nVal)) };
}

export interface LabelOptions {
  /** Use worker threads above this many states (default: when labelling them on one thread would take over 2 s). */
  parallelAbove?: number;
  /** Show a progress bar (default: when stderr is a TTY). */
  progress?: boolean;
  label?: string;
  /** Progress lines when there is no bar (stderr not a TTY). */
  heartbeat?: Heartbeat;
}

/** Label states with the MPC: first input, and whether the state constraints held without slack. */
export async function labelStates(plant: Plant, settings: MPCSettings, states: Float64Array, opts: LabelOptions = {}): Promise<{ U: Float64Array; ok: Uint8Array }> {
  const nx = plant.nx,
    nu = plant.nu;
  const count = states.length / nx;
  const label = opts.label ?? 'labelling';
  const bar =
    (opts.progress ?? process.stderr.isTTY) && count > 500
      ? new cliProgress.SingleBar({ format: `${label} [{bar}] {value}/{total} states`, stream: process.stderr, hideCursor: true }, cliProgress.Presets.shades_classic)
      : null;
  const t0 = performance.now();
  const tick = (done: number) => {
    if (bar) bar.update(done);
    else opts.heartbeat?.beat(() => `${label}: ${progressText(done, count, performance.now() - t0, 'states')}`);
  };
  bar?.start(count, 0);
  try {
    const U = new Float64Array(count * nu);
    const ok = new Uint8Array(count);
    const mpc = new LinearMPC(plant, settings);
    // A few states on this thread tell what one solve costs; the rest go to two workers when that pays.
    let k = 0;
    const probe = opts.parallelAbove === undefined ? Math.min(count, 20) : Math.min(count, opts.parallelAbove + 1);
    const solveOne = () => {
      const sol = mpc.solve(states.subarray(k * nx, (k + 1) * nx));
      U.set(sol.u, k * nu);
      ok[k] = sol.status === 'solved' && !sol.needsSlack ? 1 : 0;
      k++;
    };
    while (k < probe) solveOne();
    const perState = (performance.now() - t0) / Math.max(1, k);
    const parallel = opts.parallelAbove === undefined ? (count - k) * perState > 2000 : count > opts.parallelAbove;
    if (!parallel) {
      for (; k < count;) {
        solveOne();
        if (k % 25 === 0) tick(k);
      }
      return { U, ok };
    }
    const rest = await labelParallel(plant, settings, states.subarray(k * nx), (done) => tick(k + done));
    U.set(rest.U, k * nu);
    ok.set(rest.ok, k);
    return { U, ok };
  } finally {
    bar?.update(count);
    bar?.stop();
  }
}

async function labelParallel(plant: Plant, settings: MPCSettings, states: Float64Array, progress: (done: number) => void): Promise<{ U: Float64Array; ok: Uint8Array }> {
  const nx = plant.nx,
    nu = plant.nu;
  const count = states.length / nx;
  const U = new Float64Array(count * nu);
  const ok = new Uint8Array(count);
  const chunk = 250;
  const jobs: [number, number][] = [];
  for (let a = 0; a < count; a += chunk) jobs.push([a, Math.min(count, a + chunk)]);
  const plantJson = plantToJson(plant);
  let done = 0;
  const runWorker = async () => {
    const w = new Worker(workerPath('label'));
    // One listener of each kind per worker; each request parks its resolver here.
    let pending: { resolve: (m: { U?: Float64Array; ok?: Uint8Array }) => void; reject: (e: Error) => void } | null = null;
    w.on('message', (m: { U?: Float64Array; ok?: Uint8Array; error?: string }) => {
      const p = pending;
      pending = null;
      if (m.error) p?.reject(new Error(`label worker: ${m.error}`));
      else p?.resolve(m);
    });
    w.on('error', (e) => {
      const p = pending;
      pending = null;
      p?.reject(e);
    });
    const send = (msg: unknown) =>
      new Promise<{ U?: Float64Array; ok?: Uint8Array }>((resolve, reject) => {
        pending = { resolve, reject };
        w.postMessage(msg);
      });
    try {
      await send({ init: { plant: plantJson, settings } });
      for (;;) {
        const job = jobs.shift();
        if (!job) break;
        const [a, b] = job;
        const r = await send({ states: states.slice(a * nx, b * nx), id: a });
        U.set(r.U!, a * nu);
        ok.set(r.ok!, a);
        done += b - a;
        progress(done);
      }
    } finally {
      await w.terminate();
    }
  };
  await Promise.all([runWorker(), runWorker()]);
  return { U, ok };
}

export interface SampleOptions extends LabelOptions {
  /** Feasible states wanted. */
  count: number;
  seed: number;
  domain?: Bounds;
  /**
   * Fraction of candidates placed on the faces, edges and corners of the
   * domain (default 0.15). One-step state constraints are tightest on the
   * faces of the state box, a set uniform sampling never hits.
   */
  faceFraction?: number;
  /** Keep up to this many MPC-infeasible candidates as constraint-only samples (default count/3). */
  constraintOnly?: number;
}

/** A state in the box; with probability `face` some coordinates are pinned to a bound. */
function candidate(rng: Rng, box: Bounds, face: number, out: Float64Array, off: number): void {
  const nx = box.min.length;
  for (let i = 0; i < nx; i++) out[off + i] = rng.uniform(box.min[i], box.max[i]);
  if (rng.next() >= face) return;
  const pinned = rng.next() < 0.8 ? 1 : Math.min(nx, 2);
  for (let t = 0; t < pinned; t++) {
    const i = rng.int(nx);
    out[off + i] = rng.next() < 0.5 ? box.min[i] : box.max[i];
  }
}

/** Share of the pilot that must be MPC-feasible to keep uniform rejection sampling. */
export const MIN_ACCEPTANCE = 0.2;
/** Candidates labelled before deciding how to sample. */
const PILOT = 256;

/**
 * States in the domain box (uniform, plus a share on its faces), labelled by
 * the MPC and kept where it needs no slack. Rejected states are kept as
 * constraint-only samples, so the actuator bounds are enforced over the whole
 * domain, not only where there are labels.
 *
 * The first PILOT candidates measure how much of the domain is feasible. When
 * it is less than MIN_ACCEPTANCE (thin feasible sets of 8–12-state plants),
 * the labelled states come from a hit-and-run walk in the lifted feasible set
 * instead (sim/feasible.ts), and only the constraint-only samples from the box.
 */
export async function sampleFeasible(plant: Plant, settings: MPCSettings, opts: SampleOptions): Promise<Dataset> {
  const box = operatingDomain(plant, opts.domain);
  const rng = new Rng(opts.seed);
  const nx = plant.nx,
    nu = plant.nu;
  const face = opts.faceFraction ?? 0.15;
  const maxRejected = opts.constraintOnly ?? Math.floor(opts.count / 3);
  const label = opts.label ?? 'sampling feasible states';
  const X: number[] = [];
  const U: number[] = [];
  const R: number[] = [];
  let tried = 0;
  let first = true;
  while (X.length / nx < opts.count) {
    const need = opts.count - X.length / nx;
    const batch = Math.ceil(need * 1.5) + 16;
    const cand = new Float64Array(batch * nx);
    for (let k = 0; k < batch; k++) candidate(rng, box, face, cand, k * nx);
    let lab: { U: Float64Array; ok: Uint8Array };
    if (first) {
      // Pilot: the first candidates of the batch (the batch itself is what rejection sampling always drew).
      first = false;
      const p = Math.min(PILOT, batch);
      const pilot = await labelStates(plant, settings, cand.subarray(0, p * nx), { ...opts, label, progress: false });
      let okCount = 0;
      for (const o of pilot.ok) okCount += o;
      const acceptance = okCount / p;
      if (acceptance < MIN_ACCEPTANCE) {
        opts.heartbeat?.say(`sampling: ${(100 * acceptance).toFixed(1)} % of ${p} pilot states in the domain are MPC-feasible; drawing the rest by hit-and-run in the feasible set`);
        return hitAndRunSamples(plant, settings, box, rng, opts, { cand: cand.subarray(0, p * nx), ...pilot }, maxRejected);
      }
      opts.heartbeat?.say(`sampling: ${(100 * acceptance).toFixed(1)} % of ${p} pilot states in the domain are MPC-feasible; sampling the domain uniformly`);
      const rest = await labelStates(plant, settings, cand.subarray(p * nx), { ...opts, label });
      lab = { U: concatF64(pilot.U, rest.U), ok: Uint8Array.from([...pilot.ok, ...rest.ok]) };
    } else lab = await labelStates(plant, settings, cand, { ...opts, label });
    tried += batch;
    for (let k = 0; k < batch && X.length / nx < opts.count; k++) {
      if (!lab.ok[k]) {
        if (R.length / nx < maxRejected) for (let i = 0; i < nx; i++) R.push(cand[k * nx + i]);
        continue;
      }
      for (let i = 0; i < nx; i++) X.push(cand[k * nx + i]);
      for (let j = 0; j < nu; j++) U.push(lab.U[k * nu + j]);
    }
    if (tried > 50 * opts.count + 1000 && X.length / nx < 0.02 * tried) throw new Error(`fewer than 2% of states in the domain are MPC-feasible for plant ${plant.name}: shrink the domain`);
  }
  const nR = R.length / nx;
  const origin = new Uint8Array(opts.count + nR).fill(ORIGIN.uniform);
  origin.fill(ORIGIN.constraintOnly, opts.count);
  return { nx, nu, X: Float64Array.from([...X, ...R]), U: Float64Array.from([...U, ...new Array(nR * nu).fill(0)]), origin };
}

function concatF64(a: Float64Array, b: Float64Array): Float64Array {
  const out = new Float64Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

/** sampleFeasible for a thin feasible set: labelled states by hit-and-run, constraint-only ones from the box. */
async function hitAndRunSamples(
  plant: Plant,
  settings: MPCSettings,
  box: Bounds,
  rng: Rng,
  opts: SampleOptions,
  pilot: { cand: Float64Array; U: Float64Array; ok: Uint8Array },
  maxRejected: number,
): Promise<Dataset> {
  const { nx, nu } = plant;
  const mpc = new LinearMPC(plant, settings);
  const poly = liftedPolytope(mpc, box);
  const start = interiorPoint(poly);
  if (!start) throw noFeasibleStateError(plant, mpc.N);
  const Z = hitAndRun(poly, start.z, opts.count, rng);
  const states = new Float64Array(opts.count * nx);
  for (let k = 0; k < opts.count; k++) states.set(Z.subarray(k * poly.n, k * poly.n + nx), k * nx);
  const lab = await labelStates(plant, settings, states, { ...opts, label: opts.label ?? 'labelling hit-and-run states' });
  // Every walk point is feasible up to rounding; a state the QP calls infeasible by a hair is dropped.
  const X: number[] = [];
  const U: number[] = [];
  for (let k = 0; k < opts.count; k++) {
    if (!lab.ok[k]) continue;
    for (let i = 0; i < nx; i++) X.push(states[k * nx + i]);
    for (let j = 0; j < nu; j++) U.push(lab.U[k * nu + j]);
  }
  // Constraint-only samples: infeasible box states (the pilot's, then more candidates), up to maxRejected.
  const R: number[] = [];
  const takeRejected = (cand: Float64Array, ok: Uint8Array) => {
    for (let k = 0; k < ok.length && R.length / nx < maxRejected; k++) if (!ok[k]) for (let i = 0; i < nx; i++) R.push(cand[k * nx + i]);
  };
  takeRejected(pilot.cand, pilot.ok);
  const more = maxRejected - R.length / nx;
  if (more > 0) {
    const cand = new Float64Array(more * nx);
    for (let k = 0; k < more; k++) candidate(rng, box, opts.faceFraction ?? 0.15, cand, k * nx);
    takeRejected(cand, (await labelStates(plant, settings, cand, { ...opts, label: 'labelling constraint-only states' })).ok);
  }
  const nX = X.length / nx,
    nR = R.length / nx;
  const origin = new Uint8Array(nX + nR).fill(ORIGIN.uniform);
  origin.fill(ORIGIN.constraintOnly, nX);
  return { nx, nu, X: Float64Array.from([...X, ...R]), U: Float64Array.from([...U, ...new Array(nR * nu).fill(0)]), origin };
}

/** Initial states for closed-loop runs: MPC-feasible, in the domain (feasibleStates: rejection or hit-and-run). */
export function feasibleStarts(plant: Plant, settings: MPCSettings, domain: Bounds, count: number, seed: number): Float64Array {
  return feasibleStates(new LinearMPC(plant, settings), { count, seed, domain }).X;
}

/**
 * States (and labels) along closed-loop MPC runs from random feasible starts,
 * up to the first step that needs slack, and inside the domain (the board
 * clamps its input to the domain, so the network is never asked outside it).
 */
export function mpcTrajectories(
  plant: Plant,
  settings: MPCSettings,
  opts: { count: number; length: number; seed: number; domain?: Bounds; heartbeat?: Heartbeat },
): Dataset & { excursion: DomainExcursion } {
  const box = operatingDomain(plant, opts.domain);
  const mpc = new LinearMPC(plant, settings);
  const starts = feasibleStarts(plant, settings, box, opts.count, opts.seed);
  const X: number[] = [];
  const U: number[] = [];
  const excursion: DomainExcursion = { runs: 0, of: opts.count, worst: [] };
  const reach = new Float64Array(plant.nx);
  const t0 = performance.now();
  for (let r = 0; r < opts.count; r++) {
    opts.heartbeat?.beat(() => `data: closed-loop MPC trajectories ${progressText(r, opts.count, performance.now() - t0, 'runs')}`);
    const x0 = Array.from(starts.subarray(r * plant.nx, (r + 1) * plant.nx));
    const tr = simulateClosedLoop(plant, mpc.controller(), x0, opts.length);
    const infos = tr.info as { needsSlack: boolean; status: string }[];
    let left = false;
    for (let k = 0; k < opts.length; k++) {
      if (infos[k].needsSlack || infos[k].status !== 'solved') break;
      // The MPC's soft state constraints hold to ~1e-9: only a real excursion leaves the domain.
      let out = false;
      tr.x[k].forEach((v, i) => {
        const c = (box.min[i] + box.max[i]) / 2,
          h = (box.max[i] - box.min[i]) / 2;
        const ratio = Math.abs(v - c) / h;
        if (ratio > 1 + 1e-6) {
          out = true;
          reach[i] = Math.max(reach[i], ratio);
        }
      });
      if (out) {
        left = true;
        continue;
      }
      X.push(...tr.x[k]);
      U.push(...tr.u[k]);
    }
    if (left) excursion.runs++;
  }
  reach.forEach((v, i) => v > 1 && excursion.worst.push({ state: plant.stateNames[i], ratio: v }));
  const K = X.length / plant.nx;
  return { nx: plant.nx, nu: plant.nu, X: Float64Array.from(X), U: Float64Array.from(U), origin: new Uint8Array(K).fill(ORIGIN.trajectory), excursion };
}

/** How far the teacher's own closed-loop runs leave the operating domain (they should not). */
export interface DomainExcursion {
  /** Runs that left the domain, of so many. */
  runs: number;
  of: number;
  /** States that went outside, with how far from the centre in half-widths (> 1). */
  worst: { state: string; ratio: number }[];
}

function inBox(x: ArrayLike<number>, b: Bounds): boolean {
  for (let i = 0; i < x.length; i++) if (!(x[i] >= b.min[i] && x[i] <= b.max[i])) return false;
  return true;
}

/**
 * One DAgger round: run the current policy in closed loop from random feasible
 * starts, label every visited state with the MPC, keep the feasible ones.
 */
export async function daggerRound(
  plant: Plant,
  settings: MPCSettings,
  policy: (x: Float64Array) => ArrayLike<number>,
  opts: { rollouts: number; length: number; seed: number; domain?: Bounds } & LabelOptions,
): Promise<Dataset> {
  const box = operatingDomain(plant, opts.domain);
  const starts = feasibleStarts(plant, settings, box, opts.rollouts, opts.seed);
  const visited: number[] = [];
  for (let r = 0; r < opts.rollouts; r++) {
    const x0 = Array.from(starts.subarray(r * plant.nx, (r + 1) * plant.nx));
    const tr = simulateClosedLoop(plant, (x) => policy(x), x0, opts.length);
    for (const x of tr.x.slice(0, opts.length)) if (inBox(x, box)) visited.push(...x);
  }
  const states = Float64Array.from(visited);
  const lab = await labelStates(plant, settings, states, { ...opts, label: opts.label ?? 'DAgger labelling' });
  const keep: number[] = [];
  for (let k = 0; k < lab.ok.length; k++) if (lab.ok[k]) keep.push(k);
  const X = new Float64Array(keep.length * plant.nx);
  const U = new Float64Array(keep.length * plant.nu);
  keep.forEach((k, r) => {
    X.set(states.subarray(k * plant.nx, (k + 1) * plant.nx), r * plant.nx);
    U.set(lab.U.subarray(k * plant.nu, (k + 1) * plant.nu), r * plant.nu);
  });
  return { nx: plant.nx, nu: plant.nu, X, U, origin: new Uint8Array(keep.length).fill(ORIGIN.dagger) };
}
