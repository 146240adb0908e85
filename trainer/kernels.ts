/**
 * Float64Array kernels for the trainer's hot loops.
 *
 * syrkLower: C += α X Xᵀ on the lower triangle, where the rows of X are
 *   contiguous; a 4×4 register block does 16 multiply-adds per 8 loads.
 *   It serves both the Gauss–Newton assembly (X = a panel of Jacobian columns,
 *   transposed so each parameter's column is contiguous) and the trailing
 *   update of the blocked Cholesky.
 * choleskyBlocked: right-looking blocked LLᵀ (diagonal block, triangular solve
 *   of the panel, SYRK update of the trailing matrix).
 * These measured 3–8× faster than ml-matrix here; ml-matrix stays the oracle
 * in the tests.
 */

/**
 * C[c0+i][c0+j] += α Σ_{r<len} X[xBase + i·ldx + r] · X[xBase + j·ldx + r]   for 0 ≤ j ≤ i < n.
 */
export function syrkLower(C: Float64Array, ldc: number, c0: number, n: number, X: Float64Array, xBase: number, ldx: number, len: number, alpha: number): void {
  let i = 0;
  for (; i + 3 < n; i += 4) {
    const xi0 = xBase + i * ldx,
      xi1 = xi0 + ldx,
      xi2 = xi1 + ldx,
      xi3 = xi2 + ldx;
    let j = 0;
    for (; j + 3 <= i; j += 4) {
      const xj0 = xBase + j * ldx,
        xj1 = xj0 + ldx,
        xj2 = xj1 + ldx,
        xj3 = xj2 + ldx;
      let s00 = 0,
        s01 = 0,
        s02 = 0,
        s03 = 0;
      let s10 = 0,
        s11 = 0,
        s12 = 0,
        s13 = 0;
      let s20 = 0,
        s21 = 0,
        s22 = 0,
        s23 = 0;
      let s30 = 0,
        s31 = 0,
        s32 = 0,
        s33 = 0;
      for (let r = 0; r < len; r++) {
        const a0 = X[xi0 + r],
          a1 = X[xi1 + r],
          a2 = X[xi2 + r],
          a3 = X[xi3 + r];
        const b0 = X[xj0 + r],
          b1 = X[xj1 + r],
          b2 = X[xj2 + r],
          b3 = X[xj3 + r];
        s00 += a0 * b0;
        s01 += a0 * b1;
        s02 += a0 * b2;
        s03 += a0 * b3;
        s10 += a1 * b0;
        s11 += a1 * b1;
        s12 += a1 * b2;
        s13 += a1 * b3;
        s20 += a2 * b0;
        s21 += a2 * b1;
        s22 += a2 * b2;
        s23 += a2 * b3;
        s30 += a3 * b0;
        s31 += a3 * b1;
        s32 += a3 * b2;
        s33 += a3 * b3;
      }
      const c = (c0 + i) * ldc + c0 + j;
      C[c] += alpha * s00;
      C[c + 1] += alpha * s01;
      C[c + 2] += alpha * s02;
      C[c + 3] += alpha * s03;
      C[c + ldc] += alpha * s10;
      C[c + ldc + 1] += alpha * s11;
      C[c + ldc + 2] += alpha * s12;
      C[c + ldc + 3] += alpha * s13;
      C[c + 2 * ldc] += alpha * s20;
      C[c + 2 * ldc + 1] += alpha * s21;
      C[c + 2 * ldc + 2] += alpha * s22;
      C[c + 2 * ldc + 3] += alpha * s23;
      C[c + 3 * ldc] += alpha * s30;
      C[c + 3 * ldc + 1] += alpha * s31;
      C[c + 3 * ldc + 2] += alpha * s32;
      C[c + 3 * ldc + 3] += alpha * s33;
    }
    // the diagonal 4×4 block's lower triangle, by dot products
    for (let ii = i; ii < i + 4; ii++) for (let jj = j; jj <= ii; jj++) C[(c0 + ii) * ldc + c0 + jj] += alpha * dotRows(X, xBase + ii * ldx, xBase + jj * ldx, len);
  }
  for (; i < n; i++) for (let j = 0; j <= i; j++) C[(c0 + i) * ldc + c0 + j] += alpha * dotRows(X, xBase + i * ldx, xBase + j * ldx, len);
}

