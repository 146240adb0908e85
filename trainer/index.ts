/**
 * trainer/: the policy network, datasets from the MPC teacher, the
 * constrained trainers (augmented Lagrangian + LM, interior point) and the
 * Adam baseline, model files and metrics. Public surface.
 */
export { ACTIVATIONS, MLP, paramCount, type Activation, type MLPSpec } from './mlp.js';
export { MODEL_FORMAT, layersFromTheta, loadModel, modelFromJson, modelHash, modelHash32, modelPlant, modelTheta, policyFunction, saveModel, type MPCRecord, type PolicyModel } from './model-file.js';
export { SAT_REACH, SAT_TOL } from './gn-kernel.js';
export { MIN_ACCEPTANCE, concatDatasets, daggerRound, datasetSize, feasibleStarts, labelStates, mpcTrajectories, sampleFeasible, splitDataset, type Dataset } from './dataset.js';
export {
  DEFAULT_MARGIN,
  DEFAULT_REFINE_ROUNDS,
  activeConstraints,
  boxScaling,
  buildKernelData,
  constraintRows,
  type ActiveConstraint,
  type ConstraintOptions,
  type ConstraintRow,
  type Scaling,
} from './problem.js';
export { Assembler, DENSE_PARAM_LIMIT } from './assembler.js';
export { trainAugmentedLagrangian, type ALSettings, type TrainResult } from './ultro.js';
export { trainInteriorPoint, type IPSettings } from './ip.js';
export { trainAdam, type AdamSettings } from './adam.js';
export { WeightNormConstraints } from './weight-norm.js';
export { EVAL_SEED, datasetMse, evaluatePolicy, formatMetrics, heldOutChecks, heldOutLabels, heldOutStates, type HeldOutLabels, type PolicyMetrics } from './metrics.js';
export { formatProgress, type ProgressEntry, type ProgressFn } from './progress.js';
export {
  ACTUATOR_BOUNDS,
  METHODS,
  defaultActivation,
  defaultHidden,
  defaultSamples,
  mpcSettingsFor,
  trainPolicy,
  type ActuatorBounds,
  type Method,
  type QatOutcome,
  type TrainOptions,
  type TrainOutcome,
} from './train.js';
export { gridFrac, quantisationAwareRefit, snapRow, VARIANTS, variantBits, type QatOptions, type Variant, type VariantChoice } from './qat.js';
export { randomPolicyModel } from './random-model.js';
export { TRAINER_REVISION } from './version.js';
export { PanelSyrk, wasmSyrkAvailable } from './panel-syrk.js';
