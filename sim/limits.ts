/**
 * What Ultro accepts, in one place (documented in docs/limits.md). Each limit
 * is where something would otherwise hang, overflow or fail deep inside with
 * an unhelpful message: the dense MPC QP grows as (N·nu)², the wire protocol
 * carries at most 22 states, firmware counts iterations in 16 bits and the
 * horizon in 8, and float32 on a board holds about 7 digits.
 */
export const LIMITS = {
  /** States and inputs of a plant (the dense MPC and the trainer's sampling are sized for tens). */
  maxStates: 32,
  maxInputs: 16,
  /** Largest |entry| of A, B (discrete), Q, R and of a finite bound: beyond it rescale the units. */
  maxMagnitude: 1e9,
  /** MPC horizon, and the condensed QP's input variables N·nu. */
  maxHorizon: 200,
  maxQpInputs: 800,
  /** Largest growth of the free response over the horizon (‖A^k‖ for k ≤ N) the condensed QP can stand. */
  maxGrowth: 1e8,
  /** On-board MPC iteration cap (a 16-bit counter on the board). */
  maxMpcIterations: 10_000,
  /** Network: hidden layers and their width. */
  maxHiddenLayers: 32,
  maxWidth: 256,
  /** Training samples asked for. */
  maxSamples: 200_000,
} as const;
