/**
 * The per-sample kernel every trainer method runs: forward pass, residual,
 * constraint values, the method's weights, the output Jacobian J_k, and the
 * streamed Gauss–Newton assembly.
 *
 * Each constraint i belongs to one sample k and is affine in that sample's
 * normalised output y_k: g_i = c_iᵀ y_k + d_i + m_i ≤ 0, m_i = min(margin, cap_i)
 * the row's tightening. So its gradient is
 * c_iᵀ J_k and, whatever the method (augmented Lagrangian, interior point,
 * fixed penalty), its Gauss–Newton contribution only reweights the sample:
 *
 *   G = Σ_k J_kᵀ W_k J_k,   ∇ = Σ_k J_kᵀ r_k,
 *   W_k = diag(w)/K + Σ_{i∈k} h_i c_i c_iᵀ,   r_k = w ⊙ (y_k − ŷ_k)/K + Σ_{i∈k} q_i c_i,
 *
 * with (h_i, q_i) given by the method from g_i (and sample weights that are 0
 * for constraint-only samples, which carry no label). G stays n×n however many
 * constraints there are. The rows L_kᵀ J_k (W_k = L_k L_kᵀ) are streamed into
 * a transposed panel and folded into G by PanelSyrk (WebAssembly SIMD), so the full Jacobian is
 * never stored. The kernel works on plain typed arrays so that worker threads
 * can run it on SharedArrayBuffers.
 */
import { MLP, type Activation } from './mlp.js';
import { PanelSyrk } from './panel-syrk.js';

/** The training problem in normalised units, as typed arrays (shareable with workers). */
export interface KernelData {
  sizes: number[];
  activation: Activation;
  K: number;
  nx: number;
  nu: number;
  /** Normalised inputs, K × nx. */
  X: Float64Array;
  /** Normalised labels, K × nu. */
  Y: Float64Array;
  /** Objective weight per output (the loss is ½ Σ_k sw_k Σ_j w_j (y_kj − ŷ_kj)² / nLabelled). */
  w: Float64Array;
  /** Objective weight per sample: 1 for labelled samples, 0 for constraint-only ones. */
  sw: Float64Array;
  /** Σ sw: the number of labelled samples (normalises the objective instead of K). */
  nLabelled: number;
  /** CSR: constraints of sample k are conPtr[k] … conPtr[k+1]−1. */
  conPtr: Int32Array;
  /** ncon × nu */
  conC: Float64Array;
  conD: Float64Array;
  /**
   * Largest tightening of each row (≥ 0): a tightened phase's margin applies
   * to row i as min(margin, conCap_i). Absent: the margin applies whole.
   */
  conCap?: Float64Array;
  /**
   * The trained policy is the network's output clamped to the actuator box
   * [−1, 1] (normalised), as it is deployed (ConstraintOptions.saturate).
   * Objective: where a label is saturated (within SAT_TOL of ±1) and the
   * output lies beyond it on the same side, the clamped output is the label:
   * the residual is 0 up to SAT_REACH and the distance past it beyond. Every
   * other residual is y − ŷ, which bounds |clamp(y) − ŷ| from above without
   * the flat pieces the clamp would have. A term inside the band keeps its
   * curvature w/K in G, so that the Gauss–Newton model overestimates what
   * moving it costs: with zero curvature the model promised free moves back
   * across the bound and LM rejected step after step (the quadrotor's first
   * fit stalled at training MSE 2.9e-3 with μ at 12). The reported sse is
   * that of the clamped output. Constraints: g_i = cᵢᵀ clamp(y) + d_i,
   * whose gradient has cᵢ's clamped components zeroed (exact, piecewise affine).
   */
  saturate?: boolean;
}

export type MethodMode = 'al' | 'ip' | 'penalty' | 'objective';

export interface MethodParams {
  mode: MethodMode;
  /** AL: penalty ρ; penalty: weight β. */
  rho: number;
  /** IP: barrier parameter μ. */
  mu: number;
  /** Added to every g_i (tightening: g_i + min(margin, cap_i) ≤ 0). */
  margin: number;
  /**
   * Sub-sampled curvature: the share of samples whose objective part enters G
   * (default 1, all), with probability curvKeep and weight 1/curvKeep (an
   * unbiased estimate), chosen by a hash of (k, curvSeed). The constraint
   * terms h c cᵀ of every sample always enter G, exactly: a sample outside
   * the sub-sample contributes one row √h cᵀJ_k per active constraint
   * instead of nu rows. The gradient and every statistic stay exact.
   */
  curvKeep?: number;
  curvSeed?: number;
  /** AL: λ; IP: z (dual). */
  mult: Float64Array;
  /** IP: slacks s > 0. */
  slack: Float64Array;
}

