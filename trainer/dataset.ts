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
import { LinearMPC, Rng, plantToJson, simulateClosedLoop, workerPath, type Bounds, type MPCSettings, type Plant } from '../sim/index.js';

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
  /** Use worker threads above this many states (default 3000). */
  parallelAbove?: number;
  /** Show a progress bar (default: when stderr is a TTY). */
  progress?: boolean;
  label?: string;
}

/** Label states with the MPC: first input, and whether the state constraints held without slack. */
export async function labelStates(plant: Plant, settings: MPCSettings, states: Float64Array, opts: LabelOptions = {}): Promise<{ U: Float64Array; ok: Uint8Array }> {
  const nx = plant.nx, nu = plant.nu;
  const count = states.length / nx;
  const bar = (opts.progress ?? process.stderr.isTTY) && count > 500 ? new cliProgress.SingleBar({ format: `${opts.label ?? 'labelling'} [{bar}] {value}/{total} states`, stream: process.stderr, hideCursor: true }, cliProgress.Presets.shades_classic) : null;
  bar?.start(count, 0);
  try {
    if (count <= (opts.parallelAbove ?? 3000)) {
      const mpc = new LinearMPC(plant, settings);
      const U = new Float64Array(count * nu);
      const ok = new Uint8Array(count);
      for (let k = 0; k < count; k++) {
        const sol = mpc.solve(states.subarray(k * nx, (k + 1) * nx));
        U.set(sol.u, k * nu);
        ok[k] = sol.status === 'solved' && !sol.needsSlack ? 1 : 0;
        if (bar && k % 100 === 0) bar.update(k);
      }
      return { U, ok };
    }
    return await labelParallel(plant, settings, states, bar);
  } finally {
    bar?.update(count);
    bar?.stop();
  }
}

async function labelParallel(plant: Plant, settings: MPCSettings, states: Float64Array, bar: cliProgress.SingleBar | null): Promise<{ U: Float64Array; ok: Uint8Array }> {
  const nx = plant.nx, nu = plant.nu;
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
        bar?.update(done);
      }
    } finally {
      await w.terminate();
    }
  };
  await Promise.all([runWorker(), runWorker()]);
  return { U, ok };
}

/** The box states are drawn from: the state bounds, or `domain` where a bound is infinite. */
export function samplingBox(plant: Plant, domain?: Bounds): Bounds {
  const box = domain ?? plant.xBounds;
  for (let i = 0; i < plant.nx; i++)
    if (!Number.isFinite(box.min[i]) || !Number.isFinite(box.max[i]))
      throw new Error(`state ${plant.stateNames[i]} is unbounded: give a finite input domain for it (--domain)`);
  return box;
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

/**
 * States in the domain box (uniform, plus a share on its faces), labelled by
 * the MPC and kept where it needs no slack. Rejected states are kept as
 * constraint-only samples, so the actuator bounds are enforced over the whole
 * domain, not only where there are labels.
 */
export async function sampleFeasible(plant: Plant, settings: MPCSettings, opts: SampleOptions): Promise<Dataset> {
  const box = samplingBox(plant, opts.domain);
  const rng = new Rng(opts.seed);
  const nx = plant.nx, nu = plant.nu;
  const face = opts.faceFraction ?? 0.15;
  const maxRejected = opts.constraintOnly ?? Math.floor(opts.count / 3);
  const X: number[] = [];
  const U: number[] = [];
  const R: number[] = [];
  let tried = 0;
  while (X.length / nx < opts.count) {
    const need = opts.count - X.length / nx;
    const batch = Math.ceil(need * 1.5) + 16;
    const cand = new Float64Array(batch * nx);
    for (let k = 0; k < batch; k++) candidate(rng, box, face, cand, k * nx);
    tried += batch;
    const lab = await labelStates(plant, settings, cand, { ...opts, label: opts.label ?? 'sampling feasible states' });
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

/** States (and labels) along closed-loop MPC runs from random feasible starts. */
export function mpcTrajectories(plant: Plant, settings: MPCSettings, opts: { count: number; length: number; seed: number; domain?: Bounds }): Dataset {
  const box = samplingBox(plant, opts.domain);
  const rng = new Rng(opts.seed);
  const mpc = new LinearMPC(plant, settings);
  const X: number[] = [];
  const U: number[] = [];
  let runs = 0;
  let attempts = 0;
  while (runs < opts.count) {
    if (++attempts > 100 * opts.count + 100) throw new Error(`could not find feasible initial states for plant ${plant.name}`);
    const x0 = box.min.map((lo, i) => rng.uniform(lo, box.max[i]));
    if (mpc.solve(x0).needsSlack) continue;
    const tr = simulateClosedLoop(plant, mpc.controller(), x0, opts.length);
    const infos = tr.info as { needsSlack: boolean; status: string }[];
    for (let k = 0; k < opts.length; k++) {
      if (infos[k].needsSlack || infos[k].status !== 'solved') break;
      X.push(...tr.x[k]);
      U.push(...tr.u[k]);
    }
    runs++;
  }
  const K = X.length / plant.nx;
  return { nx: plant.nx, nu: plant.nu, X: Float64Array.from(X), U: Float64Array.from(U), origin: new Uint8Array(K).fill(ORIGIN.trajectory) };
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
  const box = samplingBox(plant, opts.domain);
  const rng = new Rng(opts.seed);
  const mpc = new LinearMPC(plant, settings);
  const visited: number[] = [];
  let runs = 0;
  let attempts = 0;
  while (runs < opts.rollouts) {
    if (++attempts > 100 * opts.rollouts + 100) break;
    const x0 = box.min.map((lo, i) => rng.uniform(lo, box.max[i]));
    if (mpc.solve(x0).needsSlack) continue;
    const tr = simulateClosedLoop(plant, (x) => policy(x), x0, opts.length);
    for (const x of tr.x.slice(0, opts.length)) {
      if (x.every((v, i) => v >= box.min[i] && v <= box.max[i])) visited.push(...x);
    }
    runs++;
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
