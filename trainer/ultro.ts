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
import { leastSquaresMultipliers } from './multipliers.js';
import { DEFAULT_MARGIN } from './problem.js';
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
  /**
   * An outer iteration's LM loop ends when an accepted step gains less than
   * this share of Φ (default 1e-4; the unconstrained fit runs to 1e-6 or its
   * step budget). The multiplier update only needs the subproblem roughly
   * solved: on the 12-state quadrotor the later outer iterations and the
   * polish spent 20–25 LM steps each at gains of 1e-5…1e-6 of Φ per step;
   * stopping at 1e-4 cut the first run's constrained phases from 214 s to
   * 90 s for a training MSE 0.4 % higher, and the whole `ultro train` from
   * 21.5 to 13.0 minutes.
   */
  innerTol?: number;
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
  /**
   * Warm start of the multipliers (and ρ) from a previous run on a prefix of
   * the same samples: DAgger and refinement rounds append samples, so the
   * first constraints are the same rows in the same order.
   */
  warm?: { multipliers: Float64Array; rho: number; nLabelled: number; converged?: boolean };
  /**
   * Training MSE above which the run is not worth finishing, because the caller
   * already holds something better (the quantisation-aware refit against the
   * network without it): checked after every outer iteration, the run then
   * stops with 'abandoned'.
   */
  abandonAbove?: number;
  /** Called with θ after the unconstrained warm-start fit (benches compare it with unconstrained trainers). */
  onFit?: (theta: Float64Array) => void;
  /** Called before every LM step, for progress lines: phase, outer iteration, LM steps so far, training MSE. */
  onStep?: (s: { phase: 'fit' | 'train' | 'polish'; outer: number; steps: number; mse: number; elapsedMs: number; inner: number; maxInner: number; innerMs: number }) => void;
}

export interface TrainResult {
  theta: Float64Array;
  history: ProgressEntry[];
  steps: number;
  timeMs: number;
  stopped: 'converged' | 'max_outer' | 'time' | 'abandoned';
  /** Multipliers of the per-sample constraints at the end (AL: λ, IP: z). */
  multipliers: Float64Array;
  /** AL penalty at the end, and the number of labelled samples it is relative to (for warm starts). */
  rho?: number;
  nLabelled?: number;
}