function dotRows(X: Float64Array, a: number, b: number, len: number): number {
  let s0 = 0,
    s1 = 0,
    s2 = 0,
    s3 = 0;
  let r = 0;
  for (; r + 3 < len; r += 4) {
    s0 += X[a + r] * X[b + r];
    s1 += X[a + r + 1] * X[b + r + 1];
    s2 += X[a + r + 2] * X[b + r + 2];
    s3 += X[a + r + 3] * X[b + r + 3];
  }
  for (; r < len; r++) s0 += X[a + r] * X[b + r];
  return s0 + s1 + s2 + s3;
}

/** Copy the lower triangle onto the upper one. */
export function mirrorLower(C: Float64Array, n: number): void {
  for (let i = 0; i < n; i++) for (let j = 0; j < i; j++) C[j * n + i] = C[i * n + j];
}

/**
 * In-place blocked Cholesky of a symmetric positive definite n×n matrix
 * (row-major; the lower triangle is read and overwritten with L, the strict
 * upper triangle is zeroed). Returns false if a pivot is not positive.
 */
export function choleskyBlocked(A: Float64Array, n: number, nb = 48): boolean {
  for (let k0 = 0; k0 < n; k0 += nb) {
    const kb = Math.min(nb, n - k0);
    // 1. unblocked factorisation of the diagonal block
    for (let j = k0; j < k0 + kb; j++) {
      let s = A[j * n + j];
      for (let k = k0; k < j; k++) s -= A[j * n + k] * A[j * n + k];
      if (!(s > 0)) return false;
      const ljj = Math.sqrt(s);
      A[j * n + j] = ljj;
      for (let i = j + 1; i < k0 + kb; i++) {
        let t = A[i * n + j];
        for (let k = k0; k < j; k++) t -= A[i * n + k] * A[j * n + k];
        A[i * n + j] = t / ljj;
      }
    }
    // 2. panel below: L21 = A21 L11⁻ᵀ (row by row forward substitution)
    for (let i = k0 + kb; i < n; i++) {
      const ri = i * n;
      for (let j = k0; j < k0 + kb; j++) {
        let t = A[ri + j];
        const rj = j * n;
        for (let k = k0; k < j; k++) t -= A[ri + k] * A[rj + k];
        A[ri + j] = t / A[rj + j];
      }
    }
    // 3. trailing update A22 -= L21 L21ᵀ (lower triangle)
    const rest = n - k0 - kb;
    if (rest > 0) syrkLower(A, n, k0 + kb, rest, A, (k0 + kb) * n + k0, n, kb, -1);
  }
  for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) A[i * n + j] = 0;
  return true;
}

/** Solve L Lᵀ x = b in place (L lower, row-major n×n). */
export function choleskySolve(L: Float64Array, n: number, b: Float64Array): Float64Array {
  for (let i = 0; i < n; i++) {
    let s = b[i];
    const ri = i * n;
    for (let k = 0; k < i; k++) s -= L[ri + k] * b[k];
    b[i] = s / L[ri + i];
  }
  for (let i = n - 1; i >= 0; i--) {
    let s = b[i];
    for (let k = i + 1; k < n; k++) s -= L[k * n + i] * b[k];
    b[i] = s / L[i * n + i];
  }
  return b;
}

/** y = A x for a dense symmetric (full) n×n matrix. */
export function symv(A: Float64Array, n: number, x: Float64Array, y: Float64Array): Float64Array {
  for (let i = 0; i < n; i++) {
    let s = 0;
    const ri = i * n;
    for (let j = 0; j < n; j++) s += A[ri + j] * x[j];
    y[i] = s;
  }
  return y;
}

export function dot(a: ArrayLike<number>, b: ArrayLike<number>, n = a.length): number {
  let s = 0;
  for (let i = 0; i < n; i++) s += a[i] * b[i];
  return s;
}

export function normInf(a: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    const v = Math.abs(a[i]);
    if (v > m) m = v;
  }
  return m;
}
