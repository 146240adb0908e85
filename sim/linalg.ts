/**
 * Small dense linear algebra on row-major Float64Arrays.
 *
 * sim/ works with matrices of at most a few hundred rows (condensed MPC QPs,
 * plant models), so plain O(n^3) kernels are right here. The trainer keeps its
 * own blocked kernels for the hot loops (trainer/kernels.ts).
 */

/** A dense row-major matrix. */
export interface Mat {
  readonly rows: number;
  readonly cols: number;
  readonly data: Float64Array;
}

export function zeros(rows: number, cols: number): Mat {
  return { rows, cols, data: new Float64Array(rows * cols) };
}

export function eye(n: number): Mat {
  const m = zeros(n, n);
  for (let i = 0; i < n; i++) m.data[i * n + i] = 1;
  return m;
}

export function fromRows(rows: readonly (readonly number[])[], cols?: number): Mat {
  const r = rows.length;
  const c = cols ?? (r > 0 ? rows[0].length : 0);
  const m = zeros(r, c);
  for (let i = 0; i < r; i++) {
    if (rows[i].length !== c) throw new Error(`row ${i} has ${rows[i].length} entries, expected ${c}`);
    for (let j = 0; j < c; j++) m.data[i * c + j] = rows[i][j];
  }
  return m;
}

export function toRows(m: Mat): number[][] {
  const out: number[][] = [];
  for (let i = 0; i < m.rows; i++) out.push(Array.from(m.data.subarray(i * m.cols, (i + 1) * m.cols)));
  return out;
}

export function clone(m: Mat): Mat {
  return { rows: m.rows, cols: m.cols, data: Float64Array.from(m.data) };
}

export function get(m: Mat, i: number, j: number): number {
  return m.data[i * m.cols + j];
}

export function diag(values: readonly number[]): Mat {
  const n = values.length;
  const m = zeros(n, n);
  for (let i = 0; i < n; i++) m.data[i * n + i] = values[i];
  return m;
}

export function transpose(a: Mat): Mat {
  const t = zeros(a.cols, a.rows);
  for (let i = 0; i < a.rows; i++) for (let j = 0; j < a.cols; j++) t.data[j * a.rows + i] = a.data[i * a.cols + j];
  return t;
}

export function matmul(a: Mat, b: Mat): Mat {
  if (a.cols !== b.rows) throw new Error(`matmul: ${a.rows}x${a.cols} times ${b.rows}x${b.cols}`);
  const c = zeros(a.rows, b.cols);
  const n = b.cols;
  for (let i = 0; i < a.rows; i++) {
    const ci = i * n;
    for (let k = 0; k < a.cols; k++) {
      const aik = a.data[i * a.cols + k];
      if (aik === 0) continue;
      const bk = k * n;
      for (let j = 0; j < n; j++) c.data[ci + j] += aik * b.data[bk + j];
    }
  }
  return c;
}

/** y = A x */
export function matvec(a: Mat, x: ArrayLike<number>, out?: Float64Array): Float64Array {
  if (x.length !== a.cols) throw new Error(`matvec: ${a.rows}x${a.cols} times vector of ${x.length}`);
  const y = out ?? new Float64Array(a.rows);
  for (let i = 0; i < a.rows; i++) {
    let s = 0;
    const o = i * a.cols;
    for (let j = 0; j < a.cols; j++) s += a.data[o + j] * x[j];
    y[i] = s;
  }
  return y;
}

/** y = A^T x */
export function matTvec(a: Mat, x: ArrayLike<number>, out?: Float64Array): Float64Array {
  if (x.length !== a.rows) throw new Error(`matTvec: (${a.rows}x${a.cols})^T times vector of ${x.length}`);
  const y = out ?? new Float64Array(a.cols);
  y.fill(0);
  for (let i = 0; i < a.rows; i++) {
    const xi = x[i];
    if (xi === 0) continue;
    const o = i * a.cols;
    for (let j = 0; j < a.cols; j++) y[j] += a.data[o + j] * xi;
  }
  return y;
}

export function add(a: Mat, b: Mat): Mat {
  if (a.rows !== b.rows || a.cols !== b.cols) throw new Error('add: shape mismatch');
  const c = clone(a);
  for (let i = 0; i < c.data.length; i++) c.data[i] += b.data[i];
  return c;
}

