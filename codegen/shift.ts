/** The integer shift everything but the int16 tanh shares (codegen/quantize.ts, codegen/tanh.ts). */
const INT32_MAX = 2147483647;

/** Round half up then arithmetic shift; negative s multiplies, saturating at ±INT32_MAX. */
export function rshiftRound(v: number, s: number): number {
  if (s > 0) return Math.floor((v + Math.pow(2, s - 1)) / Math.pow(2, s));
  if (s < 0) {
    // A negative shift multiplies and saturates at ±INT32_MAX, as the C's shift32
    // does: that far out every activation and the output clamp are saturated.
    const z = v * Math.pow(2, -s);
    return z > INT32_MAX ? INT32_MAX : z < -INT32_MAX ? -INT32_MAX : z;
  }
  return v;
}
