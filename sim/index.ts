/**
 * sim/: plant models, the QP solver, the MPC teacher and closed-loop simulation.
 * This is the public surface; other folders import only from here.
 */
export * as linalg from './linalg.js';
export type { Mat } from './linalg.js';
export { expm, zohDiscretize } from './expm.js';
export { ULTRO_VERSION, packageRoot, workerPath } from './package-root.js';
export { commandArg, escapeHtml, escapeMarkdown } from './escape.js';
export { LIMITS } from './limits.js';
export { InputError, checkOutputDir, checkOutputFile, formatPath, parseWith, readJsonFile, toJson, writeDirAtomic, writeFileAtomic } from './io.js';
export { Rng } from './random.js';
export {
  boxViolation,
  checkPlant,
  operatingDomain,
  validatePlant,
  diagRows,
  plantFromContinuous,
  plantFromDiscrete,
  plantStep,
  rk4Step,
  type Bounds,
  type NonlinearDynamics,
  type Plant,
  DYNAMICS,
  type Dynamics,
  type Vec,
} from './plants/plant.js';
export { DEFAULT_PLANT, getPlant, listPlants, plantNames } from './plants/registry.js';
export { PLANT_FORMAT, loadPlantFile, plantFromJson, plantToJson, resolvePlant, type PlantFile } from './plants/file.js';
export { QPSolver, solveQP, normalizeQP, qpMetrics } from './qp/index.js';
export type { ActiveSet, DenseInput, QPOptions, QPProblem, QPResult, QPStatus, QPVectors } from './qp/index.js';
export { DareError, dareResidual, lqr, lqrGain, solveDare } from './riccati.js';
export { LinearMPC, SLACK_TOL, type MPCReference, type MPCSettings, type MPCSolution } from './mpc.js';
export { simulateClosedLoop, simulateClosedLoopAsync, type AsyncController, type ClosedLoopOptions, type Controller, type ControllerOutput, type Trace, type ViolationStats } from './closed-loop.js';
export { Heartbeat, PhaseTimes, formatSeconds, progressText, type LineSink } from './progress.js';
export { feasibleStates, hitAndRun, interiorPoint, liftedPolytope, noFeasibleStateError, type FeasibleStates, type FeasibleStatesOptions, type Polytope } from './feasible.js';
export { FILTER_MARGIN, applySafetyFilter, boundText, nextStateBound, filterFloat32, filteredStates, safetyFilter, type FilterBound, type FilterRow, type SafetyFilter } from './safety-filter.js';
