/**
 * Quantisation-aware refit: put the weights on the integer grid the code
 * generator will use, one layer at a time, and let the constrained trainer
 * re-fit everything not yet fixed to absorb the rounding.
 *
 * For layer l = 1…L: round each row of W_l to its power-of-two grid and
 * freeze it; then run the tightened AL polish (actuator and one-step safety
 * constraints, with the margin) on the remaining free parameters — the later
 * layers' weights and every bias. Biases stay free to the end: the generated
 * C keeps them at accumulator precision (2^−(fw+fa)), so they are not where
 * int8 loses accuracy.
 *
 * The grid (gridFrac) is the one codegen/quantize.ts uses for int8/int16
 * weights: row i of a layer is stored as an integer q with w = q·2^−f,
 * f = ⌊log2(qmax / max_j |W_ij|)⌋, qmax = 127 (int8) or 32767 (int16),
 * f ∈ [−16, 30]; per row, which the generator picks whenever it gains a bit
 * somewhere (per-neuron "auto"). A test checks that quantising a refitted
 * model with the whole code generator leaves its weights unchanged.
 * The int8 grid is contained in the int16 one, so an int8-refitted model is
 * exact in both.
 */
import type { Assembler } from './assembler.js';
import { MLP } from './mlp.js';
import { trainAugmentedLagrangian, warmStart, type ALSettings } from './ultro.js';
import type { ProgressFn } from './progress.js';

/**
 * Integer width of the deployed network. The one name for it: in the code,
 * the CLI (--variant, --qat), model provenance and codegen reports.
 */
export type Variant = 'int8' | 'int16';
/** A width, or `auto`: the width the model was refitted for, else the narrowest within the fixed-point tolerance. */
export type VariantChoice = Variant | 'auto';
/** The widths, smallest first. */
export const VARIANTS: readonly Variant[] = ['int8', 'int16'];
export const variantBits = (v: Variant): 8 | 16 => (v === 'int8' ? 8 : 16);

/** Fraction bits of a weight row's grid; the code generator quantises weights with it. */
export function gridFrac(maxAbs: number, variant: Variant): number {
  const qmax = variant === 'int8' ? 127 : 32767;
  if (!(maxAbs > 0)) return 15;
  return Math.max(-16, Math.min(30, Math.floor(Math.log2(qmax / maxAbs))));
}

/** Round a row (in place) to its grid. */
export function snapRow(row: Float64Array, variant: Variant): void {
  let m = 0;
  for (const v of row) m = Math.max(m, Math.abs(v));
  const f = gridFrac(m, variant);
  const s = Math.pow(2, f);
  for (let j = 0; j < row.length; j++) row[j] = Math.round(row[j] * s) / s;
}

export interface QatOptions {
  variant: Variant;
  /** Constraint tightening of the polish (normalised output units). */
  margin?: number;
  onProgress?: ProgressFn;
  log?: (s: string) => void;
  onStep?: ALSettings['onStep'];
  /**
   * Multipliers and ρ of the training run on the same rows (its result, as
   * ALSettings.warm): the first layer's polish starts from them, each later
   * one from the layer before.
   */
  warm?: ALSettings['warm'];
  /**
   * Training MSE at which the refit gives up (returns null): the validation
   * MSE of the network without it, in fixed point. Checked after each outer
   * iteration of a layer's polish (the first inner loop after a snap brings
   * the jump back down): once the polish itself has pushed the float error
   * on the grid past it, the refit's fixed-point error, no smaller than that,
   * will not win.
   */
  abandonAbove?: number;
}

/**
 * Covariance of layer l's input (the activations of layer l−1) over the
 * labelled training states: what a change δ of one weight row does to that
 * row's output, once its (free) bias has absorbed the mean, is δᵀCδ.
 */
function inputCovariance(asm: Assembler, theta: Float64Array, sizes: number[], l: number): Float64Array {
  const { X, K, nx, sw, activation } = asm.data;
  const mlp = new MLP({ sizes, activation });
  const n = sizes[l - 1];
  const h = new Float64Array(n);
  const mean = new Float64Array(n);
  const S = new Float64Array(n * n);
  let m = 0;
  for (let k = 0; k < K; k++) {
    if (sw[k] === 0) continue;
    mlp.layerActivations(theta, X, l - 1, h, k * nx);
    m++;
    for (let a = 0; a < n; a++) {
      mean[a] += h[a];
      for (let b = 0; b <= a; b++) S[a * n + b] += h[a] * h[b];
    }
  }
  const C = new Float64Array(n * n);
  for (let a = 0; a < n; a++)
    for (let b = 0; b <= a; b++) {
      const v = S[a * n + b] / Math.max(1, m) - (mean[a] / Math.max(1, m)) * (mean[b] / Math.max(1, m));
      C[a * n + b] = v;
      C[b * n + a] = v;
    }
  return C;
}

/**
 * Round a row onto its grid (the same grid, gridFrac of the row's largest
 * |w|) at the lattice point that minimises δᵀCδ, δ the rounding error:
 * nearest rounding, then single-weight moves to the other neighbouring grid
 * point while they lower δᵀCδ and keep the grid (AdaRound's idea, Nagel et
 * al. 2020, solved for a linear layer by coordinate descent).
 */