export function sub(a: Mat, b: Mat): Mat {
  if (a.rows !== b.rows || a.cols !== b.cols) throw new Error('sub: shape mismatch');
  const c = clone(a);
  for (let i = 0; i < c.data.length; i++) c.data[i] -= b.data[i];
  return c;
}

export function scale(a: Mat, s: number): Mat {
  const c = clone(a);
  for (let i = 0; i < c.data.length; i++) c.data[i] *= s;
  return c;
}

/** Symmetrise in place: (A + A^T)/2. */
export function symmetrize(a: Mat): Mat {
  const n = a.rows;
  for (let i = 0; i < n; i++)
    for (let j = i + 1; j < n; j++) {
      const v = 0.5 * (a.data[i * n + j] + a.data[j * n + i]);
      a.data[i * n + j] = v;
      a.data[j * n + i] = v;
    }
  return a;
}

export function normInf(a: Mat): number {
  let best = 0;
  for (let i = 0; i < a.rows; i++) {
    let s = 0;
    for (let j = 0; j < a.cols; j++) s += Math.abs(a.data[i * a.cols + j]);
    if (s > best) best = s;
  }
  return best;
}

export function norm1(a: Mat): number {
  return normInf(transpose(a));
}

export function maxAbs(a: Mat | ArrayLike<number>): number {
  const d = 'data' in a ? a.data : a;
  let m = 0;
  for (let i = 0; i < d.length; i++) {
    const v = Math.abs(d[i]);
    if (v > m) m = v;
  }
  return m;
}

export function vecNormInf(x: ArrayLike<number>): number {
  return maxAbs(x);
}

export function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

/**
 * LU factorisation with partial pivoting, in place on a copy.
 * Returns null when the matrix is singular to working precision.
 */
export interface LU {
  lu: Mat;
  piv: Int32Array;
}

export function luFactor(a: Mat): LU | null {
  if (a.rows !== a.cols) throw new Error('luFactor: matrix is not square');
  const n = a.rows;
  const lu = clone(a);
  const d = lu.data;
  const piv = new Int32Array(n);
  const scaleRef = Math.max(maxAbs(a), Number.MIN_VALUE);
  for (let k = 0; k < n; k++) {
    let p = k;
    let best = Math.abs(d[k * n + k]);
    for (let i = k + 1; i < n; i++) {
      const v = Math.abs(d[i * n + k]);
      if (v > best) {
        best = v;
        p = i;
      }
    }
    piv[k] = p;
    if (best <= scaleRef * 1e-15 * n) return null;
    if (p !== k) {
      for (let j = 0; j < n; j++) {
        const t = d[k * n + j];
        d[k * n + j] = d[p * n + j];
        d[p * n + j] = t;
      }
    }
    const pivot = d[k * n + k];
    for (let i = k + 1; i < n; i++) {
      const f = (d[i * n + k] /= pivot);
      if (f === 0) continue;
      for (let j = k + 1; j < n; j++) d[i * n + j] -= f * d[k * n + j];
    }
  }
  return { lu, piv };
}

/** Solve A X = B given the LU factors of A. B may have several columns. */
export function luSolve(f: LU, b: Mat): Mat {
  const n = f.lu.rows;
  if (b.rows !== n) throw new Error('luSolve: dimension mismatch');
  const x = clone(b);
  const m = b.cols;
  const d = f.lu.data;
  const xd = x.data;
  for (let k = 0; k < n; k++) {
    const p = f.piv[k];
    if (p !== k)
      for (let j = 0; j < m; j++) {
        const t = xd[k * m + j];
        xd[k * m + j] = xd[p * m + j];
        xd[p * m + j] = t;
      }
  }
  for (let i = 0; i < n; i++)
    for (let k = 0; k < i; k++) {
      const l = d[i * n + k];
      if (l !== 0) for (let j = 0; j < m; j++) xd[i * m + j] -= l * xd[k * m + j];
    }
  for (let i = n - 1; i >= 0; i--) {
    for (let k = i + 1; k < n; k++) {
      const u = d[i * n + k];
      if (u !== 0) for (let j = 0; j < m; j++) xd[i * m + j] -= u * xd[k * m + j];
    }
    const piv = d[i * n + i];
    for (let j = 0; j < m; j++) xd[i * m + j] /= piv;
  }
  return x;
}

