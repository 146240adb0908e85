/** Typed arrays backed by SharedArrayBuffer, so worker threads see the same memory. */
export function sharedF64(n: number): Float64Array {
  return new Float64Array(new SharedArrayBuffer(Math.max(1, n) * 8)).subarray(0, n);
}

export function sharedI32(n: number): Int32Array {
  return new Int32Array(new SharedArrayBuffer(Math.max(1, n) * 4)).subarray(0, n);
}

export function toSharedF64(a: ArrayLike<number>): Float64Array {
  const s = sharedF64(a.length);
  s.set(a);
  return s;
}

export function toSharedI32(a: ArrayLike<number>): Int32Array {
  const s = sharedI32(a.length);
  s.set(a);
  return s;
}