export function snapRowAdaptive(row: Float64Array, variant: Variant, C: Float64Array): void {
  const n = row.length;
  const w = Float64Array.from(row);
  snapRow(row, variant);
  let m = 0;
  for (const v of w) m = Math.max(m, Math.abs(v));
  const f = gridFrac(m, variant);
  const step = Math.pow(2, -f);
  const qmax = variant === 'int8' ? 127 : 32767;
  const d = Float64Array.from(row, (v, j) => v - w[j]);
  const Cd = new Float64Array(n);
  for (let a = 0; a < n; a++) for (let b = 0; b < n; b++) Cd[a] += C[a * n + b] * d[b];
  const rowMax = () => row.reduce((t, v) => Math.max(t, Math.abs(v)), 0);
  for (let pass = 0; pass < 20; pass++) {
    let moved = false;
    for (let j = 0; j < n; j++) {
      const alt = row[j] + (row[j] >= w[j] ? -step : step);
      if (Math.abs(alt) * Math.pow(2, f) > qmax) continue;
      const dj = alt - row[j];
      const gain = 2 * dj * Cd[j] + dj * dj * C[j * n + j];
      if (!(gain < -1e-15 * (1 + Math.abs(Cd[j])))) continue;
      const old = row[j];
      row[j] = alt;
      // the move must keep the row on the same grid (its largest |w| decides it)
      if (gridFrac(rowMax(), variant) !== f) {
        row[j] = old;
        continue;
      }
      for (let a = 0; a < n; a++) Cd[a] += C[a * n + j] * dj;
      d[j] += dj;
      moved = true;
    }
    if (!moved) break;
  }
}

/** θ laid out as in layersFromTheta: per layer, W row-major then b. Null when the refit gave up (o.abandonAbove). */
export async function quantisationAwareRefit(asm: Assembler, theta: Float64Array, sizes: number[], o: QatOptions): Promise<Float64Array | null> {
  let th = Float64Array.from(theta);
  let warm = o.warm;
  const frozen = new Uint8Array(th.length);
  let off = 0;
  const L = sizes.length - 1;
  for (let l = 1; l < sizes.length; l++) {
    const nin = sizes[l - 1],
      nout = sizes[l];
    // The output layer has only its biases left to absorb rounding: round it to the lattice point that
    // disturbs the outputs least over the training states, not merely to the nearest one.
    const C = l === L && l > 1 ? inputCovariance(asm, th, sizes, l) : null;
    for (let i = 0; i < nout; i++, off += nin) {
      if (C) snapRowAdaptive(th.subarray(off, off + nin), o.variant, C);
      else snapRow(th.subarray(off, off + nin), o.variant);
      frozen.fill(1, off, off + nin);
    }
    off += nout; // biases stay free
    const r = await trainAugmentedLagrangian(asm, th, {
      skipFit: true,
      polishOnly: true,
      polishOuter: 6,
      polishMargin: o.margin,
      frozen,
      warm,
      onProgress: o.onProgress,
      onStep: o.onStep,
      abandonAbove: o.abandonAbove,
    });
    if (r.stopped === 'abandoned') {
      o.log?.(
        `qat: layer ${l} of ${sizes.length - 1} on the ${o.variant} grid: training MSE above ${o.abandonAbove!.toExponential(2)} (the network without the refit, in fixed point) after an outer iteration (${r.steps} LM steps); giving up the refit`,
      );
      return null;
    }
    th = Float64Array.from(r.theta);
    // Snapping a layer moves the optimum only a little: the multipliers stay good estimates, even when the
    // polish stopped at its outer-iteration cap just short of the tolerance.
    warm = warmStart(r, true, asm.data.nLabelled);
    o.log?.(`qat: layer ${l} of ${sizes.length - 1} on the ${o.variant} grid; refit the rest (${r.steps} LM steps, ${r.stopped})`);
  }
  return th;
}

/**
 * Polish a refitted network's biases under the tightened constraints, its
 * weights staying on their grid: after constraint cuts were added to the
 * training set (the refit moved the network between the samples it saw).
 * It starts cold (new rows, no multipliers for them), so it gets the 8 outer
 * iterations of a refinement round: with 6 the double integrator's stopped
 * at a violation of 1.1e-5.
 */
export async function polishBiases(
  asm: Assembler,
  theta: Float64Array,
  sizes: number[],
  o: Pick<QatOptions, 'margin' | 'onProgress' | 'onStep'>,
): Promise<{ theta: Float64Array; converged: boolean }> {
  const frozen = new Uint8Array(theta.length);
  let off = 0;
  for (let l = 1; l < sizes.length; l++) {
    frozen.fill(1, off, off + sizes[l - 1] * sizes[l]);
    off += sizes[l - 1] * sizes[l] + sizes[l];
  }
  const r = await trainAugmentedLagrangian(asm, theta, {
    skipFit: true,
    polishOnly: true,
    polishOuter: 8,
    polishMargin: o.margin,
    frozen,
    onProgress: o.onProgress,
    onStep: o.onStep,
  });
  return { theta: Float64Array.from(r.theta), converged: r.stopped === 'converged' };
}
