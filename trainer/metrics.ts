/**
 * How good is a trained policy? Measured on data it was not trained on:
 *  - train / validation MSE against the MPC (outputs normalised to [−1, 1]);
 *  - constraint violations on a dense held-out set: a regular grid over the
 *    declared domain when nx ≤ 3 (≥ 10,000 points), else seeded random states.
 *    Actuator bounds are checked for the raw network output at every point;
 *    one-step safety (A x + B π(x) in the state box) at the points where the
 *    MPC itself meets the state constraints;
 *  - closed loop against the MPC from the same random feasible starts: cost
 *    ratio and violations, with the network's output clamped to the actuator
 *    box as it is on the board.
 */
import {
  LinearMPC,
  Rng,
  applySafetyFilter,
  boxViolation,
  feasibleStates,
  plantStep,
  progressText,
  safetyFilter,
  simulateClosedLoop,
  type Heartbeat,
  type MPCSettings,
  type Plant,
} from '../sim/index.js';
import { ORIGIN, labelStates, type Dataset } from './dataset.js';
import { policyFunction, type PolicyModel } from './model-file.js';

export interface ViolationSummary {
  /** States checked. */
  checked: number;
  count: number;
  rate: number;
  /** Largest excursion, in physical units of the constrained quantity. */
  max: number;
}

export interface PolicyMetrics {
  /** Seed of the held-out states and the closed-loop starts (same seed, same numbers). */
  seed: number;
  /** The deployed policy ends with the one-step safety filter. */
  safetyFilter: boolean;
  trainMse: number;
  /** Of the raw network output (what the trainer fits). */
  valMse: number;
  /** Of the policy as deployed: actuator clamp, then the safety filter when the model has one. */
  valMseDeployed: number;
  heldOut: {
    kind: 'grid' | 'random';
    states: number;
    /** Of the raw network; of the clamped one (0 by construction) when it was trained through the clamp (`clamped`). */
    actuator: ViolationSummary;
    clamped?: boolean;
    /** One-step state constraints at MPC-feasible held-out states. */
    safety: ViolationSummary;
    /** Held-out states where the safety filter moved the clamped network output. */
    filtered: number;
  };
  closedLoop: {
    runs: number;
    steps: number;
    /** Σ J_net / Σ J_mpc over all runs, and per-run statistics of J_net / J_mpc. */
    costRatio: number;
    costRatioMean: number;
    costRatioMax: number;
    network: { stateViolations: number; inputViolations: number; maxStateViolation: number };
    mpc: { stateViolations: number; inputViolations: number; maxStateViolation: number };
  };
}

/**
 * Mean squared error to the labels in normalised output units, of the float
 * network (raw output; clamped to the actuator box for a saturating network,
 * which was trained as the clamped policy) or of `policy` (e.g. the
 * fixed-point one codegen builds).
 */
export function datasetMse(model: PolicyModel, data: Dataset, policy?: (model: PolicyModel) => (x: Float64Array) => ArrayLike<number>): number {
  const pi = policy ? policy(model) : policyFunction(model, { clampOutput: model.output.saturating === true, clampInput: false, safetyFilter: false });
  const { nx, nu } = data;
  const K = data.X.length / nx;
  let s = 0;
  let n = 0;
  for (let k = 0; k < K; k++) {
    if (data.origin[k] === ORIGIN.constraintOnly) continue;
    n++;
    const u = pi(data.X.subarray(k * nx, (k + 1) * nx));
    for (let j = 0; j < nu; j++) {
      const e = (u[j] - data.U[k * nu + j]) / model.output.scale[j];
      s += e * e;
    }
  }
  return n ? s / (n * nu) : NaN;
}

/** Held-out states: a regular grid (nx ≤ 3) or seeded random states, at least `count` of them. */
export function heldOutStates(model: PolicyModel, count: number, seed: number): { kind: 'grid' | 'random'; X: Float64Array } {
  const { min, max } = model.input.domain;
  const nx = min.length;
  if (nx <= 3) {
    const per = Math.ceil(Math.pow(count, 1 / nx));
    const total = Math.pow(per, nx);
    const X = new Float64Array(total * nx);
    for (let k = 0; k < total; k++) {
      let r = k;
      for (let i = 0; i < nx; i++) {
        const idx = r % per;
        r = Math.floor(r / per);
        X[k * nx + i] = min[i] + ((max[i] - min[i]) * idx) / (per - 1);
      }
    }
    return { kind: 'grid', X };
  }
  const rng = new Rng(seed);
  const X = new Float64Array(count * nx);
  for (let k = 0; k < count; k++) for (let i = 0; i < nx; i++) X[k * nx + i] = rng.uniform(min[i], max[i]);
  return { kind: 'random', X };
}

