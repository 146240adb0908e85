/**
 * The training pipeline behind `ultro train` and `ultro demo`:
 * data from the MPC teacher → constrained training → DAgger rounds →
 * held-out metrics → model file with provenance.
 */
import { LinearMPC, ULTRO_VERSION, plantToJson, type Bounds, type MPCSettings, type Plant } from '../sim/index.js';
import { trainAdam } from './adam.js';
import { Assembler } from './assembler.js';
import { concatDatasets, daggerRound, datasetSize, mpcTrajectories, sampleFeasible, samplingBox, splitDataset, type Dataset } from './dataset.js';
import { trainInteriorPoint } from './ip.js';
import { MLP, type Activation } from './mlp.js';
import { quantisationAwareRefit } from './qat.js';
import { MODEL_FORMAT, layersFromTheta, policyFunction, type MPCRecord, type PolicyModel } from './model-file.js';
import { evaluatePolicy, type PolicyMetrics } from './metrics.js';
import { findConstraintCuts } from './refine.js';
import { boxScaling, buildKernelData, type ConstraintOptions, type Scaling } from './problem.js';
import type { ProgressFn } from './progress.js';
import { trainAugmentedLagrangian, type TrainResult } from './ultro.js';
import { WeightNormConstraints } from './weight-norm.js';

export type Method = 'al-lm' | 'ip' | 'adam' | 'adam-minibatch';
export const METHODS: readonly Method[] = ['al-lm', 'ip', 'adam', 'adam-minibatch'];

export interface TrainOptions {
  plant: Plant;
  /** How the plant was named on the command line (registry name or file), for provenance. */
  plantRef?: string;
  hidden: number[];
  activation: Activation;
  method: Method;
  horizon: number;
  seed: number;
  /** Uniform feasible samples (default 2000). */
  samples?: number;
  /** Closed-loop MPC trajectories and their length (default 20 × 60). */
  trajectories?: number;
  trajectoryLength?: number;
  /** DAgger rounds after the first fit, and rollouts per round (default 1 × 20). */
  daggerRounds?: number;
  daggerRollouts?: number;
  /** Constraint-generation rounds after DAgger (default 3; not for the Adam baseline). */
  refineRounds?: number;
  valFraction?: number;
  /** Declared input domain; default the state box (required where a state is unbounded). */
  domain?: Bounds;
  constraints?: ConstraintOptions;
  /** Tightening of the final polish / IP / penalty, in normalised output units. */
  margin?: number;
  /** Frobenius bound on every layer's weights (al-lm only). */
  maxWeightNorm?: number;
  threads?: 1 | 2 | 'auto';
  /** Quantisation-aware refit for the int8 or int16 code generator (al-lm and ip; default none). */
  qat?: 'int8' | 'int16';
  /** Wall-clock budget per training run, ms (the bench uses it for equal-time comparisons). */
  timeBudgetMs?: number;
  /** Held-out evaluation sizes (default 10,000 states, 50 × 100-step runs). */
  evalHeldOut?: number;
  evalRuns?: number;
  evalSteps?: number;
  onProgress?: ProgressFn;
  log?: (msg: string) => void;
  progressBars?: boolean;
}

export interface TrainOutcome {
  model: PolicyModel;
  metrics: PolicyMetrics;
  result: TrainResult;
  data: { train: Dataset; val: Dataset };
}

export function mpcSettingsFor(opts: { horizon: number; constraints?: ConstraintOptions }): MPCSettings {
  return { horizon: opts.horizon, polytope: opts.constraints?.polytope };
}

