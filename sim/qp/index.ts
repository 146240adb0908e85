export { QPSolver, solveQP } from './solve.js';
export { normalizeQP, qpMetrics } from './problem.js';
export type { ActiveSet, DenseInput, QPOptions, QPProblem, QPResult, QPStatus, QPVectors } from './problem.js';
