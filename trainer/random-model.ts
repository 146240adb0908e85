/**
 * A seeded random network on a plant, with no training: for benchmarks of the
 * generated code (cycles, sizes, range analysis) where the weights only need
 * a realistic spread, and for tests of codegen.
 */
import { Rng, getPlant, plantToJson } from '../sim/index.js';
import { MLP, type Activation } from './mlp.js';
import { MODEL_FORMAT, layersFromTheta, type PolicyModel } from './model-file.js';

/** A random network (weights scaled by `gain`) on a registry plant, domain = the state box. */
export function randomPolicyModel(plantName: string, hidden: number[], activation: Activation, seed: number, gain = 1.5): PolicyModel {
  const plant = getPlant(plantName);
  const sizes = [plant.nx, ...hidden, plant.nu];
  const theta = new MLP({ sizes, activation }).init(seed);
  const rng = new Rng(seed + 99);
  for (let i = 0; i < theta.length; i++) theta[i] = gain * theta[i] + (theta[i] === 0 ? 0.2 * rng.normal() : 0);
  const lo = plant.xBounds.min,
    hi = plant.xBounds.max;
  return {
    format: MODEL_FORMAT,
    network: { sizes, activation, layers: layersFromTheta(sizes, theta) },
    input: { names: plant.stateNames, domain: { min: lo.slice(), max: hi.slice() }, offset: lo.map((l, i) => (l + hi[i]) / 2), scale: lo.map((l, i) => (hi[i] - l) / 2) },
    output: {
      names: plant.inputNames,
      offset: plant.uBounds.min.map((l, j) => (l + plant.uBounds.max[j]) / 2),
      scale: plant.uBounds.min.map((l, j) => (plant.uBounds.max[j] - l) / 2),
      bounds: { min: plant.uBounds.min.slice(), max: plant.uBounds.max.slice() },
    },
    plant: plantToJson(plant),
  };
}
