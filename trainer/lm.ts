/**
 * Levenberg–Marquardt on a Gauss–Newton-modelled merit Φ(θ), the inner loop
 * of the augmented-Lagrangian trainer and the warm start of every method.
 *
 * Steps solve (G + μ·s·I) δ = −∇Φ with s = mean(diag G). A step is accepted
 * when the gain ratio (actual / predicted decrease) is positive; μ then
 * shrinks by max(1/3, 1 − (2r − 1)³), otherwise it grows by ν = 2, 4, 8, …
 * (H. B. Nielsen, "Damping parameter in Marquardt's method", IMM-REP-1999-05).
 */
import type { Assembler } from './assembler.js';
import type { KernelStats, MethodParams } from './gn-kernel.js';
import { dot, normInf } from './kernels.js';
import { dampingScale, quadForm, solveDamped, type GNOperator } from './linsolve.js';

/** Terms outside the per-sample kernel (e.g. weight-norm constraints). */
export interface ExtraTerms {
  /** Add to G (dense, may be null) and grad at θ; return their contribution to Φ. With grad null, only the value. */
  add(theta: Float64Array, G: Float64Array | null, grad: Float64Array | null): number;
  /** out += (their G) v at the θ of the last add() with a gradient. */
  matvec(theta: Float64Array, v: Float64Array, out: Float64Array): void;
}

export interface LMState {
  theta: Float64Array;
  /** Damping, carried between calls. */
  mu: number;
  steps: number;
}

export interface LMResult {
  converged: boolean;
  stats: KernelStats;
}

/** Minimise Φ = f + pen (+ extra) for the given method parameters, at most maxIter LM iterations. */
export async function lmMinimize(
  asm: Assembler,
  state: LMState,
  p: Omit<MethodParams, 'mult' | 'slack'>,
  maxIter: number,
  opts: { extra?: ExtraTerms; stallTol?: number; outOfTime?: () => boolean; frozen?: Uint8Array; onStep?: (it: number, maxIter: number, stats: KernelStats, mu: number) => void } = {},
): Promise<LMResult> {
  const { extra, frozen } = opts;
  let nu = 2;
  // Damping carried over from a previous call (a different Φ) can be arbitrarily large; start at most at 1.
  state.mu = Math.min(state.mu, 1);
  let a = await asm.assemble(state.theta, p, asm.dense, !asm.dense);
  let phi = a.stats.f + a.stats.pen + (extra ? extra.add(state.theta, a.G, a.grad) : 0);
  let op = freeze(await operator(asm, state.theta, a.G, extra), a.grad, frozen);
  for (let it = 0; it < maxIter; it++) {
    opts.onStep?.(it, maxIter, a.stats, state.mu);
    if (opts.outOfTime?.()) return { converged: false, stats: a.stats };
    if (normInf(a.grad) <= 1e-12 * Math.max(1, phi)) return { converged: true, stats: a.stats };
    const delta = await solveDamped(
      op,
      state.mu * dampingScale(op),
      a.grad.map((v) => -v),
    );
    if (!delta) {
      state.mu *= 10;
      continue;
    }
    const pred = -(dot(a.grad, delta) + 0.5 * (await quadForm(op, delta)));
    // Nothing left to gain above rounding: converged (rejecting such steps would only inflate μ).
    if (pred <= 1e-13 * Math.max(Math.abs(phi), 1e-300)) return { converged: true, stats: a.stats };
    const trial = state.theta.map((v, i) => v + delta[i]);
    const st = await asm.evaluate(trial, p);
    const phiNew = st.f + st.pen + (extra ? extra.add(trial, null, null) : 0);
    const ratio = (phi - phiNew) / pred;
    if (pred > 0 && ratio > 1e-4) {
      state.theta = trial;
      state.steps++;
      state.mu = Math.max(1e-12, state.mu * Math.max(1 / 3, 1 - Math.pow(2 * ratio - 1, 3)));
      nu = 2;
      const dec = phi - phiNew;
      a = await asm.assemble(state.theta, p, asm.dense, !asm.dense);
      phi = a.stats.f + a.stats.pen + (extra ? extra.add(state.theta, a.G, a.grad) : 0);
      op = freeze(await operator(asm, state.theta, a.G, extra), a.grad, frozen);
      // Stalled: a step that gains less than stallTol (default 1e-6) of Φ is not worth another assembly.
      if (dec <= (opts.stallTol ?? 1e-6) * Math.max(phi, 1e-300)) return { converged: true, stats: a.stats };
    } else {
      state.mu *= nu;
      nu *= 2;
      if (state.mu > 1e12) return { converged: true, stats: a.stats };
    }
  }
  return { converged: false, stats: a.stats };
}

/**
 * Hold the parameters marked in `frozen` fixed: their gradient entries are
 * zeroed and their rows and columns of G replaced by the identity, so the
 * step solves the free block exactly (G_ff δ_f = −∇_f Φ) and δ is 0 on the
 * frozen ones. Used by the quantisation-aware refit (qat.ts).
 */
function freeze(op: GNOperator, grad: Float64Array, frozen?: Uint8Array): GNOperator {
  if (!frozen) return op;
  const n = op.n;
  for (let i = 0; i < n; i++) if (frozen[i]) grad[i] = 0;
  if (op.G) {
    const G = op.G;
    for (let i = 0; i < n; i++) {
      if (!frozen[i]) continue;
      for (let j = 0; j < n; j++) {
        G[i * n + j] = 0;
        G[j * n + i] = 0;
      }
      G[i * n + i] = 1;
    }
    return op;
  }
  const inner = op.matvec!;
  const diag = Float64Array.from(op.diag!, (d, i) => (frozen[i] ? 1 : d));
  return {
    ...op,
    diag,
    matvec: async (v) => {
      const vf = Float64Array.from(v, (x, i) => (frozen[i] ? 0 : x));
      const out = await inner(vf);
      for (let i = 0; i < n; i++) if (frozen[i]) out[i] = v[i];
      return out;
    },
  };
}

/** The Gauss–Newton operator at θ: dense G, or matrix-free with the weights cached by the last assembly. */
export async function operator(asm: Assembler, theta: Float64Array, G: Float64Array | null, extra?: ExtraTerms): Promise<GNOperator> {
  if (G) return { n: asm.nParams, G };
  const th = Float64Array.from(theta);
  const diag = await asm.diagonal(th);
  if (extra) {
    // diagonal of the extra terms, column by column (they act on a few layers only)
    const e = new Float64Array(asm.nParams);
    const col = new Float64Array(asm.nParams);
    for (let i = 0; i < asm.nParams; i++) {
      e[i] = 1;
      col.fill(0);
      extra.matvec(th, e, col);
      diag[i] += col[i];
      e[i] = 0;
    }
  }
  return {
    n: asm.nParams,
    G: null,
    matvec: async (v) => {
      const out = await asm.matvec(th, v);
      extra?.matvec(th, v, out);
      return out;
    },
    diag,
  };
}
