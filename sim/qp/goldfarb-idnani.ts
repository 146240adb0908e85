/**
 * The Goldfarb–Idnani dual active-set method for strictly convex QPs:
 *
 *   minimise ½ xᵀGx + aᵀx   subject to   n_kᵀx = b_k (k ∈ E),  n_kᵀx ≥ b_k (k ∈ I)
 *
 * D. Goldfarb and A. Idnani, "A numerically stable dual method for solving
 * strictly convex quadratic programs", Math. Programming 27 (1983) 1–33.
 *
 * It starts at the unconstrained minimum and adds violated constraints one at
 * a time, keeping the multipliers of the working set non-negative (dual
 * feasibility). The factorisation is J = L⁻ᵀQ with G = LLᵀ and JᵀN = [R; 0],
 * updated by Givens rotations as constraints enter and leave. It terminates in
 * a finite number of steps with the exact optimum, or proves infeasibility when
 * a violated constraint admits neither a primal nor a dual step.
 *
 * "Proves" is taken literally: at that point the entering normal is (to
 * rounding) a combination n_p = Σ r_j n_j of the working set with every
 * inequality r_j ≤ 0, so y = (1 at p, −r_j on the working set) ≥ 0 has
 * Nᵀy ≈ 0, and yᵀb > 0 certifies that no x satisfies N x ≥ b (Farkas). The
 * certificate is checked with tolerances scaled to the data; a violation too
 * small for it to hold (rounding, not infeasibility) defers the constraint
 * instead, and the caller sees its small residual in the result.
 *
 * Warm start: the working set of a previous solve is factorised first, the
 * equality-constrained minimiser on it computed, and constraints with negative
 * multipliers dropped until the point is dual feasible, which is a valid state
 * of the method.
 */

export type GIStatus = 'solved' | 'infeasible' | 'max_iter';

export interface GIConstraints {
  /** Number of constraints. */
  count: number;
  /** Row-major count×n normals; equality rows may be negated in place by the solver. */
  N: Float64Array;
  /** Right-hand sides (same sign convention as N). */
  b: Float64Array;
  /** 1 for equality constraints. */
  isEq: Uint8Array;
  /**
   * Optional: per constraint, the index of another whose normal is exactly
   * −n_k (the two sides of one two-sided row), or −1. The scan for the most
   * violated constraint then computes n_kᵀx once for both: negating every
   * term of a sum negates the rounded sum exactly, so the answer is
   * bit-identical to computing each. Never set for equality rows (the solver
   * may negate those).
   */
  mirror?: Int32Array;
  /** Optional: the rows' nonzero pattern (giRowPattern of these N); computed on every solve when absent. */
  pattern?: GIRowPattern;
}

/**
 * Nonzero pattern of N in compressed-row form, and each row's largest |entry|
 * (its scale for the most-violated choice and the tolerances). The row
 * products skip exact zeros, which leaves every rounded sum unchanged for
 * finite x (adding ±0 changes nothing but the sign of a zero sum); in the
 * condensed MPC a predicted-state row is zero over the later stages' inputs.
 */
export interface GIRowPattern {
  rowPtr: Int32Array;
  col: Int32Array;
  scale: Float64Array;
}

export function giRowPattern(N: Float64Array, count: number, n: number): GIRowPattern {
  const rowPtr = new Int32Array(count + 1);
  let nnz = 0;
  for (let i = 0; i < count * n; i++) if (N[i] !== 0) nnz++;
  const col = new Int32Array(nnz);
  const scale = new Float64Array(count);
  let p = 0;
  for (let k = 0; k < count; k++) {
    let s = 0;
    for (let j = 0; j < n; j++) {
      const v = Math.abs(N[k * n + j]);
      if (v === 0) continue;
      if (v > s) s = v;
      col[p++] = j;
    }
    scale[k] = s;
    rowPtr[k + 1] = p;
  }
  return { rowPtr, col, scale };
}

/** J₀ = L⁻ᵀ for the Cholesky factor L of G (row-major n×n, upper triangular): the method's initial basis. */
export function initialBasis(L: Float64Array, n: number): Float64Array {
  const J0 = new Float64Array(n * n);
  const col = new Float64Array(n);
  for (let j = 0; j < n; j++) {
    // col = column j of L⁻¹ (forward substitution on e_j); (L⁻ᵀ)[j][i] = (L⁻¹)[i][j]
    col.fill(0);
    col[j] = 1 / L[j * n + j];
    for (let i = j + 1; i < n; i++) {
      let s = 0;
      for (let k = j; k < i; k++) s -= L[i * n + k] * col[k];
      col[i] = s / L[i * n + i];
    }
    for (let i = j; i < n; i++) J0[j * n + i] = col[i];
  }
  return J0;
}