export async function trainAugmentedLagrangian(asm: Assembler, theta0: Float64Array, s: ALSettings = {}): Promise<TrainResult> {
  const t0 = performance.now();
  const K = asm.data.nLabelled;
  const maxOuter = s.maxOuter ?? 25;
  // Step budgets sized by what a step costs, so that a 12-state plant with a
  // thousand parameters does not spend half an hour where the double integrator
  // spends a minute: at ~1e9 multiply-adds per second and thread, the fit gets
  // about 5 minutes and each outer iteration about 40 seconds, within [60, 250]
  // and [10, 30] steps (the small plants keep 250 and 30).
  const cost = asm.stepCost;
  const maxInner = s.maxInner ?? Math.round(Math.min(30, Math.max(10, 4e10 / cost)));
  const firstInner = s.firstInner ?? Math.round(Math.min(250, Math.max(60, 3e11 / cost)));
  const rho0 = s.rho0 ?? 100 / K;
  const rhoMax = s.rhoMax ?? 1e8 * rho0;
  // ρ at the start of a phase that already has multiplier estimates (the
  // polish after the train phase, warm-started rounds): with good λ a
  // moderate ρ suffices, and a large one left over from a hard phase makes
  // the LM subproblem so ill-conditioned that it stalls far from the optimum
  // (the polish then "converges" with a several times larger MSE).
  const rhoRestart = 100 * rho0;
  const feasTol = s.feasTol ?? 1e-5;
  const polishMargin = s.polishMargin ?? DEFAULT_MARGIN;
  const polishOuter = s.polishOuter ?? 4;
  const wn = s.weightNorm;
  const lamW = new Float64Array(wn?.count ?? 0);
  const state: LMState = { theta: Float64Array.from(theta0), mu: s.mu0 ?? 1e-3, steps: 0 };
  // λ from outer iterations at a large ρ are not estimates to restart from at a smaller one: each
  // update added ρ·g for the g of an inexact minimiser (two carts: ρ 3.9e6 against a violation of
  // 1e-5 that the LM loop could not remove, λ_max 123 where the least-squares estimate at the same θ
  // is 2.4e-3; restarted at ρ = 3.9 with them, the polish pushed rows λ/ρ ≈ 30 inside and the
  // training MSE went from 1.8e-3 to 1.6e-2). Wherever ρ is lowered, λ restarts from the
  // least-squares estimate at θ, which depends on θ only (multipliers.ts).
  const lowerRho = (to: number) => {
    if (rho <= to) return;
    rho = to;
    const carried = Float64Array.from(asm.mult);
    asm.mult.set(leastSquaresMultipliers(asm.data, state.theta, { keep: (i) => carried[i] > 0, frozen: s.frozen }).mult);
  };
  asm.mult.fill(0);
  let rho = rho0;
  // Multipliers carry over only from a run that converged (re-estimated below when ρ is lowered); otherwise start from zero.
  if (s.warm?.converged) {
    // The objective is a mean over the labelled samples: with more samples, a
    // multiplier and ρ of the previous run weigh K_old/K as much.
    const warmScale = s.warm.nLabelled / K;
    const n = Math.min(s.warm.multipliers.length, asm.mult.length);
    for (let i = 0; i < n; i++) asm.mult[i] = s.warm.multipliers[i] * warmScale;
    rho = Math.max(rho0, s.warm.rho * warmScale);
    lowerRho(rhoRestart);
  }
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
  const onStep = (phase: 'fit' | 'train' | 'polish', outer: number) => {
    if (!s.onStep) return undefined;
    const start = elapsed();
    return (it: number, max: number, st: KernelStats) =>
      s.onStep!({ phase, outer, steps: state.steps, mse: st.sse / (K * asm.data.nu), elapsedMs: elapsed(), inner: it, maxInner: max, innerMs: elapsed() - start });
  };
  // Nothing to constrain (the clamp keeps the actuator bounds and the safety filter every state bound, as
  // on the double integrator and the quadrotor): the problem is the least-squares fit, run to its own
  // stopping rule, with the steps the outer iterations would have had. (As a train phase with no rows it
  // stopped at the outer loop's looser inner tolerance: on the quadrotor a DAgger round then took 6 s
  // and left the fit where it was.)
  const unconstrained = asm.ncon === 0 && !wn && !s.polishOnly;
  if (!s.skipFit || unconstrained) {
    const fit = await lmMinimize(asm, state, { mode: 'objective', rho, mu: 0, margin: 0 }, unconstrained ? 2 * firstInner : firstInner, {
      outOfTime,
      frozen: s.frozen,
      onStep: onStep('fit', 0),
    });
    report('train', 0, fit.stats, Math.max(0, fit.stats.maxG));
    s.onFit?.(Float64Array.from(state.theta));
    if (unconstrained) {
      const stopped = outOfTime() ? 'time' : fit.converged ? 'converged' : 'max_outer';
      return { theta: state.theta, history, steps: state.steps, timeMs: elapsed(), stopped, multipliers: new Float64Array(0), rho, nLabelled: K };
    }
  }

  const phases: { phase: 'train' | 'polish'; margin: number; outers: number }[] = [
    ...(s.polishOnly ? [] : [{ phase: 'train' as const, margin: 0, outers: maxOuter }]),
    { phase: 'polish', margin: polishMargin, outers: polishOuter },
  ];
  let stopped: TrainResult['stopped'] = 'max_outer';
  for (const [p, ph] of phases.entries()) {
    if (outOfTime()) {
      stopped = 'time';
      break;
    }
    // "converged" is a property of the last phase: KKT stationarity and feasibility of the final problem.
    // The restart only follows a converged phase. After one that ran out of outer iterations
    // (constraints the network cannot meet at this θ), the active set of the least-squares estimate
    // is not the solution's, and a small ρ would let the network drift far off.
    if (p > 0 && stopped === 'converged') lowerRho(rhoRestart);
    stopped = 'max_outer';
    let vPrev = Infinity;
    for (let outer = 1; outer <= ph.outers; outer++) {
      const { converged, stats } = await lmMinimize(asm, state, { mode: 'al', rho, mu: 0, margin: ph.margin }, maxInner, {
        extra,
        stallTol: s.innerTol ?? 1e-4,
        outOfTime,
        frozen: s.frozen,
        onStep: onStep(ph.phase, outer),
      });
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
      // Checked between outer iterations, not between LM steps: right after a change of the problem
      // (a layer snapped to the grid) the MSE jumps, and the first inner loop brings it back down.
      if (s.abandonAbove !== undefined && stats.sse / (K * asm.data.nu) > s.abandonAbove) {
        stopped = 'abandoned';
        break;
      }
      if (outOfTime()) {
        stopped = 'time';
        break;
      }
      if (converged && maxViol <= feasTol && v <= feasTol) {
        stopped = 'converged';
        break;
      }
      if (v > 0.25 * vPrev) rho = Math.min(rhoMax, rho * 10);
      vPrev = v;
    }
    if (stopped === 'time' || stopped === 'abandoned') break;
  }
  return { theta: state.theta, history, steps: state.steps, timeMs: elapsed(), stopped, multipliers: Float64Array.from(asm.mult), rho, nLabelled: K };
}

/**
 * ALSettings.warm from a finished run (for a later run whose first rows are
 * that run's rows): its multipliers and ρ, relative to its labelled samples
 * (`nLabelled` when the result does not say). `converged` says whether λ is
 * trusted as an estimate; without a ρ (not an AL run) there is nothing to carry.
 */
export function warmStart(r: TrainResult, converged: boolean, nLabelled: number): ALSettings['warm'] {
  return r.rho === undefined ? undefined : { multipliers: r.multipliers, rho: r.rho, nLabelled: r.nLabelled ?? nLabelled, converged };
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