/** Default seed of the held-out states and closed-loop starts, shared by `ultro train` and `ultro eval`. */
export const EVAL_SEED = 4242;

export interface EvaluateOptions {
  train?: Dataset;
  val?: Dataset;
  /** Held-out states (default 10,000). */
  heldOut?: number;
  /** Closed-loop runs and their length (default 50 × 100 steps). */
  runs?: number;
  steps?: number;
  seed?: number;
  progress?: boolean;
  heartbeat?: Heartbeat;
}

export type HeldOutLabels = { ho: ReturnType<typeof heldOutStates>; lab: Awaited<ReturnType<typeof labelStates>> };

/**
 * The held-out states of heldOutChecks and their MPC labels, for several models on the same domain:
 * given `labels` made for the same states, they are used as they are (the MPC solves are the cost).
 */
export async function heldOutLabels(
  model: PolicyModel,
  plant: Plant,
  settings: MPCSettings,
  opts: { count: number; seed: number; progress?: boolean; heartbeat?: Heartbeat; label?: string; labels?: HeldOutLabels },
): Promise<HeldOutLabels> {
  const ho = heldOutStates(model, opts.count, opts.seed);
  const given = opts.labels;
  if (given && given.ho.X.length === ho.X.length && given.ho.X.every((v, i) => v === ho.X[i])) return given;
  const lab = await labelStates(plant, settings, ho.X, { progress: opts.progress, label: opts.label ?? 'eval: labelling held-out states', heartbeat: opts.heartbeat });
  return { ho, lab };
}

/**
 * Held-out constraint checks: on `count` held-out states (a grid, or random
 * for larger nx; seeded), the raw network output against the actuator bounds
 * (a saturating network's clamped output: 0 by construction),
 * and at the MPC-feasible ones, one plant step with the deployed (clamped)
 * output against the state bounds.
 */
export async function heldOutChecks(
  model: PolicyModel,
  plant: Plant,
  settings: MPCSettings,
  opts: { count: number; seed: number; progress?: boolean; heartbeat?: Heartbeat; label?: string; labels?: HeldOutLabels },
): Promise<PolicyMetrics['heldOut']> {
  const { nx } = plant;
  const raw = policyFunction(model, { clampOutput: false });
  // the deployed policy is the clamped network then the filter: applied here, so that its return says when it acted
  const clamped = policyFunction(model, { clampOutput: true, safetyFilter: false });
  const filter = model.output.safetyFilter ? safetyFilter(plant) : null;
  const { ho, lab } = await heldOutLabels(model, plant, settings, opts);
  const N = ho.X.length / nx;
  const act: ViolationSummary = { checked: N, count: 0, rate: 0, max: 0 };
  const safe: ViolationSummary = { checked: 0, count: 0, rate: 0, max: 0 };
  let filtered = 0;
  for (let k = 0; k < N; k++) {
    const x = ho.X.subarray(k * nx, (k + 1) * nx);
    const deployed = clamped(x);
    const u = model.output.saturating ? deployed : raw(x);
    if (filter && applySafetyFilter(filter, x, deployed)) filtered++;
    const va = boxViolation(u, plant.uBounds);
    if (va > 0) act.count++;
    act.max = Math.max(act.max, va);
    if (!lab.ok[k]) continue;
    safe.checked++;
    // the deployed (clamped) output is what moves the plant
    const vs = boxViolation(plantStep(plant, x, deployed), plant.xBounds);
    if (vs > 0) safe.count++;
    safe.max = Math.max(safe.max, vs);
  }
  act.rate = act.count / Math.max(1, act.checked);
  safe.rate = safe.count / Math.max(1, safe.checked);
  return { kind: ho.kind, states: N, actuator: act, ...(model.output.saturating ? { clamped: true } : {}), safety: safe, filtered };
}