export class GoldfarbIdnani {
  readonly n: number;
  private readonly J: Float64Array;
  private readonly R: Float64Array;
  private readonly d: Float64Array;
  private readonly z: Float64Array;
  private readonly r: Float64Array;
  private readonly tmp: Float64Array;
  private pattern: GIRowPattern = { rowPtr: new Int32Array(1), col: new Int32Array(0), scale: new Float64Array(0) };
  /** n_kᵀx of the current scan, for the mirror of k (valid where dotScan[k] is the scan's number). */
  private dot: Float64Array = new Float64Array(0);
  private dotScan: Int32Array = new Int32Array(0);
  private scan = 0;
  private isActive: Uint8Array = new Uint8Array(0);
  /** Constraints whose entry failed without an infeasibility certificate: not entered again in this solve. */
  private deferred: Uint8Array = new Uint8Array(0);
  private cons: GIConstraints = { count: 0, N: new Float64Array(0), b: new Float64Array(0), isEq: new Uint8Array(0) };
  private feasTol = 1e-11;
  readonly x: Float64Array;
  /** Working set (constraint indices) and multipliers, first `q` entries valid. */
  readonly act: Int32Array;
  readonly u: Float64Array;
  q = 0;
  iterations = 0;
  /** Set when an equality constraint was negated to be entered as "≥". */
  flipped: Uint8Array = new Uint8Array(0);

  /** @param J0 initialBasis(L) for G = LLᵀ; shared, never modified. */
  constructor(
    private readonly J0: Float64Array,
    n: number,
  ) {
    this.n = n;
    this.J = new Float64Array(n * n);
    this.R = new Float64Array(n * n);
    this.d = new Float64Array(n);
    this.z = new Float64Array(n);
    this.r = new Float64Array(n);
    this.tmp = new Float64Array(n);
    this.x = new Float64Array(n);
    this.act = new Int32Array(n);
    this.u = new Float64Array(n);
  }

  private bind(cons: GIConstraints, feasTol: number): void {
    this.cons = cons;
    this.feasTol = feasTol;
    if (this.isActive.length !== cons.count) {
      this.isActive = new Uint8Array(cons.count);
      this.deferred = new Uint8Array(cons.count);
      this.flipped = new Uint8Array(cons.count);
      this.dot = new Float64Array(cons.count);
      this.dotScan = new Int32Array(cons.count);
    } else {
      this.isActive.fill(0);
      this.deferred.fill(0);
      this.flipped.fill(0);
    }
    this.dotScan.fill(0);
    this.scan = 0;
    this.pattern = cons.pattern ?? giRowPattern(cons.N, cons.count, this.n);
  }

  /** n_kᵀ v */
  private ndot(k: number, v: Float64Array): number {
    const { N } = this.cons;
    const { rowPtr, col } = this.pattern;
    const o = k * this.n;
    const hi = rowPtr[k + 1];
    let s = 0;
    for (let p = rowPtr[k]; p < hi; p++) {
      const j = col[p];
      s += N[o + j] * v[j];
    }
    return s;
  }

  /** d = Jᵀ n_k */
  private computeD(k: number): void {
    const { n, J, d } = this;
    const N = this.cons.N;
    const o = k * n;
    d.fill(0);
    const { rowPtr, col } = this.pattern;
    const hi = rowPtr[k + 1];
    for (let p = rowPtr[k]; p < hi; p++) {
      const i = col[p];
      const ni = N[o + i];
      const row = i * n;
      for (let j = 0; j < n; j++) d[j] += J[row + j] * ni;
    }
  }

  /** z = J₂ d₂ (columns q..n-1), r = R⁻¹ d₁. */
  private computeZR(): void {
    const { n, J, d, z, r, R, q } = this;
    for (let i = 0; i < n; i++) {
      let s = 0;
      const row = i * n;
      for (let j = q; j < n; j++) s += J[row + j] * d[j];
      z[i] = s;
    }
    for (let i = q - 1; i >= 0; i--) {
      let s = d[i];
      for (let j = i + 1; j < q; j++) s -= R[i * n + j] * r[j];
      r[i] = s / R[i * n + i];
    }
  }

