/**
 * Ultro's default optimiser: an augmented Lagrangian (Powell–Hestenes–
 * Rockafellar) outer loop around a Levenberg–Marquardt / Gauss–Newton inner
 * loop.
 *
 *   minimise f(θ) = ½ Σ_k ‖y_θ(x_k) − ŷ_k‖²_w / K   subject to  g_i(θ) ≤ 0,
 *
 *   Φ_ρ(θ; λ) = f(θ) + (1/2ρ) Σ_i [max(0, λ_i + ρ g_i(θ))² − λ_i²]
 *
 * The inner loop minimises Φ with LM steps (G + μ·s·I) δ = −∇Φ, G the
 * Gauss–Newton matrix of Φ (see gn-kernel.ts), accepting a step when the gain
 * ratio (actual / predicted decrease) is positive and adapting μ as in
 * H. B. Nielsen, "Damping parameter in Marquardt's method", IMM-REP-1999-05.
 * The outer loop updates λ ← max(0, λ + ρ g) and multiplies ρ by 10 when the
 * constraint/complementarity error has not fallen below a quarter of its
 * previous value (Nocedal & Wright, Numerical Optimization, §17.4). A final
 * polish repeats a few outer iterations with every constraint tightened by a
 * margin, so that held-out states, not only the training samples, keep the
 * constraints.
 */
import type { Assembler } from './assembler.js';
import type { KernelStats } from './gn-kernel.js';
import { lmMinimize, type ExtraTerms, type LMState } from './lm.js';
import type { ProgressEntry, ProgressFn } from './progress.js';
import type { WeightNormConstraints } from './weight-norm.js';

export interface ALSettings {
  maxOuter?: number;
  /** LM steps per outer iteration; the unconstrained warm-start fit gets firstInner. */
  maxInner?: number;
  firstInner?: number;
  /** Initial penalty; default 100/K (a constraint weighs like 100 samples' residuals). */
  rho0?: number;
  rhoMax?: number;
  /** Stop when the largest g_i ≤ feasTol (normalised output units, default 1e-5) and the inner loop converged. */
  feasTol?: number;
  /** Tightening used by the polish phase, in normalised output units (default 2e-3 = 0.2 % of the actuator half-range). */
  polishMargin?: number;
  polishOuter?: number;
  /** Initial LM damping, relative to mean(diag G). */
  mu0?: number;
  /** Wall-clock budget in ms (checked between steps). */
  timeBudgetMs?: number;
  onProgress?: ProgressFn;
  weightNorm?: WeightNormConstraints;
  /** Start from θ as it is (DAgger and refinement rounds): no unconstrained warm-start fit. */
  skipFit?: boolean;
  /** Only the tightened polish phase (refinement rounds, where θ is already feasible but for a few new samples). */
  polishOnly?: boolean;
  /** Parameters held fixed (1 = frozen), e.g. weights already on the integer grid (qat.ts). */
  frozen?: Uint8Array;
}

export interface TrainResult {
  theta: Float64Array;
  history: ProgressEntry[];
  steps: number;
  timeMs: number;
  stopped: 'converged' | 'max_outer' | 'time';
  /** Multipliers of the per-sample constraints at the end (AL: λ, IP: z). */
  multipliers: Float64Array;
}

