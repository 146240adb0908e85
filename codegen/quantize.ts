/**
 * Fixed-point formats for the policy, chosen by range analysis so that no
 * integer operation can overflow.
 *
 * Every number is an integer q standing for q·2^−f (power-of-two scales).
 *  - inputs: activation type (int8 or int16), Q(inFrac), the largest format
 *    that holds the normalised domain;
 *  - weights: int8 or int16, Q(fw) per layer, or per output row ("neuron")
 *    when that gains at least a bit for some row; rounded with error feedback
 *    on calibration inputs (codegen/rounding.ts), the rounding error's mean
 *    going into the bias;
 *  - accumulator of row i: bias + Σ W·a in Q(fw_i + fa_in). Its width is the
 *    smallest that provably holds every partial sum: |b| + Σ_j |W_ij|·max|a_j|
 *    (+ the rounding term of the following shift) over the integer ranges of
 *    the inputs. int16 only when that bound is ≤ 32767 (it is faster on AVR);
 *  - hidden activations: tanh and hard-tanh in Q(A−1) / Q(A−2) (A = 8 or 16
 *    bits), ReLU in the largest format that holds its range;
 *  - output: int16 in the largest Q format that holds its range.
 *
 * Rounding and saturation rules (the same in the C, the TS reference and here):
 *  - right shift by s > 0 rounds half up: (v + 2^(s−1)) >> s (arithmetic shift);
 *    a negative s multiplies by 2^−s (exact: the range analysis bounds it);
 *  - results are then saturated to the destination type's range;
 *  - inputs are clamped to the declared domain (NaN to its lower bound), then
 *    q = floor((x − offset)·k + 0.5) in float32, saturated;
 *  - the output is dequantised in float32 and clamped to the actuator box.
 *
 * The integer interval propagation here is the overflow proof: it runs on the
 * quantised network itself, not on the float one.
 */
import { createHash } from 'node:crypto';
// The weight grid is the trainer's (its quantisation-aware refit puts weights exactly on it).
import { filterFloat32, safetyFilter, type SafetyFilter } from '../sim/index.js';
import { gridFrac, modelHash, modelPlant, policyFunction, variantBits, type PolicyModel, type Variant } from '../trainer/index.js';
import { analyseRanges, type Interval, type RangeReport } from './range.js';
import { calibrationStates, inputMoments, roundRow } from './rounding.js';
import { makeTanhTable, tanhRow, type TanhTable } from './tanh.js';
import { rshiftRound } from './shift.js';
import { foldScales } from './fold.js';

export type ActKind = 'tanh' | 'relu' | 'hardtanh' | 'linear';

export interface QuantOptions {
  variant: Variant;
  /** Per-row weight scales: 'auto' (default) uses them when some row gains ≥ 1 bit. */
  perNeuron?: 'auto' | boolean;
  /** Range-analysis domain splits per input dimension (default 8). */
  splits?: number;
  /**
   * Weight rounding: with error feedback on calibration inputs (codegen/rounding.ts), to nearest, or
   * 'best' (default): both, keeping the one whose output errs less at the calibration states.
   */
  rounding?: 'best' | 'feedback' | 'nearest';
}

export interface QLayer {
  nin: number;
  nout: number;
  act: ActKind;
  /** nout × nin quantised weights, row-major. */
  W: number[];
  /** Fractional bits of each row's weights. */
  wFrac: number[];
  /** Fractional bits of this layer's input activations. */
  inFrac: number;
  /** Bias of each row in accumulator scale Q(wFrac_i + inFrac). */
  B: number[];
  accBits: 16 | 32 | 64;
  /** Proven bound on |partial sum + rounding term| of any row. */
  accBound: number;
  /** Exact integer range of each row's accumulator over the input ranges. */
  accRange: Interval[];
  /** Right shift from accumulator to z (tanh) or to the output format (others), per row. */
  shift: number[];
  /** Fractional bits of the layer output (activation format, or the network output). */
  outFrac: number;
  /** Saturation range of the layer output. */
  outMin: number;
  outMax: number;
  /** Integer range of the layer output (post activation). */
  outRange: Interval[];
}

