/**
 * tanh in fixed point: an odd-symmetric table over z ∈ [0, 4] with linear
 * interpolation, evaluated exactly as the C runtime does (ultro_nn.c).
 *
 *   a = |z|;  i = a >> SH;  f = (a >> (SH − 8)) & 255   (the 8 bits below the index)
 *   y = T[SEGS]                                   if i ≥ SEGS   (|z| ≥ 4: saturated)
 *   y = T[i] + ((T[i+1] − T[i])·f + 128) >> 8     otherwise
 *   result = z < 0 ? −y : y
 *
 * with z in Q(fz), SH = fz + 2 − m (the table has 2^m segments of width 2^(2−m))
 * and T[k] = min(maxA, round(tanh(k·2^(2−m))·2^outFrac)). Interpolation error is
 * below Δ²/8·max|tanh''| ≈ 0.048·Δ²; tanhTableError() measures the whole error
 * (table rounding, interpolation, output rounding) on a dense grid.
 *
 * Where z comes from (tanhRow): int8 layers round the accumulator to z
 * (rshiftRound) and clamp it to ±4·2^fz. int16 layers take the magnitude
 * first: a = ⌊|acc| / 2^s⌋ (a left shift for s < 0), no rounding term, and the
 * sign of acc (`magnitude`). That makes the int16 tanh exactly odd, and on the
 * AVR a's bytes come from one shift of |acc|; the bits it drops lie 8 below
 * the fraction the table reads.
 */
import type { Variant } from '../trainer/index.js';
import { rshiftRound } from './shift.js';

export interface TanhTable {
  /** log2 of the number of segments. */
  m: number;
  /** Fractional bits of the table's input z. */
  fz: number;
  /** Fractional bits of the output (activation format). */
  outFrac: number;
  /** Right shift from |z| to the segment index (fz + 2 − m). */
  shift: number;
  /** Table values, 2^m + 1 entries. */
  values: number[];
  /** Largest |z| the table distinguishes: 4·2^fz (inputs beyond saturate). */
  zMax: number;
  /** Whether a layer feeds the table ⌊|acc| / 2^s⌋ and acc's sign (int16) instead of the rounded, clamped z (int8). */
  magnitude: boolean;
}

export function makeTanhTable(variant: Variant): TanhTable {
  const m = variant === 'int8' ? 6 : 8;
  // The segment index is a whole byte of |z| in both (SH = 8 and 16), so the AVR reads it without shifting.
  const fz = variant === 'int8' ? 12 : 22;
  const outFrac = variant === 'int8' ? 7 : 15;
  const maxA = variant === 'int8' ? 127 : 32767;
  const segs = 1 << m;
  const values: number[] = [];
  for (let k = 0; k <= segs; k++) values.push(Math.min(maxA, Math.round(Math.tanh(k * Math.pow(2, 2 - m)) * Math.pow(2, outFrac))));
  return { m, fz, outFrac, shift: fz + 2 - m, values, zMax: 4 * Math.pow(2, fz), magnitude: variant !== 'int8' };
}

/** The integer tanh, bit-exact with the C. */
export function tanhQ(t: TanhTable, z: number): number {
  const a = Math.abs(z);
  const i = Math.floor(a / Math.pow(2, t.shift));
  const segs = 1 << t.m;
  let y: number;
  if (i >= segs) y = t.values[segs];
  else {
    // The 8 bits of |z| below the segment index (SH ≥ 8 for both variants).
    const f = Math.floor((a - i * Math.pow(2, t.shift)) / Math.pow(2, t.shift - 8));
    y = t.values[i] + Math.floor(((t.values[i + 1] - t.values[i]) * f + 128) / 256);
  }
  return z < 0 ? -y : y;
}

/** tanh of a row's accumulator with shift s, as the layer feeds the table (see the header). */
export function tanhRow(t: TanhTable, acc: number, s: number): number {
  if (!t.magnitude) {
    const z = rshiftRound(acc, s);
    return tanhQ(t, z < -t.zMax ? -t.zMax : z > t.zMax ? t.zMax : z);
  }
  const m = Math.abs(acc);
  // Beyond zMax the table saturates, so a left shift can stop there (the C's does).
  const a = s >= 0 ? Math.floor(m / Math.pow(2, s)) : Math.min(m * Math.pow(2, -s), t.zMax);
  const y = tanhQ(t, a);
  return acc < 0 ? -y : y;
}

/** Largest |tanhQ(z)/2^outFrac − tanh(z/2^fz)| over every representable z in [−6, 6] (sampled densely). */
export function tanhTableError(t: TanhTable): { maxAbs: number; atZ: number } {
  let maxAbs = 0,
    atZ = 0;
  const step = Math.max(1, Math.floor((6 * Math.pow(2, t.fz)) / 200_000));
  for (let z = -6 * Math.pow(2, t.fz); z <= 6 * Math.pow(2, t.fz); z += step) {
    const e = Math.abs(tanhQ(t, z) / Math.pow(2, t.outFrac) - Math.tanh(z / Math.pow(2, t.fz)));
    if (e > maxAbs) {
      maxAbs = e;
      atZ = z / Math.pow(2, t.fz);
    }
  }
  return { maxAbs, atZ };
}
