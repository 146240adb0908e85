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
import { trainAugmentedLagrangian, type ALSettings } from './ultro.js';
import type { ProgressFn } from './progress.js';

export type QatBits = 8 | 16;

/** Fraction bits of a weight row's grid; the code generator quantises weights with it. */
export function gridFrac(maxAbs: number, bits: QatBits): number {
  const qmax = bits === 8 ? 127 : 32767;
  if (!(maxAbs > 0)) return 15;
  return Math.max(-16, Math.min(30, Math.floor(Math.log2(qmax / maxAbs))));
}

/** Round a row (in place) to its grid. */
export function snapRow(row: Float64Array, bits: QatBits): void {
  let m = 0;
  for (const v of row) m = Math.max(m, Math.abs(v));
  const f = gridFrac(m, bits);
  const s = Math.pow(2, f);
  for (let j = 0; j < row.length; j++) row[j] = Math.round(row[j] * s) / s;
}

export interface QatOptions {
  bits: QatBits;
  /** Constraint tightening of the polish (normalised output units). */
  margin?: number;
  onProgress?: ProgressFn;
  log?: (s: string) => void;
  onStep?: ALSettings['onStep'];
}

/** θ laid out as in layersFromTheta: per layer, W row-major then b. */
export async function quantisationAwareRefit(asm: Assembler, theta: Float64Array, sizes: number[], o: QatOptions): Promise<Float64Array> {
  let th = Float64Array.from(theta);
  const frozen = new Uint8Array(th.length);
  let off = 0;
  for (let l = 1; l < sizes.length; l++) {
    const nin = sizes[l - 1], nout = sizes[l];
    for (let i = 0; i < nout; i++, off += nin) {
      snapRow(th.subarray(off, off + nin), o.bits);
      frozen.fill(1, off, off + nin);
    }
    off += nout; // biases stay free
    const r = await trainAugmentedLagrangian(asm, th, { skipFit: true, polishOnly: true, polishOuter: 6, polishMargin: o.margin, frozen, onProgress: o.onProgress, onStep: o.onStep });
    th = Float64Array.from(r.theta);
    o.log?.(`qat: layer ${l} of ${sizes.length - 1} on the int${o.bits} grid; refit the rest (${r.steps} LM steps, ${r.stopped})`);
  }
  return th;
}