export interface KernelStats {
  /** ½ Σ sw w (y − ŷ)² / nLabelled over the range. */
  f: number;
  /** AL: (1/2ρ) Σ [max(0, λ+ρg)² − λ²]; penalty: β Σ max(0,g)². */
  pen: number;
  /** max g_i (with margin). */
  maxG: number;
  /** Number of g_i > 0. */
  nViol: number;
  /** Σ (y − ŷ)² over the range (unweighted, for MSE). */
  sse: number;
}

export function emptyStats(): KernelStats {
  return { f: 0, pen: 0, maxG: -Infinity, nViol: 0, sse: 0 };
}

export function mergeStats(a: KernelStats, b: KernelStats): KernelStats {
  return { f: a.f + b.f, pen: a.pen + b.pen, maxG: Math.max(a.maxG, b.maxG), nViol: a.nViol + b.nViol, sse: a.sse + b.sse };
}

/** A label within this of ±1 (normalised) counts as saturated. */
export const SAT_TOL = 1e-3;
/**
 * A saturated label is met by any output between its bound and this (normalised; the bound is 1). Without
 * an outer end the clamped networks grew steep: the double integrator's int8 error went from 0.96 % to
 * 1.82 % of the range and the quadrotor's from 1.84 % to 2.6 % (outside the tolerance); with 1.25 they
 * were 1.09 % and 1.87 %, for a validation MSE on the double integrator of 3.2e-6 (7.1e-6 unbounded,
 * 3.0e-5 with the raw network constrained) and 1.85e-3 on the quadrotor (1.23e-3 unbounded).
 */
export const SAT_REACH = 1.25;

/** Rows per Jacobian panel: 128 rows × a few hundred parameters stay in L2. */
const PANEL = 128;

export class GNKernel {
  readonly mlp: MLP;
  readonly nParams: number;
  private readonly y: Float64Array;
  private readonly W: Float64Array;
  private readonly Lw: Float64Array;
  private readonly r: Float64Array;
  private readonly J: Float64Array;
  /** The panel and its G += P Pᵀ (made on the first assembly that wants G). */
  private syrk: PanelSyrk | null = null;
  private readonly jv: Float64Array;
  /** Set by sample(): the gradients (in y) of the sample's constraint rows with curvature (h ≠ 0), and their h. */
  private nAct = 0;
  private readonly actC: Float64Array;
  private readonly actH: Float64Array;
  /** Saturating outputs: clamp(y), which components are unclamped, and a masked constraint row. */
  private readonly yc: Float64Array;
  private readonly free: Float64Array;
  private readonly cm: Float64Array;

  constructor(readonly data: KernelData) {
    this.mlp = new MLP({ sizes: data.sizes, activation: data.activation });
    if (this.mlp.nIn !== data.nx || this.mlp.nOut !== data.nu) throw new Error('kernel: network and data dimensions disagree');
    this.nParams = this.mlp.nParams;
    const nu = data.nu;
    this.y = new Float64Array(nu);
    this.W = new Float64Array(nu * nu);
    this.Lw = new Float64Array(nu * nu);
    this.r = new Float64Array(nu);
    this.J = new Float64Array(nu * this.nParams);
    this.jv = new Float64Array(nu);
    let most = 0;
    for (let k = 0; k < data.K; k++) most = Math.max(most, data.conPtr[k + 1] - data.conPtr[k]);
    this.actC = new Float64Array(most * nu);
    this.actH = new Float64Array(most);
    this.yc = new Float64Array(nu);
    this.free = new Float64Array(nu).fill(1);
    this.cm = new Float64Array(nu);
  }