  /** Append the constraint whose d = Jᵀn is in this.d to the factorisation. */
  private addToFactor(k: number, mult: number): void {
    const { n, J, R, d } = this;
    const q = this.q;
    for (let j = n - 1; j > q; j--) {
      const dj = d[j];
      if (dj === 0) continue;
      const dj1 = d[j - 1];
      const h = Math.hypot(dj1, dj);
      const c = dj1 / h;
      const s = dj / h;
      d[j - 1] = h;
      d[j] = 0;
      for (let row = 0; row < n * n; row += n) {
        const a = J[row + j - 1];
        const b = J[row + j];
        J[row + j - 1] = c * a + s * b;
        J[row + j] = -s * a + c * b;
      }
    }
    for (let i = 0; i <= q; i++) R[i * n + q] = d[i];
    this.act[q] = k;
    this.u[q] = mult;
    this.isActive[k] = 1;
    this.q = q + 1;
  }

  /** Remove working-set entry at position l and restore R to triangular form. */
  private dropFromFactor(l: number): void {
    const { n, J, R, act, u } = this;
    const q = this.q;
    this.isActive[act[l]] = 0;
    for (let j = l; j < q - 1; j++) {
      act[j] = act[j + 1];
      u[j] = u[j + 1];
      for (let i = 0; i <= j + 1; i++) R[i * n + j] = R[i * n + j + 1];
    }
    for (let i = 0; i < n; i++) R[i * n + q - 1] = 0;
    for (let j = l; j < q - 1; j++) {
      const a0 = R[j * n + j];
      const b0 = R[(j + 1) * n + j];
      if (b0 === 0) continue;
      const h = Math.hypot(a0, b0);
      const c = a0 / h;
      const s = b0 / h;
      for (let k = j; k < q - 1; k++) {
        const a = R[j * n + k];
        const b = R[(j + 1) * n + k];
        R[j * n + k] = c * a + s * b;
        R[(j + 1) * n + k] = -s * a + c * b;
      }
      R[(j + 1) * n + j] = 0;
      for (let row = 0; row < n * n; row += n) {
        const a = J[row + j];
        const b = J[row + j + 1];
        J[row + j] = c * a + s * b;
        J[row + j + 1] = -s * a + c * b;
      }
    }
    this.q = q - 1;
  }

  /** Is d₂ (the part of Jᵀn outside the working set) numerically zero? */
  private dependent(): boolean {
    const { n, d, q } = this;
    let all = 0;
    let tail = 0;
    for (let j = 0; j < n; j++) all += d[j] * d[j];
    for (let j = q; j < n; j++) tail += d[j] * d[j];
    return tail <= 1e-26 * all || all === 0;
  }

  /** x = -J Jᵀ a: the unconstrained minimiser. */
  private unconstrained(a: Float64Array): void {
    const { n, J, x, tmp } = this;
    tmp.fill(0);
    for (let i = 0; i < n; i++) {
      const ai = a[i];
      if (ai === 0) continue;
      const row = i * n;
      for (let j = 0; j < n; j++) tmp[j] += J[row + j] * ai;
    }
    for (let i = 0; i < n; i++) {
      let s = 0;
      const row = i * n;
      for (let j = 0; j < n; j++) s += J[row + j] * tmp[j];
      x[i] = -s;
    }
  }

  /** Minimiser on the current working set: λ = R⁻¹R⁻ᵀ(b − Nᵀx₀), x = x₀ + J₁Rλ. */
  private workingSetPoint(a: Float64Array): void {
    const { n, J, R, q, act, u, x, tmp } = this;
    this.unconstrained(a);
    // w = b_W - N_Wᵀ x0
    const w = new Float64Array(q);
    for (let i = 0; i < q; i++) w[i] = this.cons.b[act[i]] - this.ndot(act[i], x);
    // solve Rᵀ v = w (forward), then R λ = v (backward)
    const v = new Float64Array(q);
    for (let i = 0; i < q; i++) {
      let s = w[i];
      for (let k = 0; k < i; k++) s -= R[k * n + i] * v[k];
      v[i] = s / R[i * n + i];
    }
    for (let i = q - 1; i >= 0; i--) {
      let s = v[i];
      for (let k = i + 1; k < q; k++) s -= R[i * n + k] * u[k];
      u[i] = s / R[i * n + i];
    }
    // x += J₁ (R λ) ; R λ = v
    tmp.fill(0);
    for (let i = 0; i < q; i++) tmp[i] = v[i];
    for (let i = 0; i < n; i++) {
      let s = 0;
      const row = i * n;
      for (let j = 0; j < q; j++) s += J[row + j] * tmp[j];
      x[i] += s;
    }
  }

