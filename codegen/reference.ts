/**
 * The bit-exact reference: the integer arithmetic the generated C performs,
 * in TypeScript. Integers stay below 2^53, so JS numbers are exact; float32
 * steps of the wrapper use Math.fround, exactly as the C's float operations.
 */
import { applySafetyFilter } from '../sim/index.js';
import { policyFunction, type PolicyModel } from '../trainer/index.js';
import { outputClamp, quantizeInput, runLayer, saturate, type QuantizedModel } from './quantize.js';

const f32 = Math.fround;

/** ultro_policy_q: quantised inputs → quantised outputs (int16, Q(outFrac)). */
export function policyQ(q: QuantizedModel, xq: ArrayLike<number>): number[] {
  // The overflow proof covers the quantised domain: clamp to it first (as the C does).
  let a: ArrayLike<number> = Array.from(xq, (v, i) => saturate(v, q.inRange[i][0], q.inRange[i][1]));
  for (const L of q.layers) a = runLayer(L, a, q.tanh);
  return Array.from(a);
}

/** ultro_policy_dequantize: float32 u = offset + y·k, clamped to the actuator box. */
export function dequantize(q: QuantizedModel, yq: ArrayLike<number>): number[] {
  const { outOffset, outK, uMin, uMax } = q.wrapper;
  return outOffset.map((off, j) => {
    let u = f32(off + f32(yq[j] * outK[j]));
    if (u < uMin[j]) u = uMin[j];
    if (u > uMax[j]) u = uMax[j];
    return u;
  });
}

/**
 * ultro_policy: the whole float32 path, with the intermediate integers, the
 * dequantised control before the safety filter (uBox) and whether the filter
 * moved it (always false without a filter).
 */
export function policyFloat32(q: QuantizedModel, x: ArrayLike<number>): { xq: number[]; uq: number[]; uBox: number[]; u: number[]; filtered: boolean } {
  const xq = quantizeInput(q, x);
  const uq = policyQ(q, xq);
  const uBox = dequantize(q, uq);
  const u = uBox.slice();
  const filtered = q.filter ? applySafetyFilter(q.filter, x, u, f32) : false;
  return { xq, uq, uBox, u, filtered };
}

export interface ErrorStats {
  states: number;
  /** Per output, as a fraction of that actuator's full range (max − min): RMS and largest error. */
  rmsOfRange: number[];
  maxOfRange: number[];
  /** In output LSBs (QuantizedModel.outLsb). */
  maxLsb: number;
  rmsLsb: number;
  /** In actuator units (after dequantisation, before the actuator clamp). */
  maxActuator: number;
  rmsActuator: number;
}

/**
 * Fixed-point vs float error over a set of states: the raw network outputs, no actuator clamp on either
 * side; for a saturating network (trained as the clamped policy) both clamped to the actuator box, as
 * only that reaches the plant.
 */
export function fixedPointError(q: QuantizedModel, model: PolicyModel, X: ArrayLike<number>, nx: number): ErrorStats {
  const float = policyFunction(model, { clampOutput: false, clampInput: true });
  const n = X.length / nx;
  let maxL = 0,
    sumL = 0,
    maxU = 0,
    sumU = 0;
  const lsb = q.outLsb;
  const { offset, scale } = model.output;
  const sat = outputClamp(model);
  const sumJ = new Array<number>(q.nu).fill(0),
    maxJ = new Array<number>(q.nu).fill(0);
  for (let k = 0; k < n; k++) {
    const x = Array.from({ length: nx }, (_, i) => X[k * nx + i]);
    const uf = float(x);
    const uq = policyQ(q, quantizeInput(q, x));
    for (let j = 0; j < q.nu; j++) {
      const yf = sat((uf[j] - offset[j]) / scale[j], j);
      const yq = sat(uq[j] * lsb[j], j);
      const el = Math.abs(yq - yf) / lsb[j];
      const eu = Math.abs(yq - yf) * scale[j];
      maxL = Math.max(maxL, el);
      maxU = Math.max(maxU, eu);
      sumL += el * el;
      sumU += eu * eu;
      sumJ[j] += eu * eu;
      maxJ[j] = Math.max(maxJ[j], eu);
    }
  }
  const m = n * q.nu;
  const range = model.output.bounds.max.map((hi, j) => hi - model.output.bounds.min[j]);
  return {
    states: n,
    maxLsb: maxL,
    rmsLsb: Math.sqrt(sumL / m),
    maxActuator: maxU,
    rmsActuator: Math.sqrt(sumU / m),
    rmsOfRange: sumJ.map((v, j) => Math.sqrt(v / n) / range[j]),
    maxOfRange: maxJ.map((v, j) => v / range[j]),
  };
}

/**
 * Largest RMS fixed-point error of any output, as a fraction of that
 * actuator's full range, above which the generated policy is not the trained
 * one: `ultro codegen` refuses it (exit 2) unless --force, and `ultro train
 * --qat auto` trains again with bounded weight norms (trainer/int8-bound.ts)
 * or moves to int16. RMS rather than the maximum: a quantised network
 * always differs most right on the teacher's switching surfaces, where the
 * double integrator's int8 policy errs by 8 % of the range at a handful of
 * states while its RMS error is 1 %.
 */
export const FIXED_POINT_TOLERANCE = 0.02;

/** The worst output's RMS error as a fraction of its range, and whether it is within FIXED_POINT_TOLERANCE. */
export function fixedPointVerdict(e: ErrorStats, tolerance = FIXED_POINT_TOLERANCE): { worst: number; output: number; ok: boolean } {
  let worst = 0,
    output = 0;
  e.rmsOfRange.forEach((v, j) => {
    if (!(v <= worst)) {
      worst = v;
      output = j;
    }
  });
  return { worst, output, ok: worst <= tolerance };
}