/** Solve A X = B; throws when A is singular. */
export function solve(a: Mat, b: Mat): Mat {
  const f = luFactor(a);
  if (!f) throw new Error('solve: matrix is singular to working precision');
  return luSolve(f, b);
}

export function inverse(a: Mat): Mat {
  return solve(a, eye(a.rows));
}

/**
 * Cholesky factor L (lower triangular, A = L L^T) of a symmetric matrix.
 * Returns null when A is not positive definite to working precision
 * (a pivot below `relTol * max|diag(A)|`).
 */
export function cholesky(a: Mat, relTol = 1e-14): Mat | null {
  const n = a.rows;
  const l = zeros(n, n);
  const A = a.data;
  const L = l.data;
  let dmax = 0;
  for (let i = 0; i < n; i++) dmax = Math.max(dmax, Math.abs(A[i * n + i]));
  const tol = relTol * Math.max(dmax, Number.MIN_VALUE);
  for (let j = 0; j < n; j++) {
    let s = A[j * n + j];
    for (let k = 0; k < j; k++) s -= L[j * n + k] * L[j * n + k];
    if (!(s > tol)) return null;
    const ljj = Math.sqrt(s);
    L[j * n + j] = ljj;
    for (let i = j + 1; i < n; i++) {
      let t = A[i * n + j];
      for (let k = 0; k < j; k++) t -= L[i * n + k] * L[j * n + k];
      L[i * n + j] = t / ljj;
    }
  }
  return l;
}

/** Solve L L^T x = b in place for a Cholesky factor L. */
export function cholSolveVec(l: Mat, b: Float64Array): Float64Array {
  const n = l.rows;
  const L = l.data;
  for (let i = 0; i < n; i++) {
    let s = b[i];
    for (let k = 0; k < i; k++) s -= L[i * n + k] * b[k];
    b[i] = s / L[i * n + i];
  }
  for (let i = n - 1; i >= 0; i--) {
    let s = b[i];
    for (let k = i + 1; k < n; k++) s -= L[k * n + i] * b[k];
    b[i] = s / L[i * n + i];
  }
  return b;
}

/** Inverse of a lower-triangular matrix. */
export function lowerTriInverse(l: Mat): Mat {
  const n = l.rows;
  const inv = zeros(n, n);
  const L = l.data;
  const X = inv.data;
  for (let j = 0; j < n; j++) {
    X[j * n + j] = 1 / L[j * n + j];
    for (let i = j + 1; i < n; i++) {
      let s = 0;
      for (let k = j; k < i; k++) s -= L[i * n + k] * X[k * n + j];
      X[i * n + j] = s / L[i * n + i];
    }
  }
  return inv;
}

/** Kronecker-free block helpers used by the MPC condensing. */
export function setBlock(dst: Mat, r0: number, c0: number, src: Mat): void {
  for (let i = 0; i < src.rows; i++) for (let j = 0; j < src.cols; j++) dst.data[(r0 + i) * dst.cols + c0 + j] = src.data[i * src.cols + j];
}

export function getBlock(src: Mat, r0: number, c0: number, rows: number, cols: number): Mat {
  const m = zeros(rows, cols);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) m.data[i * cols + j] = src.data[(r0 + i) * src.cols + c0 + j];
  return m;
}

export function isSymmetric(a: Mat, tol = 1e-12): boolean {
  if (a.rows !== a.cols) return false;
  const n = a.rows;
  const s = Math.max(maxAbs(a), 1);
  for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) if (Math.abs(a.data[i * n + j] - a.data[j * n + i]) > tol * s) return false;
  return true;
}

/** Spectral radius bound check helper: true when all |eig(A)| < 1, by power of A. */
export function matPow(a: Mat, k: number): Mat {
  let result = eye(a.rows);
  let base = clone(a);
  let e = k;
  while (e > 0) {
    if (e & 1) result = matmul(result, base);
    base = matmul(base, base);
    e >>= 1;
  }
  return result;
}