export interface QuantizedModel {
  variant: Variant;
  /** Bits of activations/inputs and of weights. */
  actBits: 8 | 16;
  wBits: 8 | 16;
  perNeuron: boolean;
  /** How the weights were rounded onto their grids (codegen/rounding.ts). */
  rounding: 'feedback' | 'nearest';
  nx: number;
  nu: number;
  inFrac: number;
  /** Integer range of the quantised inputs (the domain corners). */
  inRange: Interval[];
  layers: QLayer[];
  tanh: TanhTable | null;
  outFrac: number;
  /**
   * One output LSB of output j in the normalised output of the model as given: 2^−outFrac / d_j, where
   * d_j is the output row's fold (codegen/fold.ts; the wrapper's outK already holds it).
   */
  outLsb: number[];
  /**
   * Float wrapper constants (float32-exact values). Inputs: q = trunc(((x − inOffset)·inK) + inC) − inBias,
   * where inC = 0.5 + inBias and the power of two inBias makes the sum positive over the domain, so
   * truncation is the floor; states outside [dMin, dMax] (NaN below) take the domain edge's q.
   * Outputs: u = clamp(outOffset + q·outK, uMin, uMax); q < uQlo is exactly where the sum is below
   * uMin, q > uQhi where it is above uMax (the C tests q against them, not the float).
   */
  wrapper: {
    inOffset: number[];
    inK: number[];
    inC: number;
    inBias: number;
    dMin: number[];
    dMax: number[];
    outOffset: number[];
    outK: number[];
    uMin: number[];
    uMax: number[];
    uQlo: number[];
    uQhi: number[];
  };
  /** The one-step safety filter after the wrapper (float32 constants), when the model has one. */
  filter: SafetyFilter | null;
  modelHash: string;
  /** SHA-256 of the quantised data: what the generated C computes. */
  quantHash: string;
  ranges: RangeReport;
}

const f32 = Math.fround;
const maxOf = (bits: number) => Math.pow(2, bits - 1) - 1;
const minOf = (bits: number) => -Math.pow(2, bits - 1);

export function saturate(v: number, lo: number, hi: number): number {
  return v < lo ? lo : v > hi ? hi : v;
}

/** Largest f such that maxAbs·2^f ≤ limit (bounded to a sane range). */
function fracFor(maxAbs: number, limit: number, cap = 30): number {
  if (!(maxAbs > 0)) return Math.min(cap, 15);
  return Math.max(-16, Math.min(cap, Math.floor(Math.log2(limit / maxAbs))));
}

/**
 * Input quantisation as the C float wrapper does it (float32 arithmetic):
 * t = (x − off)·k + (0.5 + B) is positive over the domain (B a power of two),
 * so the integer conversion's truncation is the floor, and q = t − B. No
 * floorf and no conversion back to float; a zero offset costs no subtraction.
 */
export function quantizeInput(q: Pick<QuantizedModel, 'wrapper' | 'actBits'>, x: ArrayLike<number>): number[] {
  const { inOffset, inK, inC, inBias, dMin, dMax } = q.wrapper;
  return inOffset.map((off, i) => {
    let v = f32(x[i]);
    if (!(v >= dMin[i])) v = dMin[i];
    if (v > dMax[i]) v = dMax[i];
    const t = f32(f32(f32(v - off) * inK[i]) + inC);
    return saturate(Math.trunc(t) - inBias, minOf(q.actBits), maxOf(q.actBits));
  });
}

/**
 * Where the float32 output u(q) = offset + q·k (k > 0, so u is non-decreasing in q)
 * leaves the actuator box, by bisection over the int16 outputs: uQlo is the
 * smallest q with u(q) ≥ uMin (32,768 when there is none), uQhi the largest
 * with u(q) ≤ uMax (−32,769 when there is none).
 */
function outputThresholds(w: { outOffset: number[]; outK: number[]; uMin: number[]; uMax: number[] }): { uQlo: number[]; uQhi: number[] } {
  const u = (q: number, j: number) => f32(w.outOffset[j] + f32(q * w.outK[j]));
  // smallest q in [lo, hi + 1] with pred(q) (pred non-decreasing; hi + 1 when none)
  const first = (pred: (q: number) => boolean, lo: number, hi: number) => {
    let a = lo,
      b = hi + 1;
    while (a < b) {
      const m = Math.floor((a + b) / 2);
      if (pred(m)) b = m;
      else a = m + 1;
    }
    return a;
  };
  return {
    uQlo: w.outOffset.map((_, j) => first((q) => u(q, j) >= w.uMin[j], -32768, 32767)),
    uQhi: w.outOffset.map((_, j) => first((q) => u(q, j) > w.uMax[j], -32768, 32767) - 1),
  };
}