  /**
   * Forward pass and the method's per-sample weights for sample k: fills
   * this.y, this.W (nu×nu), this.r and accumulates stats. Returns nothing; the
   * caller reads the scratch arrays.
   */
  private sample(theta: Float64Array, p: MethodParams, k: number, st: KernelStats): void {
    const { X, Y, w, sw, nLabelled, nx, nu, conPtr, conC, conD, conCap } = this.data;
    const { y, W, r } = this;
    this.mlp.forward(theta, X, y, k * nx, 0);
    W.fill(0);
    this.nAct = 0;
    const swk = sw[k] / nLabelled;
    const sat = this.data.saturate === true;
    // the output the policy deploys and the constraints see: y, or clamp(y) when saturating
    const yc = this.clamped();
    for (let j = 0; j < nu; j++) {
      const lab = Y[k * nu + j];
      const yj = y[j];
      // e: the residual the objective sees; err: the error of the deployed output
      let e = yj - lab;
      const err = yc[j] - lab;
      if (sat) {
        // a saturated label, the output beyond it on its side: 0 inside the band up to SAT_REACH, the distance past it outside
        const side = yj >= 1 && lab >= 1 - SAT_TOL ? 1 : yj <= -1 && lab <= -1 + SAT_TOL ? -1 : 0;
        if (side !== 0) e = side * Math.max(0, side * yj - SAT_REACH);
      }
      if (sw[k] !== 0) st.sse += err * err;
      st.f += 0.5 * swk * w[j] * e * e;
      r[j] = swk * w[j] * e;
      W[j * nu + j] = this.objectiveCurvature(k, j);
    }
    for (let i = conPtr[k]; i < conPtr[k + 1]; i++) {
      let g = conD[i] + (conCap ? Math.min(p.margin, conCap[i]) : p.margin);
      for (let j = 0; j < nu; j++) g += conC[i * nu + j] * yc[j];
      const c = this.row(i);
      if (g > st.maxG) st.maxG = g;
      if (g > 0) st.nViol++;
      let h = 0;
      let q = 0;
      if (p.mode === 'objective') continue; // constraints only reported
      if (p.mode === 'al') {
        const lam = p.mult[i];
        const t = lam + p.rho * g;
        if (t > 0) {
          h = p.rho;
          q = t;
          st.pen += (t * t - lam * lam) / (2 * p.rho);
        } else st.pen -= (lam * lam) / (2 * p.rho);
      } else if (p.mode === 'penalty') {
        if (g > 0) {
          h = 2 * p.rho;
          q = 2 * p.rho * g;
          st.pen += p.rho * g * g;
        }
      } else {
        // interior point: h = z/s, q = z + (z g + μ)/s (see ip.ts)
        const z = p.mult[i],
          s = p.slack[i];
        h = z / s;
        q = z + (z * g + p.mu) / s;
      }
      if (h !== 0) {
        this.actC.set(c, this.nAct * nu);
        this.actH[this.nAct++] = h;
        for (let a = 0; a < nu; a++) for (let b = 0; b < nu; b++) W[a * nu + b] += h * c[a] * c[b];
      }
      if (q !== 0) for (let j = 0; j < nu; j++) r[j] += q * c[j];
    }
  }

  /**
   * Forward pass of sample k for its constraint rows: the output they see
   * (below), after which row(i) gives row i's gradient in y and the MLP holds
   * the sample's activations for a VJP (multipliers.ts).
   */
  forwardForRows(theta: Float64Array, k: number): Float64Array {
    this.mlp.forward(theta, this.data.X, this.y, k * this.data.nx, 0);
    return this.clamped();
  }

  /**
   * The output the constraints see, after a forward pass into this.y: y, or
   * clamp(y) with this.free marking the unclamped components when saturating.
   */
  private clamped(): Float64Array {
    if (!this.data.saturate) return this.y;
    const { y, yc, free } = this;
    for (let j = 0; j < y.length; j++) {
      yc[j] = y[j] > 1 ? 1 : y[j] < -1 ? -1 : y[j];
      free[j] = y[j] > 1 || y[j] < -1 ? 0 : 1;
    }
    return yc;
  }

  /** Constraint row i's gradient in y at the last clamped(): cᵢ, with clamped components zeroed when saturating. */
  row(i: number): Float64Array {
    const { nu, conC } = this.data;
    const { cm, free } = this;
    for (let j = 0; j < nu; j++) cm[j] = conC[i * nu + j] * free[j];
    return cm;
  }

