/**
 * A network too steep for int8, retrained to fit it. `ultro train --qat auto`
 * first tries int8; where its fixed-point error is far outside the code
 * generator's tolerance, the cause is usually a few large weights: int8 gives
 * each row 127 steps of its largest weight, and a steep layer amplifies the
 * next layer's rounding. Bounding every layer's Frobenius norm (the
 * al-lm weight-norm constraints, weight-norm.ts) trades a little fit for an
 * error that shrinks with the bound.
 *
 * Measured on the aircraft (4-16-16-2, ±25 actuators, seed 1): the unbounded
 * network had layer norms 4.4, 48.3, 21.0 and int8 error 12.4 % RMS of the
 * actuator range; trained from scratch with every norm ≤ 16, 12 and 8, the
 * error was 3.6, 2.3 and 1.65 %: about 0.2 % per unit of the largest norm in
 * each case, so the bound is the largest norm scaled by tolerance / error,
 * with 10 % to spare. (Warm-started from the steep network instead of from
 * scratch, the bounded run stopped at validation MSE 5.4e-4 against 1.2e-4.)
 * An error more than MAX_SHRINK times the tolerance would need the weights
 * shrunk so far that the fit is gone (two carts: 40 %), so none is tried.
 */
import { layerNorms } from './weight-norm.js';

/** Largest error / tolerance for which a bounded retrain is tried. */
export const MAX_SHRINK = 8;

/**
 * The weight-norm bound that should bring int8 within the tolerance, rounded
 * to two significant digits (so that the printed `--max-weight-norm` reproduces
 * the run), or null when the error is within twice the tolerance (a refit's
 * job) or more than MAX_SHRINK times it.
 */
export function int8NormBound(theta: Float64Array, sizes: readonly number[], rmsOfRange: number, tolerance: number): number | null {
  if (!(rmsOfRange > 2 * tolerance) || rmsOfRange > MAX_SHRINK * tolerance) return null;
  const c = (Math.max(...layerNorms(theta, sizes)) * 0.9 * tolerance) / rmsOfRange;
  return Number(c.toPrecision(2));
}

/**
 * The bounded network replaces the unbounded one only when int8 is then within
 * the tolerance and its validation MSE (float, on the unbounded run's
 * validation set) is at most this many times the unbounded network's (aircraft
 * at bound 8: 2.5×).
 */
export const MAX_MSE_RISE = 4;

/** What the int8 retrain measured, for the log, the outcome and the model's provenance. */
export interface Int8Bound {
  bound: number;
  kept: boolean;
  unbounded: { rmsOfRange: number; validationMse: number; layerNorms: number[] };
  bounded: { rmsOfRange: number; validationMse: number };
}
