/**
 * Exact rescalings of the float network that let its int8 form use more of
 * the integer range: the factors are folded into the float weights and into
 * the float wrapper's output constants, so they cost no integer operation.
 * The float policy is unchanged (up to rounding in the last place); only the
 * grids its numbers land on move.
 *
 *  - Hard-tanh activations: h ∈ [−1, 1] would take Q6 (±64); stored as c·h in
 *    Q7 with c = 127/128 it fills ±127 (the first layer's weights and every
 *    hidden bias times c, the output layer's weights divided by it). On the
 *    quadrotor the activations' rounding alone erred by 1.37 % of the range in
 *    Q6 and 0.69 % folded.
 *  - Output rows: row j of the output layer, its largest weight w, rounds on
 *    the grid 2^−f with w·2^f ≤ 127, i.e. with up to a bit unused. Scaled by
 *    d_j = 127·2^−f / w it fills its grid; the wrapper's output factor is
 *    divided by d_j, so the control is the same. On the quadrotor the int8
 *    error went from 2.06 % to 1.80 % of the range.
 *
 * Not in int16: there the extra activation bit costs the next layer a weight
 * bit (its sums must fit 32 bits), the output layer's rounding is negligible,
 * and both folds made the error grow a little. Not the inputs either: stored
 * as c_i·x to fill ±127 they lowered the quadrotor's error to 1.69 %, but
 * doubled the first layer's sums, which then needed a 32-bit accumulator.
 * A model whose quantisation-aware refit was kept for this width has its
 * weights on the unfolded grids already: it is not folded.
 */
import { gridFrac, variantBits, type PolicyModel, type Variant } from '../trainer/index.js';

export interface Folded {
  model: PolicyModel;
  /** The hard-tanh fold applied (hidden activations c·h in Q(A−1)). */
  hardtanh: boolean;
  /** d_j per output: the folded network's output j is d_j times the given one's. */
  outScale: number[];
}

/** Just below 1, so a folded edge lands on the top integer after float rounding instead of past it. */
const EDGE = 1 - Math.pow(2, -20);

export function foldScales(model: PolicyModel, variant: Variant): Folded {
  const nu = model.output.offset.length;
  const p = model.provenance as { qat?: unknown; qatFixedPoint?: { refitKept?: unknown } } | undefined;
  const kept = p?.qat === variant && p.qatFixedPoint?.refitKept === true;
  if (kept || variant !== 'int8') return { model, hardtanh: false, outScale: new Array<number>(nu).fill(1) };
  const A = variantBits(variant);
  const maxA = Math.pow(2, A - 1) - 1;
  const n = model.network.layers.length;
  const layers = model.network.layers.map((L) => ({ W: L.W.map((row) => row.slice()), b: L.b.slice() }));

  // hard-tanh activations in int8: c·h in Q7
  const hardtanh = model.network.activation === 'hardtanh';
  if (hardtanh) {
    const ch = maxA / Math.pow(2, A - 1);
    layers.forEach((L, l) => {
      if (l === 0) L.W.forEach((row) => row.forEach((w, i) => (row[i] = ch * w)));
      if (l === n - 1) L.W.forEach((row) => row.forEach((w, i) => (row[i] = w / ch)));
      else L.b.forEach((b, i) => (L.b[i] = ch * b));
    });
  }

  // output rows: each fills its weight grid
  const last = layers[n - 1];
  const outScale = last.W.map((row) => {
    const w = Math.max(...row.map(Math.abs));
    return w > 0 ? ((maxA * Math.pow(2, -gridFrac(w, variant))) / w) * EDGE : 1;
  });
  last.W.forEach((row, j) => row.forEach((w, i) => (row[i] = w * outScale[j])));
  last.b.forEach((b, j) => (last.b[j] = b * outScale[j]));
  const output = { ...model.output, scale: model.output.scale.map((s, j) => s / outScale[j]) };
  return { model: { ...model, output, network: { ...model.network, layers } }, hardtanh, outScale };
}