export async function trainPolicy(o: TrainOptions): Promise<TrainOutcome> {
  const log = o.log ?? (() => {});
  const { plant } = o;
  const settings = mpcSettingsFor(o);
  const domain = samplingBox(plant, o.domain);
  const scaling = boxScaling(domain, plant.uBounds);
  const net = { sizes: [plant.nx, ...o.hidden, plant.nu], activation: o.activation };
  const mlp = new MLP(net);

  log(`data: sampling ${o.samples ?? 2000} MPC-feasible states and ${o.trajectories ?? 20} closed-loop MPC trajectories`);
  const uniform = await sampleFeasible(plant, settings, { count: o.samples ?? 2000, seed: o.seed * 7 + 1, domain, progress: o.progressBars });
  const traj = mpcTrajectories(plant, settings, { count: o.trajectories ?? 20, length: o.trajectoryLength ?? 60, seed: o.seed * 7 + 2, domain });
  let { train, val } = splitDataset(concatDatasets(uniform, traj), o.valFraction ?? 0.2, o.seed * 7 + 3);
  log(`data: ${datasetSize(train)} training / ${datasetSize(val)} validation samples`);

  let theta = mlp.init(o.seed);
  let result: TrainResult | null = null;
  const rounds = o.daggerRounds ?? 1;
  for (let round = 0; round <= rounds; round++) {
    const kd = buildKernelData(plant, train, scaling, net, o.constraints);
    const asm = await Assembler.create(kd, { threads: o.threads ?? 'auto' });
    try {
      log(`train: ${o.method}, ${mlp.nParams} parameters, ${kd.K} samples, ${asm.ncon} constraints, ${asm.threads} thread(s)${round ? `, DAgger round ${round}` : ''}`);
      result = await runMethod(o, asm, theta, mlp, round > 0 ? 'dagger' : 'first');
      theta = result.theta;
    } finally {
      await asm.close();
    }
    if (round === rounds) break;
    const model = makeModel(o, plant, scaling, domain, net, theta, settings, null, null);
    const pi = policyFunction(model, { clampOutput: true });
    const extra = await daggerRound(plant, settings, (x) => pi(x), { rollouts: o.daggerRollouts ?? 20, length: o.trajectoryLength ?? 60, seed: o.seed * 7 + 10 + round, domain, progress: o.progressBars });
    const split = splitDataset(extra, o.valFraction ?? 0.2, o.seed * 7 + 20 + round);
    train = concatDatasets(train, split.train);
    val = concatDatasets(val, split.val);
    log(`dagger: round ${round + 1} added ${datasetSize(extra)} states visited by the network`);
  }
  // Constraint generation: add states where the sampled constraints fail, re-polish.
  const refineRounds = o.method.startsWith('adam') ? 0 : (o.refineRounds ?? 3);
  for (let r = 0; r < refineRounds; r++) {
    const model = makeModel(o, plant, scaling, domain, net, theta, settings, null, null);
    const cuts = await findConstraintCuts(model, plant, settings, { seed: o.seed * 7 + 40 + r, margin: o.margin ?? 2e-3, domain });
    if (datasetSize(cuts) === 0) {
      log(`refine: round ${r + 1}: no constraint violated on 20000 candidate states`);
      break;
    }
    train = concatDatasets(train, cuts);
    log(`refine: round ${r + 1}: ${datasetSize(cuts)} states where a constraint failed or nearly did; re-polishing`);
    const kd = buildKernelData(plant, train, scaling, net, o.constraints);
    const asm = await Assembler.create(kd, { threads: o.threads ?? 'auto' });
    try {
      result = await runMethod(o, asm, theta, mlp, 'refine');
      theta = result.theta;
    } finally {
      await asm.close();
    }
  }
  // Quantisation-aware refit: weights onto the integer grid of the deployed variant.
  if (o.qat && o.method !== 'adam' && o.method !== 'adam-minibatch') {
    const kd = buildKernelData(plant, train, scaling, net, o.constraints);
    const asm = await Assembler.create(kd, { threads: o.threads ?? 'auto' });
    try {
      theta = await quantisationAwareRefit(asm, theta, net.sizes, { bits: o.qat === 'int8' ? 8 : 16, margin: o.margin, onProgress: o.onProgress, log });
    } finally {
      await asm.close();
    }
  }
  const res = result!;
  log('eval: held-out grid and closed loop against the MPC');
  const draft = makeModel(o, plant, scaling, domain, net, theta, settings, null, null);
  const metrics = await evaluatePolicy(draft, plant, settings, { train, val, heldOut: o.evalHeldOut, runs: o.evalRuns, steps: o.evalSteps, seed: o.seed + 1000, progress: o.progressBars });
  const model = makeModel(o, plant, scaling, domain, net, theta, settings, res, { metrics, samples: { train: datasetSize(train), val: datasetSize(val) } });
  return { model, metrics, result: res, data: { train, val } };
}