/** The smallest power of two B ≥ 2 for which the wrapper's t = (d − off)·k + 0.5 + B is ≥ 1 at every domain edge (and below 2^24). */
function inputBias(w: { inOffset: number[]; inK: number[]; dMin: number[]; dMax: number[] }): number {
  for (let B = 2; B <= 2 ** 22; B *= 2) {
    const C = f32(0.5 + B);
    const t = (d: number, i: number) => f32(f32(f32(d - w.inOffset[i]) * w.inK[i]) + C);
    if (w.dMin.every((d, i) => t(d, i) >= 1 && t(w.dMax[i], i) < 2 ** 24)) return B;
  }
  throw new QuantizationError('input quantisation: the domain is too wide for the float wrapper (|(x − offset)·k| ≥ 2^22)');
}

/** A row's output from its accumulator (non-decreasing in acc, so intervals map by their ends). */
function activate(L: QLayer, acc: number, s: number, tanh: TanhTable | null): number {
  if (L.act === 'tanh') return tanhRow(tanh!, acc, s);
  const z = rshiftRound(acc, s);
  return L.act === 'relu' ? saturate(z, 0, L.outMax) : saturate(z, L.outMin, L.outMax);
}

/** Run one quantised layer on integer inputs; returns outputs (and pre-activation z for tanh). */
export function runLayer(L: QLayer, a: ArrayLike<number>, tanh: TanhTable | null): number[] {
  const out: number[] = [];
  for (let i = 0; i < L.nout; i++) {
    let acc = L.B[i];
    for (let j = 0; j < L.nin; j++) acc += L.W[i * L.nin + j] * a[j];
    out.push(activate(L, acc, L.shift[i], tanh));
  }
  return out;
}

/** Interval of a monotone layer map over integer input intervals (exact for the accumulator). */
function layerIntervals(L: QLayer, ins: Interval[], tanh: TanhTable | null): { acc: Interval[]; bound: number; out: Interval[] } {
  const acc: Interval[] = [];
  const out: Interval[] = [];
  let bound = 0;
  for (let i = 0; i < L.nout; i++) {
    let lo = L.B[i],
      hi = L.B[i],
      partial = Math.abs(L.B[i]);
    for (let j = 0; j < L.nin; j++) {
      const w = L.W[i * L.nin + j];
      const p1 = w * ins[j][0],
        p2 = w * ins[j][1];
      lo += Math.min(p1, p2);
      hi += Math.max(p1, p2);
      partial += Math.max(Math.abs(p1), Math.abs(p2));
    }
    const s = L.shift[i];
    const round = s > 0 ? Math.pow(2, s - 1) : 0;
    bound = Math.max(bound, partial + round);
    acc.push([lo, hi]);
    out.push([activate(L, lo, s, tanh), activate(L, hi, s, tanh)]);
  }
  return { acc, bound, out };
}

export class QuantizationError extends Error {}

export function quantizeModel(model: PolicyModel, opts: QuantOptions): QuantizedModel {
  const fold = foldScales(model, opts.variant);
  const fm = fold.model;
  // The hash names the model as given, not its folded form.
  const how = { hardtanh: fold.hardtanh, outScale: fold.outScale, modelHash: modelHash(model) };
  const ranges = analyseRanges(fm, { splits: opts.splits ?? 8 });
  const rounding = opts.rounding ?? 'best';
  if (rounding === 'nearest') return quantizeWith(fm, opts, ranges, null, false, how).q;
  const states = calibrationStates(model.input.domain.min, model.input.domain.max);
  const fb = quantizeWith(fm, opts, ranges, states, true, how);
  if (rounding === 'feedback') return fb.q;
  // Error feedback usually errs less; where it does not (activation and table error dominate), nearest is kept.
  const nr = quantizeWith(fm, opts, ranges, states, false, how);
  if (fb.q.quantHash === nr.q.quantHash) return nr.q;
  // Both against the float network as given (normalised outputs) at the calibration states, where each
  // quantisation pass already ran its integer network, and scored as the verdict scores them (reference.ts
  // fixedPointError): a saturating network's outputs after the clamp, since what lies beyond it is never
  // applied. (Raw, the two carts' int8 network kept error feedback at 77 % of the range where rounding to
  // nearest erred 64 %.)
  const float = policyFunction(model, { clampOutput: false, clampInput: true });
  const sat = outputClamp(model);
  const want = states.map((x) => float(x).map((u, j) => sat((u - model.output.offset[j]) / model.output.scale[j], j)));
  return calibrationError(fb.q, fb.out!, want, sat) <= calibrationError(nr.q, nr.out!, want, sat) ? fb.q : nr.q;
}

/**
 * A normalised output y_j as applied: clamped to the actuator bounds for a saturating network (one
 * trained as the clamped policy), as it is.
 */
