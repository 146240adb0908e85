/**
 * The data and model plumbing the trainer benches share (bench/train.ts,
 * bench/torch.ts): the same labelled set for every method, and a model file
 * around a parameter vector so it can be scored like a trained one.
 */
import { operatingDomain, plantToJson, safetyFilter, type Bounds, type Plant } from '../sim/index.js';
import {
  MODEL_FORMAT,
  boxScaling,
  concatDatasets,
  layersFromTheta,
  mpcTrajectories,
  sampleFeasible,
  splitDataset,
  type Activation,
  type ConstraintOptions,
  type Dataset,
  type PolicyModel,
} from '../trainer/index.js';

export interface BenchData {
  train: Dataset;
  val: Dataset;
  domain: Bounds;
  scaling: ReturnType<typeof boxScaling>;
}

/**
 * `count` (default 2,000) MPC-feasible states (seed 1) and 20 closed-loop MPC trajectories of 60 steps (seed 2),
 * split 80/20 (seed 3). For a saturating form (the network trained as the clamped policy), no constraint-only samples,
 * as `ultro train` draws them.
 */
export async function benchData(plant: Plant, settings: { horizon: number }, form: ConstraintOptions = {}, count = 2000): Promise<BenchData> {
  const domain = operatingDomain(plant);
  const uni = await sampleFeasible(plant, settings, { count, seed: 1, progress: false, ...(form.saturate ? { constraintOnly: 0 } : {}) });
  const traj = mpcTrajectories(plant, settings, { count: 20, length: 60, seed: 2 });
  const { train, val } = splitDataset(concatDatasets(uni, traj), 0.2, 3);
  return { train, val, domain, scaling: boxScaling(domain, plant.uBounds) };
}

/**
 * The training problem of `ultro train`'s default form: the network trained as the clamped policy
 * (KernelData.saturate), the state bounds that one input moves kept by the safety filter, the rest as
 * constraints.
 */
export function defaultForm(plant: Plant): ConstraintOptions {
  return { saturate: true, safetyFilter: safetyFilter(plant) !== null };
}

/** A model file around θ, in the bench's scaling and domain; `form` marks it as trained in that form. */
export function benchModel(plant: Plant, sizes: number[], activation: Activation, theta: Float64Array, d: Pick<BenchData, 'domain' | 'scaling'>, form: ConstraintOptions = {}): PolicyModel {
  const s = d.scaling;
  return {
    format: MODEL_FORMAT,
    network: { sizes, activation, layers: layersFromTheta(sizes, theta) },
    input: { names: plant.stateNames, domain: d.domain, offset: s.inOffset, scale: s.inScale },
    output: {
      names: plant.inputNames,
      offset: s.outOffset,
      scale: s.outScale,
      bounds: plant.uBounds,
      ...(form.saturate ? { saturating: true } : {}),
      ...(form.safetyFilter ? { safetyFilter: true } : {}),
    },
    plant: plantToJson(plant),
  };
}