/**
 * 'first': from the initialisation; 'dagger': warm from θ on more data (no
 * re-fit from scratch); 'refine': θ is feasible but for a few new samples,
 * so only the tightened polish runs.
 */
async function runMethod(o: TrainOptions, asm: Assembler, theta: Float64Array, mlp: MLP, stage: 'first' | 'dagger' | 'refine'): Promise<TrainResult> {
  const common = { timeBudgetMs: o.timeBudgetMs, onProgress: o.onProgress, skipFit: stage !== 'first' };
  switch (o.method) {
    case 'al-lm':
      return trainAugmentedLagrangian(asm, theta, { ...common, polishOnly: stage === 'refine', polishMargin: o.margin, weightNorm: o.maxWeightNorm ? new WeightNormConstraints(mlp.sizes, o.maxWeightNorm) : undefined });
    case 'ip':
      if (o.maxWeightNorm) throw new Error('--max-weight-norm is supported by --method al-lm only');
      return trainInteriorPoint(asm, theta, { ...common, margin: o.margin });
    case 'adam':
    case 'adam-minibatch':
      if (o.maxWeightNorm) throw new Error('--max-weight-norm is supported by --method al-lm only');
      return trainAdam(asm, theta, { ...common, margin: o.margin, batch: o.method === 'adam' ? 'full' : 64, seed: o.seed });
  }
}

function makeModel(
  o: TrainOptions,
  plant: Plant,
  s: Scaling,
  domain: Bounds,
  net: { sizes: number[]; activation: Activation },
  theta: Float64Array,
  settings: MPCSettings,
  res: TrainResult | null,
  extra: { metrics: PolicyMetrics; samples: { train: number; val: number } } | null,
): PolicyModel {
  const mpc = new LinearMPC(plant, settings).describe();
  const mpcRecord: MPCRecord = { ...mpc, ...(settings.polytope ? { polytope: settings.polytope } : {}) };
  return {
    format: MODEL_FORMAT,
    generator: `ultro ${ULTRO_VERSION}`,
    network: { sizes: net.sizes, activation: net.activation, layers: layersFromTheta(net.sizes, theta) },
    input: { names: plant.stateNames, domain: { min: domain.min.slice(), max: domain.max.slice() }, offset: s.inOffset, scale: s.inScale },
    output: { names: plant.inputNames, offset: s.outOffset, scale: s.outScale, bounds: { min: plant.uBounds.min.slice(), max: plant.uBounds.max.slice() } },
    plant: plantToJson(plant),
    mpc: mpcRecord,
    provenance: res && extra
      ? {
          plant: o.plantRef ?? plant.name,
          method: o.method,
          seed: o.seed,
          hidden: o.hidden,
          activation: o.activation,
          margin: o.margin ?? 2e-3,
          maxWeightNorm: o.maxWeightNorm ?? null,
          qat: o.qat ?? null,
          data: { ...extra.samples, daggerRounds: o.daggerRounds ?? 1, refineRounds: o.refineRounds ?? 3 },
          // No wall-clock times: model files are deterministic for a given seed and thread count.
          training: { steps: res.steps, stopped: res.stopped, history: res.history.map(({ timeMs: _t, ...h }) => h) },
          metrics: extra.metrics,
        }
      : undefined,
  };
}