  private warm(a: Float64Array, warm: Int32Array): void {
    const seen = new Set<number>();
    for (const k of warm) {
      if (k < 0 || k >= this.cons.count || seen.has(k) || this.q >= this.n) continue;
      seen.add(k);
      this.computeD(k);
      if (this.dependent()) continue;
      this.addToFactor(k, 0);
    }
    for (;;) {
      this.workingSetPoint(a);
      let worst = -1;
      let worstVal = 0;
      for (let i = 0; i < this.q; i++) {
        const k = this.act[i];
        if (this.cons.isEq[k]) continue;
        if (this.u[i] < worstVal) {
          worstVal = this.u[i];
          worst = i;
        }
      }
      if (worst < 0) return;
      this.dropFromFactor(worst);
      this.iterations++;
    }
  }

  /** Enter constraint p; returns false when the problem is proven infeasible. */
  private enter(p: number, a: Float64Array, maxIter: number): 'added' | 'infeasible' | 'skipped' | 'max_iter' {
    const { cons, u, r, z, n } = this;
    const isEqP = cons.isEq[p] === 1;
    let s = this.ndot(p, this.x) - cons.b[p];
    if (isEqP && s > 0) {
      // Enter n x = b from above as -n x >= -b.
      const o = p * n;
      for (let j = 0; j < n; j++) cons.N[o + j] = -cons.N[o + j];
      cons.b[p] = -cons.b[p];
      this.flipped[p] ^= 1;
      s = -s;
    }
    let up = 0;
    for (;;) {
      if (this.iterations >= maxIter) return 'max_iter';
      this.computeD(p);
      this.computeZR();
      const q = this.q;
      // Partial (dual) step: the first working-set inequality whose multiplier reaches zero.
      // When the entering normal is dependent on the working set, an r_j that is only
      // rounding (below 1e-10 of the largest) must not set the step: it would send the
      // multipliers to ~1/eps.
      const dep = this.dependent();
      let rFloor = 0;
      if (dep) {
        for (let j = 0; j < q; j++) rFloor = Math.max(rFloor, Math.abs(r[j]));
        rFloor *= 1e-10;
      }
      let t1 = Infinity;
      let l = -1;
      for (let j = 0; j < q; j++) {
        if (cons.isEq[this.act[j]]) continue;
        if (r[j] > rFloor) {
          const ratio = u[j] / r[j];
          if (ratio < t1) {
            t1 = ratio;
            l = j;
          }
        }
      }
      // Full (primal) step.
      let t2 = Infinity;
      let zn = 0;
      if (!dep) {
        zn = this.ndot(p, z);
        t2 = -s / zn;
      }
      if (dep && isEqP && Math.abs(s) <= this.tol(p)) return 'skipped'; // redundant equality
      const t = Math.min(t1, t2);
      if (t === Infinity) {
        if (this.certifiesInfeasibility(p, s)) return 'infeasible';
        this.deferred[p] = 1;
        return 'skipped';
      }
      if (t2 === Infinity) {
        // Dual step only: the normal is in the span of the working set.
        for (let j = 0; j < q; j++) u[j] -= t * r[j];
        up += t;
        this.dropFromFactor(l);
        this.iterations++;
        continue;
      }
      for (let i = 0; i < n; i++) this.x[i] += t * z[i];
      for (let j = 0; j < q; j++) u[j] -= t * r[j];
      up += t;
      if (t2 <= t1) {
        // computeD already holds Jᵀn_p for the current J.
        this.addToFactor(p, up);
        this.iterations++;
        return 'added';
      }
      this.dropFromFactor(l);
      this.iterations++;
      s = this.ndot(p, this.x) - cons.b[p];
    }
  }