export async function evaluatePolicy(model: PolicyModel, plant: Plant, settings: MPCSettings, opts: EvaluateOptions = {}): Promise<PolicyMetrics> {
  const { nx } = plant;
  const seed = opts.seed ?? EVAL_SEED;
  const deployed = policyFunction(model, { clampOutput: true });
  const heldOut = await heldOutChecks(model, plant, settings, { count: opts.heldOut ?? 10_000, seed, progress: opts.progress, heartbeat: opts.heartbeat });

  // Closed loop from random feasible starts inside the domain.
  const runs = opts.runs ?? 50;
  const steps = opts.steps ?? 100;
  const mpc = new LinearMPC(plant, settings);
  const starts = feasibleStates(mpc, { count: runs, seed: seed + 1, domain: model.input.domain }).X;
  const ratios: number[] = [];
  let jNet = 0,
    jMpc = 0;
  const cl = {
    network: { stateViolations: 0, inputViolations: 0, maxStateViolation: 0 },
    mpc: { stateViolations: 0, inputViolations: 0, maxStateViolation: 0 },
  };
  const t0 = performance.now();
  for (let r = 0; r < runs; r++) {
    opts.heartbeat?.beat(() => `eval: closed loop ${progressText(r, runs, performance.now() - t0, 'runs')}`);
    const x0 = Array.from(starts.subarray(r * nx, (r + 1) * nx));
    const tm = simulateClosedLoop(plant, mpc.controller(), x0, steps);
    const tn = simulateClosedLoop(plant, (x) => deployed(x), x0, steps);
    jNet += tn.cost;
    jMpc += tm.cost;
    ratios.push(tm.cost > 0 ? tn.cost / tm.cost : 1);
    cl.network.stateViolations += tn.stateViolations.count;
    cl.network.inputViolations += tn.inputViolations.count;
    cl.network.maxStateViolation = Math.max(cl.network.maxStateViolation, tn.stateViolations.max);
    cl.mpc.stateViolations += tm.stateViolations.count;
    cl.mpc.inputViolations += tm.inputViolations.count;
    cl.mpc.maxStateViolation = Math.max(cl.mpc.maxStateViolation, tm.stateViolations.max);
  }
  return {
    seed,
    safetyFilter: model.output.safetyFilter === true,
    trainMse: opts.train ? datasetMse(model, opts.train) : NaN,
    valMse: opts.val ? datasetMse(model, opts.val) : NaN,
    valMseDeployed: opts.val ? datasetMse(model, opts.val, (m) => policyFunction(m, { clampOutput: true })) : NaN,
    heldOut,
    closedLoop: {
      runs,
      steps,
      costRatio: jNet / jMpc,
      costRatioMean: ratios.reduce((a, b) => a + b, 0) / ratios.length,
      costRatioMax: Math.max(...ratios),
      ...cl,
    },
  };
}

export function formatMetrics(m: PolicyMetrics): string {
  const e = (v: number) => (Number.isFinite(v) ? v.toExponential(2) : 'n/a');
  const p = (v: number) => `${(100 * v).toFixed(2)}%`;
  return [
    `  evaluation seed               ${m.seed}`,
    `  train MSE (u normalised)      ${e(m.trainMse)}`,
    `  validation MSE                ${e(m.valMse)} (network), ${e(m.valMseDeployed)} (as deployed: clamped${m.safetyFilter ? ', safety filter' : ''})`,
    `  held-out ${m.heldOut.kind} (${m.heldOut.states} states)`,
    `    actuator violations         ${m.heldOut.actuator.count} (${p(m.heldOut.actuator.rate)}), max ${e(m.heldOut.actuator.max)}${m.heldOut.clamped ? ' (the network is trained through the actuator clamp)' : ''}`,
    `    one-step state violations   ${m.heldOut.safety.count} of ${m.heldOut.safety.checked} feasible (${p(m.heldOut.safety.rate)}), max ${e(m.heldOut.safety.max)}${m.safetyFilter ? ` (with the safety filter, which moved the output at ${m.heldOut.filtered} states)` : ''}`,
    `  closed loop vs MPC (${m.closedLoop.runs} runs × ${m.closedLoop.steps} steps)`,
    `    cost ratio                  ${m.closedLoop.costRatio.toFixed(4)} (per run: mean ${m.closedLoop.costRatioMean.toFixed(4)}, max ${m.closedLoop.costRatioMax.toFixed(4)})`,
    `    state violations            network ${m.closedLoop.network.stateViolations} (max ${e(m.closedLoop.network.maxStateViolation)}), MPC ${m.closedLoop.mpc.stateViolations} (max ${e(m.closedLoop.mpc.maxStateViolation)})`,
    `    input violations            network ${m.closedLoop.network.inputViolations}, MPC ${m.closedLoop.mpc.inputViolations}`,
  ].join('\n');
}