  /**
   * The objective's curvature weight of output j at sample k (W_k's diagonal
   * before the constraint terms). Constraint-only samples get a tiny one so
   * that W_k ≻ 0 (the panel rows use its Cholesky factor); it adds ~1e-12
   * relative curvature.
   */
  private objectiveCurvature(k: number, j: number): number {
    const { sw, w, nLabelled } = this.data;
    return Math.max((sw[k] / nLabelled) * w[j], 1e-12 / nLabelled);
  }

  /**
   * Accumulate G (lower triangle, if given) and ∇ over samples [k0, k1).
   * G and grad are added to, not overwritten. If Wcache is given, each
   * sample's W_k is stored there (K × nu²) for matrix-free products.
   */
  assemble(theta: Float64Array, p: MethodParams, k0: number, k1: number, grad: Float64Array, G: Float64Array | null, Wcache: Float64Array | null = null): KernelStats {
    const st = emptyStats();
    const { nu } = this.data;
    const n = this.nParams;
    const { J, W, Lw, r } = this;
    const syrk = G ? (this.syrk ??= new PanelSyrk(n, PANEL)) : null;
    const panel = syrk ? syrk.panel : new Float64Array(0); // written only when G is wanted
    const keep = p.curvKeep ?? 1;
    const seed = p.curvSeed ?? 0;
    let rows = 0;
    for (let k = k0; k < k1; k++) {
      this.sample(theta, p, k, st);
      if (Wcache) Wcache.set(W, k * nu * nu);
      const whole = keep >= 1 || curvatureSampled(k, seed, keep);
      if (!G || (!whole && this.nAct === 0)) {
        this.mlp.vjpAfterForward(theta, r, grad);
        continue;
      }
      this.mlp.jacobianAfterForward(theta, J);
      // ∇ += J_kᵀ r_k
      for (let j = 0; j < nu; j++) {
        const rj = r[j];
        if (rj === 0) continue;
        const o = j * n;
        for (let t = 0; t < n; t++) grad[t] += rj * J[o + t];
      }
      if (!whole) {
        // outside the sub-sample: the active constraints' curvature only, one row √h cᵀJ_k each
        for (let a = 0; a < this.nAct; a++) {
          const co = a * nu;
          const sh = Math.sqrt(this.actH[a]);
          for (let t = 0; t < n; t++) {
            let v = 0;
            for (let b = 0; b < nu; b++) v += this.actC[co + b] * J[b * n + t];
            panel[t * PANEL + rows] = sh * v;
          }
          if (++rows === PANEL) {
            syrk!.flush(G, rows);
            rows = 0;
          }
        }
        continue;
      }
      // in the sub-sample: the objective part weighs 1/keep (W's diagonal holds it, see sample())
      if (keep < 1) {
        for (let j = 0; j < nu; j++) W[j * nu + j] += (1 / keep - 1) * this.objectiveCurvature(k, j);
      }
      // W_k = L Lᵀ (W_k ≻ 0: it contains diag(w)/K); rows of Lᵀ J_k go into the panel.
      if (nu === 1) {
        const s = Math.sqrt(W[0]);
        for (let t = 0; t < n; t++) panel[t * PANEL + rows] = s * J[t];
        rows++;
      } else {
        cholSmall(W, Lw, nu);
        for (let a = 0; a < nu; a++) {
          for (let t = 0; t < n; t++) {
            let s = 0;
            for (let b = a; b < nu; b++) s += Lw[b * nu + a] * J[b * n + t];
            panel[t * PANEL + rows] = s;
          }
          rows++;
          if (rows === PANEL) {
            syrk!.flush(G, rows);
            rows = 0;
          }
        }
        continue;
      }
      if (rows === PANEL) {
        syrk!.flush(G, rows);
        rows = 0;
      }
    }
    if (G && syrk) {
      syrk.flush(G, rows);
      syrk.finish(G);
    }
    return st;
  }

  /** Objective, penalty and constraint statistics only (no derivatives). */
  evaluate(theta: Float64Array, p: MethodParams, k0: number, k1: number): KernelStats {
    const st = emptyStats();
    for (let k = k0; k < k1; k++) this.sample(theta, p, k, st);
    return st;
  }