export function outputClamp(model: PolicyModel): (y: number, j: number) => number {
  const { offset, scale, bounds, saturating } = model.output;
  if (!saturating) return (y) => y;
  const lo = bounds.min.map((b, j) => (b - offset[j]) / scale[j]),
    hi = bounds.max.map((b, j) => (b - offset[j]) / scale[j]);
  return (y, j) => Math.min(hi[j], Math.max(lo[j], y));
}

/** Sum of squares of a quantised network's outputs at the calibration states against the float network's, both as applied. */
function calibrationError(q: QuantizedModel, out: number[][], want: ArrayLike<number>[], sat: (y: number, j: number) => number): number {
  let s = 0;
  out.forEach((a, k) => a.forEach((v, j) => (s += (sat(v * q.outLsb[j], j) - want[k][j]) ** 2)));
  return s;
}

/**
 * One quantisation of the (folded) float network: rounded with error feedback on the integer activations
 * that reach each layer at the calibration states, or to nearest; the integer network's outputs at those
 * states are returned too (null without states).
 */
function quantizeWith(
  model: PolicyModel,
  opts: QuantOptions,
  ranges: RangeReport,
  states: number[][] | null,
  feedback: boolean,
  how: { hardtanh: boolean; outScale: number[]; modelHash: string },
): { q: QuantizedModel; out: number[][] | null } {
  const rounding = feedback ? 'feedback' : 'nearest';
  const variant = opts.variant;
  const A = variantBits(variant);
  const WB: 8 | 16 = A;
  const maxA = maxOf(A),
    minA = minOf(A);
  const maxW = maxOf(WB);
  const tanh = model.network.activation === 'tanh' ? makeTanhTable(variant) : null;
  const nx = model.network.sizes[0];
  const nu = model.network.sizes[model.network.sizes.length - 1];

  // Inputs: the normalised domain in the largest format that holds it.
  const inMax = Math.max(...ranges.input.map(([lo, hi]) => Math.max(Math.abs(lo), Math.abs(hi))));
  const inFrac = fracFor(inMax, maxA, A - 1);
  const inputs = {
    inOffset: model.input.offset.map((v) => f32(v)),
    inK: model.input.scale.map((sc) => f32(Math.pow(2, inFrac) / sc)),
    dMin: model.input.domain.min.map((v) => f32(v)),
    dMax: model.input.domain.max.map((v) => f32(v)),
  };
  const inBias = inputBias(inputs);
  const wrapper = {
    inOffset: inputs.inOffset,
    inK: inputs.inK,
    inC: f32(0.5 + inBias),
    inBias,
    dMin: inputs.dMin,
    dMax: inputs.dMax,
    outOffset: model.output.offset.map((v) => f32(v)),
    outK: [] as number[],
    uMin: model.output.bounds.min.map((v) => f32(v)),
    uMax: model.output.bounds.max.map((v) => f32(v)),
    uQlo: [] as number[],
    uQhi: [] as number[],
  };
  const qin = { wrapper, actBits: A };
  const lo = quantizeInput(qin, model.input.domain.min);
  const hi = quantizeInput(qin, model.input.domain.max);
  const inRange: Interval[] = lo.map((l, i) => [Math.min(l, hi[i]), Math.max(l, hi[i])]);

  // Per-neuron weight scales when they gain at least a bit somewhere.
  const layersW = model.network.layers.map((L) => L.W.map((row) => Math.max(...row.map(Math.abs))));
  const gains = layersW.some((rows) => {
    const layerF = gridFrac(Math.max(...rows), variant);
    return rows.some((r) => gridFrac(r, variant) > layerF);
  });
  const perNeuron = opts.perNeuron === 'auto' || opts.perNeuron === undefined ? gains : opts.perNeuron;

  // The quantised network's own activations at the calibration states (error feedback rounds on them).
  let calib = states ? states.map((x) => quantizeInput(qin, x)) : null;
  const layers: QLayer[] = [];
  let fa = inFrac;
  let ins: Interval[] = inRange;
  const nLayers = model.network.layers.length;
  let outFracNet = 0;
  model.network.layers.forEach((Lf, l) => {
    const last = l === nLayers - 1;
    const act: ActKind = last ? 'linear' : model.network.activation;
    const nout = Lf.W.length,
      nin = Lf.W[0].length;
    const layerF = gridFrac(Math.max(...layersW[l]), variant);
    let wFrac = layersW[l].map((r) => (perNeuron ? gridFrac(r, variant) : layerF));
    // Output format of the layer.
    let outFrac: number, outMin: number, outMax: number;
    const post = ranges.layers[l].post;
    if (last) {
      const m = Math.max(...post.map(([a, b]) => Math.max(Math.abs(a), Math.abs(b))));
      outFrac = fracFor(m * 1.05, 32767, 30); // 5 % headroom over the float bound for quantisation error
      outMin = -32768;
      outMax = 32767;
      outFracNet = outFrac;
    } else if (act === 'tanh') {
      outFrac = tanh!.outFrac;
      outMin = minA;
      outMax = maxA;
    } else if (act === 'hardtanh') {
      // folded: c·h in Q(A−1), the whole range (codegen/fold.ts); else h in Q(A−2)
      outFrac = how.hardtanh ? A - 1 : A - 2;
      outMin = how.hardtanh ? minA + 1 : -Math.pow(2, A - 2);
      outMax = how.hardtanh ? maxA : Math.pow(2, A - 2);
    } else {
      const m = Math.max(...post.map(([, b]) => b));
      outFrac = fracFor(m, maxA, A - 1);
      outMin = 0;
      outMax = maxA;
    }
    const target = act === 'tanh' ? tanh!.fz : outFrac;
    // int16 weights times int16 activations would need int64 accumulators at full
    // weight precision; give up weight bits until the proven bound fits int32.
    const accLimit = 2147483647;
    let L: QLayer, iv: ReturnType<typeof layerIntervals>, need: number;
    // A layer whose weights are all on their grids (a quantisation-aware refit) rounds exactly either way.
    const onGrid = Lf.W.every((row, i) => row.every((w) => Number.isInteger(w * Math.pow(2, wFrac[i]))));
    const moments = feedback && calib && !onGrid ? inputMoments(calib, nin) : null;
    for (let attempt = 0; ; attempt++) {
      const W: number[] = [];
      const rows = Lf.W.map((row, i) =>
        roundRow(
          row.map((w) => w * Math.pow(2, wFrac[i])),
          moments,
          maxW,
        ),
      );
      rows.forEach((r) => W.push(...r.q));
      const B = Lf.b.map((b, i) => Math.round(b * Math.pow(2, wFrac[i] + fa) + rows[i].bias));
      const shift = wFrac.map((f) => f + fa - target);
      L = { nin, nout, act, W, wFrac, inFrac: fa, B, accBits: 32, accBound: 0, accRange: [], shift, outFrac, outMin, outMax, outRange: [] };
      iv = layerIntervals(L, ins, tanh);
      // Only the partial sums need proving: a negative shift (large weights into
      // tanh's fine input format) saturates at ±INT32_MAX, past every
      // activation's saturation, so it costs no weight bits (rshiftRound, shift32).
      need = iv.bound;
      if (need <= accLimit || attempt > 40) break;
      const bits = Math.ceil(Math.log2(need / accLimit));
      wFrac = wFrac.map((f) => f - bits);
    }
    if (Math.min(...L.shift) < -30)
      throw new QuantizationError(`layer ${l}: a weight row needs a left shift of ${-Math.min(...L.shift)} bits (more than 30); the weights are too large for fixed point`);
    L.accRange = iv.acc;
    L.accBound = iv.bound;
    // int16 needs the partial sums (with the rounding term) to fit.
    if (variant === 'int8' && iv.bound <= 32767) L.accBits = 16;
    else if (need <= 2147483647) L.accBits = 32;
    else if (need <= Number.MAX_SAFE_INTEGER) L.accBits = 64;
    else throw new QuantizationError(`layer ${l}: accumulator bound ${need} exceeds 2^53; the weights or ranges are too large for fixed point`);
    L.outRange = iv.out;
    layers.push(L);
    if (calib) calib = calib.map((a) => runLayer(L, a, tanh));
    ins = iv.out;
    fa = outFrac;
  });
  wrapper.outK = model.output.scale.map((sc) => f32(sc * Math.pow(2, -outFracNet)));
  Object.assign(wrapper, outputThresholds(wrapper));
  const sf = model.output.safetyFilter ? safetyFilter(modelPlant(model)) : null;
  const filter = sf ? filterFloat32(sf) : null;
  const quantHash = createHash('sha256')
    .update(JSON.stringify({ variant, inFrac, layers: layers.map((L) => [L.W, L.B, L.shift, L.act, L.accBits, L.outMin, L.outMax]), tanh: tanh?.values, wrapper, ...(filter ? { filter } : {}) }))
    .digest('hex');
  return {
    q: {
      variant,
      actBits: A,
      wBits: WB,
      perNeuron,
      rounding,
      nx,
      nu,
      inFrac,
      inRange,
      layers,
      tanh,
      outFrac: outFracNet,
      outLsb: how.outScale.map((d) => Math.pow(2, -outFracNet) / d),
      wrapper,
      filter,
      modelHash: how.modelHash,
      quantHash,
      ranges,
    },
    out: calib,
  };
}