export async function trainAugmentedLagrangian(asm: Assembler, theta0: Float64Array, s: ALSettings = {}): Promise<TrainResult> {
  const t0 = performance.now();
  const K = asm.data.nLabelled;
  const maxOuter = s.maxOuter ?? 25;
  const maxInner = s.maxInner ?? 30;
  const firstInner = s.firstInner ?? 250;
  const rhoMax = s.rhoMax ?? 1e10;
  const feasTol = s.feasTol ?? 1e-5;
  const polishMargin = s.polishMargin ?? 2e-3;
  const polishOuter = s.polishOuter ?? 4;
  const wn = s.weightNorm;
  const lamW = new Float64Array(wn?.count ?? 0);
  let rho = s.rho0 ?? 100 / K;
  const state: LMState = { theta: Float64Array.from(theta0), mu: s.mu0 ?? 1e-3, steps: 0 };
  asm.mult.fill(0);
  const history: ProgressEntry[] = [];
  const elapsed = () => performance.now() - t0;
  const outOfTime = () => s.timeBudgetMs !== undefined && elapsed() > s.timeBudgetMs;
  const extra = wn ? weightNormAL(wn, lamW, () => rho, asm.nParams) : undefined;
  const report = (phase: ProgressEntry['phase'], outer: number, stats: KernelStats, maxViol: number) => {
    const entry: ProgressEntry = { method: 'al-lm', phase, outer, steps: state.steps, mse: stats.sse / (K * asm.data.nu), maxViol, rho, mu: state.mu, timeMs: elapsed() };
    history.push(entry);
    s.onProgress?.(entry);
  };

  // Warm start: the unconstrained least-squares fit. Started from there, the
  // AL only has to move the network where the fit leaves a constraint
  // violated, instead of fitting and enforcing at once.
  if (!s.skipFit) {
    const fit = await lmMinimize(asm, state, { mode: 'objective', rho, mu: 0, margin: 0 }, firstInner, { outOfTime, frozen: s.frozen });
    report('train', 0, fit.stats, Math.max(0, fit.stats.maxG));
  }

  const phases: { phase: 'train' | 'polish'; margin: number; outers: number }[] = [
    ...(s.polishOnly ? [] : [{ phase: 'train' as const, margin: 0, outers: maxOuter }]),
    { phase: 'polish', margin: polishMargin, outers: polishOuter },
  ];
  let stopped: TrainResult['stopped'] = 'max_outer';
  for (const ph of phases) {
    if (outOfTime()) {
      stopped = 'time';
      break;
    }
    let vPrev = Infinity;
    for (let outer = 1; outer <= ph.outers; outer++) {
      const { converged, stats } = await lmMinimize(asm, state, { mode: 'al', rho, mu: 0, margin: ph.margin }, maxInner, { extra, outOfTime, frozen: s.frozen });
      const g = await asm.constraintValues(state.theta, ph.margin);
      const gw = wn ? wn.values(state.theta) : new Float64Array(0);
      // complementarity-aware error |min(−g, λ/ρ)| (before the update), and the plain violation
      let v = 0;
      let maxViol = 0;
      for (let i = 0; i < g.length; i++) {
        v = Math.max(v, Math.abs(Math.min(-g[i], asm.mult[i] / rho)));
        maxViol = Math.max(maxViol, g[i]);
        asm.mult[i] = Math.max(0, asm.mult[i] + rho * g[i]);
      }
      for (let l = 0; l < gw.length; l++) {
        v = Math.max(v, Math.abs(Math.min(-gw[l], lamW[l] / rho)));
        maxViol = Math.max(maxViol, gw[l]);
        lamW[l] = Math.max(0, lamW[l] + rho * gw[l]);
      }
      report(ph.phase, outer, stats, maxViol);
      if (outOfTime()) {
        stopped = 'time';
        break;
      }
      if (converged && maxViol <= feasTol && v <= feasTol) {
        if (ph.phase === 'train' || s.polishOnly) stopped = 'converged';
        break;
      }
      if (v > 0.25 * vPrev) rho = Math.min(rhoMax, rho * 10);
      vPrev = v;
    }
    if (stopped === 'time') break;
  }
  return { theta: state.theta, history, steps: state.steps, timeMs: elapsed(), stopped, multipliers: Float64Array.from(asm.mult) };
}

/** Weight-norm constraints under the augmented Lagrangian, as extra LM terms. */
function weightNormAL(wn: WeightNormConstraints, lam: Float64Array, rho: () => number, n: number): ExtraTerms {
  const H = new Float64Array(wn.count);
  const T = new Float64Array(wn.count);
  return {
    add(theta, G, grad) {
      const g = wn.values(theta);
      const r = rho();
      let pen = 0;
      for (let l = 0; l < wn.count; l++) {
        const t = lam[l] + r * g[l];
        if (grad) {
          H[l] = t > 0 ? r : 0;
          T[l] = t > 0 ? t : 0;
        }
        if (t > 0) {
          pen += (t * t - lam[l] * lam[l]) / (2 * r);
          if (grad) wn.addTerms(theta, l, r, t, t, G, grad, n);
        } else pen -= (lam[l] * lam[l]) / (2 * r);
      }
      return pen;
    },
    matvec(theta, v, out) {
      for (let l = 0; l < wn.count; l++) if (H[l] !== 0 || T[l] !== 0) wn.addMatvec(theta, l, H[l], T[l], v, out);
    },
  };
}