  /** Constraint values g_i (with margin) for samples [k0, k1), written at their constraint indices. */
  constraintValues(theta: Float64Array, margin: number, k0: number, k1: number, g: Float64Array): void {
    const { nu, conPtr, conC, conD, conCap } = this.data;
    for (let k = k0; k < k1; k++) {
      const y = this.forwardForRows(theta, k);
      for (let i = conPtr[k]; i < conPtr[k + 1]; i++) {
        let v = conD[i] + (conCap ? Math.min(margin, conCap[i]) : margin);
        for (let j = 0; j < nu; j++) v += conC[i * nu + j] * y[j];
        g[i] = v;
      }
    }
  }

  /** ∇g_iᵀ v = c_iᵀ (J_k v) for every constraint of samples [k0, k1): the linearised constraint change. */
  constraintDirectional(theta: Float64Array, v: Float64Array, k0: number, k1: number, out: Float64Array): void {
    const { X, nx, nu, conPtr } = this.data;
    for (let k = k0; k < k1; k++) {
      this.mlp.jvp(theta, v, X, this.y, this.jv, k * nx);
      this.clamped();
      for (let i = conPtr[k]; i < conPtr[k + 1]; i++) {
        const c = this.row(i);
        let s = 0;
        for (let j = 0; j < nu; j++) s += c[j] * this.jv[j];
        out[i] = s;
      }
    }
  }

  /** Matrix-free Gauss–Newton product: out += Σ_k J_kᵀ W_k (J_k v) with cached W_k. */
  matvec(theta: Float64Array, v: Float64Array, k0: number, k1: number, Wcache: Float64Array, out: Float64Array): void {
    const { X, nx, nu } = this.data;
    const t = new Float64Array(nu);
    for (let k = k0; k < k1; k++) {
      this.mlp.jvp(theta, v, X, this.y, this.jv, k * nx);
      const wo = k * nu * nu;
      for (let a = 0; a < nu; a++) {
        let s = 0;
        for (let b = 0; b < nu; b++) s += Wcache[wo + a * nu + b] * this.jv[b];
        t[a] = s;
      }
      // jvp left the activations of sample k in place, so the VJP can follow.
      this.mlp.vjpAfterForward(theta, t, out);
    }
  }

  /** diag(G) for a Jacobi preconditioner: Σ_k Σ_a (Lᵀ J_k)²_a,t. */
  diagonal(theta: Float64Array, k0: number, k1: number, Wcache: Float64Array, out: Float64Array): void {
    const { X, nx, nu } = this.data;
    const n = this.nParams;
    const { J, Lw } = this;
    for (let k = k0; k < k1; k++) {
      this.mlp.forward(theta, X, this.y, k * nx, 0);
      this.mlp.jacobianAfterForward(theta, J);
      cholSmall(Wcache.subarray(k * nu * nu, (k + 1) * nu * nu), Lw, nu);
      for (let a = 0; a < nu; a++)
        for (let t = 0; t < n; t++) {
          let s = 0;
          for (let b = a; b < nu; b++) s += Lw[b * nu + a] * J[b * n + t];
          out[t] += s * s;
        }
    }
  }
}

/** Whether sample k's objective curvature is in the sub-sample for seed (probability keep). */
export function curvatureSampled(k: number, seed: number, keep: number): boolean {
  let h = Math.imul(k ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(seed + 0x632be5ab, 0xc2b2ae35);
  h = Math.imul(h ^ (h >>> 15), 0x2c1b3c6d);
  h = Math.imul(h ^ (h >>> 12), 0x297a2d39);
  h ^= h >>> 15;
  return (h >>> 0) / 4294967296 < keep;
}

/** Cholesky of a small SPD matrix (nu × nu). */
function cholSmall(A: Float64Array, L: Float64Array, n: number): void {
  L.fill(0);
  for (let j = 0; j < n; j++) {
    let s = A[j * n + j];
    for (let k = 0; k < j; k++) s -= L[j * n + k] * L[j * n + k];
    const d = Math.sqrt(Math.max(s, 1e-300));
    L[j * n + j] = d;
    for (let i = j + 1; i < n; i++) {
      let t = A[i * n + j];
      for (let k = 0; k < j; k++) t -= L[i * n + k] * L[j * n + k];
      L[i * n + j] = t / d;
    }
  }
}
