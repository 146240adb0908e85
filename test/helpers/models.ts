/** Hand-made policy models for codegen tests: seeded random weights on a registry plant. */
import { loadModel, randomPolicyModel, type PolicyModel } from '../../trainer/index.js';
import { ROOT } from './cli.js';

export function fixtureModel(): PolicyModel {
  return loadModel(`${ROOT}/test/fixtures/models/double-integrator.json`);
}

/** A random network (weights scaled by `gain`) on a registry plant, domain = the state box. */
export const randomModel = randomPolicyModel;