  /**
   * With n_p dependent on the working set and no inequality multiplier able
   * to fall, y = (1 at p, −r on the working set) is a Farkas certificate if
   * Nᵀy vanishes and yᵀb is positive, both beyond rounding: relative 1e-9 of
   * Σ|y_k|‖n_k‖ and 1e-8 of Σ|y_k|(1 + |b_k|).
   */
  private certifiesInfeasibility(p: number, s: number): boolean {
    const { n, cons, r, q } = this;
    const w = new Float64Array(n);
    let scaleN = this.pattern.scale[p],
      scaleB = 1 + Math.abs(cons.b[p]),
      yb = cons.b[p];
    for (let j = 0; j < n; j++) w[j] = cons.N[p * n + j];
    for (let j = 0; j < q; j++) {
      const k = this.act[j];
      const y = -r[j];
      if (!cons.isEq[k] && y < -1e-12) return false;
      for (let i = 0; i < n; i++) w[i] += y * cons.N[k * n + i];
      scaleN += Math.abs(y) * this.pattern.scale[k];
      scaleB += Math.abs(y) * (1 + Math.abs(cons.b[k]));
      yb += y * cons.b[k];
    }
    let wInf = 0;
    for (let i = 0; i < n; i++) wInf = Math.max(wInf, Math.abs(w[i]));
    // yᵀb equals the violation −s of the entering row up to rounding; require it to be well above rounding.
    return wInf <= 1e-9 * scaleN && yb > 1e-8 * scaleB && -s > 1e-8 * scaleB;
  }

  private xScale(): number {
    let xs = 0;
    for (let i = 0; i < this.n; i++) xs = Math.max(xs, Math.abs(this.x[i]));
    return xs;
  }

  private tol(k: number, xs = this.xScale()): number {
    return this.feasTol * (1 + Math.abs(this.cons.b[k]) + this.pattern.scale[k] * xs);
  }

  /**
   * Solve with linear term a and constraints `cons` (equality rows may be
   * negated in place), optionally warm-started from a working set of
   * constraint indices. Returns the status; x, act, u hold the answer.
   */
  solve(a: Float64Array, cons: GIConstraints, warmSet: Int32Array | null, maxIter: number, feasTol = 1e-11): GIStatus {
    this.bind(cons, feasTol);
    try {
      return this.run(a, cons, warmSet, maxIter);
    } finally {
      // Give the caller its constraints back unchanged; `flipped` still records the signs used.
      const n = this.n;
      for (let k = 0; k < cons.count; k++) {
        if (!this.flipped[k]) continue;
        for (let j = 0; j < n; j++) cons.N[k * n + j] = -cons.N[k * n + j];
        cons.b[k] = -cons.b[k];
      }
    }
  }

  private run(a: Float64Array, cons: GIConstraints, warmSet: Int32Array | null, maxIter: number): GIStatus {
    this.J.set(this.J0);
    this.R.fill(0);
    this.q = 0;
    this.iterations = 0;
    if (warmSet && warmSet.length > 0) this.warm(a, warmSet);
    else this.unconstrained(a);
    for (let k = 0; k < cons.count; k++) {
      if (!cons.isEq[k] || this.isActive[k]) continue;
      const st = this.enter(k, a, maxIter);
      if (st === 'infeasible') return 'infeasible';
      if (st === 'max_iter') return 'max_iter';
    }
    for (;;) {
      if (this.iterations >= maxIter) return 'max_iter';
      let p = -1;
      let worst = 0;
      const xs = this.xScale();
      const scan = ++this.scan;
      const { mirror } = cons;
      const { dot, dotScan } = this;
      for (let k = 0; k < cons.count; k++) {
        if (cons.isEq[k] || this.isActive[k] || this.deferred[k]) continue;
        const mk = mirror ? mirror[k] : -1;
        let nx: number;
        if (mk >= 0 && dotScan[mk] === scan) nx = -dot[mk];
        else {
          nx = this.ndot(k, this.x);
          if (mk >= 0) {
            dot[k] = nx;
            dotScan[k] = scan;
          }
        }
        const s = nx - cons.b[k];
        if (s < -this.tol(k, xs)) {
          const v = s / this.pattern.scale[k];
          if (v < worst) {
            worst = v;
            p = k;
          }
        }
      }
      if (p < 0) return 'solved';
      const st = this.enter(p, a, maxIter);
      if (st === 'infeasible') return 'infeasible';
      if (st === 'max_iter') return 'max_iter';
    }
  }
}
