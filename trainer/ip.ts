/**
 * Second method: a primal–dual interior-point trainer on the same
 * Gauss–Newton assembly.
 *
 *   minimise f(θ)  subject to  g_i(θ) + s_i = 0,  s ≥ 0,
 *
 * with slacks s and duals z > 0, following the barrier subproblems of
 * f − μ Σ log s_i. Linearising the perturbed KKT conditions
 *   ∇f + Σ z_i ∇g_i = 0,  g_i + s_i = 0,  s_i z_i = μ
 * and eliminating Δs, Δz gives one n×n system in Δθ:
 *
 *   (H + Σ (z_i/s_i) ∇g_i∇g_iᵀ) Δθ = −(∇f + Σ [z_i + (z_i g_i + μ)/s_i] ∇g_i),
 *   Δs_i = −(g_i + s_i) − ∇g_iᵀΔθ,   Δz_i = (μ + z_i g_i + z_i ∇g_iᵀΔθ)/s_i,
 *
 * which is the kernel's assembly with h_i = z_i/s_i, q_i = z_i + (z_i g_i + μ)/s_i
 * (H the Gauss–Newton matrix of f, plus LM damping for robustness). Step
 * lengths keep s and z positive (fraction to the boundary, τ = 0.995); the
 * primal step backtracks on the merit f − μ Σ log s + ν‖g + s‖₁; the slacks are
 * then reset to at least −g so the merit stays consistent. μ falls by 5× once
 * the barrier subproblem is solved to a tolerance proportional to μ
 * (Nocedal & Wright, Numerical Optimization, ch. 19). Every constraint is
 * tightened by the polish margin from the start: at convergence g_i + margin
 * ≤ −s_i < 0.
 */
import type { Assembler } from './assembler.js';
import { lmMinimize, operator, type LMState } from './lm.js';
import { dampingScale, solveDamped } from './linsolve.js';
import { DEFAULT_MARGIN } from './problem.js';
import type { ProgressEntry, ProgressFn } from './progress.js';
import type { TrainResult } from './ultro.js';
import type { WeightNormConstraints } from './weight-norm.js';

export interface IPSettings {
  /** LM iterations of the unconstrained warm-start fit. */
  firstInner?: number;
  maxIter?: number;
  margin?: number;
  /** Final barrier parameter, relative to the objective at the warm start per constraint. */
  muFinalRel?: number;
  timeBudgetMs?: number;
  onProgress?: ProgressFn;
  weightNorm?: WeightNormConstraints;
  /** Start from θ as it is (a refinement round): no unconstrained warm-start fit. */
  skipFit?: boolean;
}

const TAU = 0.995;

function fractionToBoundary(x: Float64Array, dx: Float64Array): number {
  let a = 1;
  for (let i = 0; i < x.length; i++) if (dx[i] < 0) a = Math.min(a, (-TAU * x[i]) / dx[i]);
  return a;
}

export async function trainInteriorPoint(asm: Assembler, theta0: Float64Array, s: IPSettings = {}): Promise<TrainResult> {
  if (s.weightNorm) throw new Error('the weight-norm bound is supported by --method al-lm only');
  const t0 = performance.now();
  const K = asm.data.nLabelled;
  const ncon = asm.ncon;
  const margin = s.margin ?? DEFAULT_MARGIN;
  const maxIter = s.maxIter ?? 150;
  const elapsed = () => performance.now() - t0;
  const outOfTime = () => s.timeBudgetMs !== undefined && elapsed() > s.timeBudgetMs;
  const history: ProgressEntry[] = [];
  const state: LMState = { theta: Float64Array.from(theta0), mu: 1e-3, steps: 0 };

  // Warm start: the unconstrained fit, as for the augmented Lagrangian.
  const fit = await lmMinimize(asm, state, { mode: 'objective', rho: 0, mu: 0, margin: 0 }, s.skipFit ? 0 : (s.firstInner ?? 250), { outOfTime });
  // Start. A constraint violated by g > 0 at the unconstrained fit needs a
  // multiplier of about g/K to pull its sample back (the objective's
  // per-sample curvature is 1/K): z_i = max(g_i, 1e-2)/K, s_i = max(g_i, 1e-2),
  // so the barrier pushes θ from the first step. A satisfied one starts on the
  // central path of a small μ_ref = 1e-4/K: s_i = max(−g_i, 1e-2), z_i = μ_ref/s_i,
  // so that constraints far from active exert almost no force. μ₀ = mean(s z).
  let theta = state.theta;
  let g = await asm.constraintValues(theta, margin);
  const S = asm.slack;
  const Z = asm.mult;
  const muRef = 1e-4 / K;
  let mu = 0;
  for (let i = 0; i < ncon; i++) {
    if (g[i] > 0) {
      S[i] = Math.max(g[i], 1e-2);
      Z[i] = Math.max(g[i], 1e-2) / K;
    } else {
      S[i] = Math.max(-g[i], 1e-2);
      Z[i] = muRef / S[i];
    }
    mu += (S[i] * Z[i]) / ncon;
  }
  const muFinal = mu * (s.muFinalRel ?? 1e-6);
  let levelIters = 0;
  let damping = 1e-6;
  // ℓ1 merit weight: exactness needs ν > ‖z*‖∞. Residuals are O(1) output
  // units at most, so multipliers stay below ~1/K; start at 10/K.
  let nu = 10 / K;
  let stopped: TrainResult['stopped'] = 'max_outer';
  const fval = async (th: Float64Array) => (await asm.evaluate(th, { mode: 'objective', rho: 0, mu: 0, margin: 0 })).f;
  let f = await fval(theta);
  const merit = (fv: number, gv: Float64Array, sv: Float64Array) => {
    let m = fv;
    for (let i = 0; i < ncon; i++) m += -mu * Math.log(sv[i]) + nu * Math.abs(gv[i] + sv[i]);
    return m;
  };
  let outer = 0;
  for (let it = 0; it < maxIter; it++) {
    if (outOfTime()) {
      stopped = 'time';
      break;
    }
    const a = await asm.assemble(theta, { mode: 'ip', rho: 0, mu, margin }, asm.dense, !asm.dense);
    const op = await operator(asm, theta, a.G);
    const dTheta = await solveDamped(
      op,
      damping * dampingScale(op),
      a.grad.map((v) => -v),
    );
    if (!dTheta) {
      damping *= 10;
      continue;
    }
    const dg = await asm.constraintDirectional(theta, dTheta);
    const dS = new Float64Array(ncon);
    const dZ = new Float64Array(ncon);
    for (let i = 0; i < ncon; i++) {
      dS[i] = -(g[i] + S[i]) - dg[i];
      dZ[i] = (mu + Z[i] * g[i] + Z[i] * dg[i]) / S[i];
    }
    let zmax = 0;
    for (let i = 0; i < ncon; i++) zmax = Math.max(zmax, Z[i] + dZ[i]);
    nu = Math.max(nu, 2 * zmax); // ν ≥ ‖z‖∞ makes the ℓ1 merit exact; never decreased
    const aS = fractionToBoundary(S, dS);
    const aZ = fractionToBoundary(Z, dZ);
    const m0 = merit(f, g, S);
    let alpha = aS;
    let accepted = false;
    for (let ls = 0; ls < 12; ls++) {
      const th = theta.map((v, i) => v + alpha * dTheta[i]);
      const gn = await asm.constraintValues(th, margin);
      const sn = S.map((v, i) => Math.max(v + alpha * dS[i], -gn[i], 1e-300));
      const fn = await fval(th);
      if (merit(fn, gn, sn) <= m0) {
        theta = th;
        g = gn;
        S.set(sn);
        f = fn;
        accepted = true;
        break;
      }
      alpha *= 0.5;
    }
    // Trust-region-like damping: short steps mean the Gauss–Newton model was trusted too far.
    if (!accepted || alpha < 0.1) damping = Math.min(1e6, damping * 10);
    else if (alpha >= aS * 0.999) damping = Math.max(1e-9, damping / 3);
    if (accepted) {
      state.steps++;
      for (let i = 0; i < ncon; i++) Z[i] = Math.max(Z[i] + aZ * dZ[i], 1e-300);
    }
    // Barrier subproblem solved? primal residual and centrality within a multiple of μ.
    let rp = 0;
    let rc = 0;
    let maxViol = 0;
    for (let i = 0; i < ncon; i++) {
      rp = Math.max(rp, Math.abs(g[i] + S[i]));
      rc = Math.max(rc, Math.abs(S[i] * Z[i] - mu));
      maxViol = Math.max(maxViol, g[i]);
    }
    let step = 0;
    for (let i = 0; i < dTheta.length; i++) step = Math.max(step, Math.abs(alpha * dTheta[i]));
    levelIters++;
    // The barrier subproblem counts as solved when the iterate is primal
    // feasible and the Newton step has become small, or after 15 iterations.
    let th = 0;
    for (let i = 0; i < theta.length; i++) th = Math.max(th, Math.abs(theta[i]));
    const solved = (rp <= 1e-6 && step <= 1e-4 * Math.max(1, th)) || levelIters >= 15;
    if (solved || !accepted) {
      if (mu <= muFinal && solved && rp <= 1e-6) {
        stopped = 'converged';
        break;
      }
      if (solved) {
        levelIters = 0;
        mu = Math.max(muFinal, mu / 5);
        outer++;
        const mse = (await asm.evaluate(theta, { mode: 'objective', rho: 0, mu: 0, margin: 0 })).sse / (K * asm.data.nu);
        const entry: ProgressEntry = { method: 'ip', phase: 'train', outer, steps: state.steps, mse, maxViol: Math.max(0, maxViol), rho: 0, mu, timeMs: elapsed() };
        history.push(entry);
        s.onProgress?.(entry);
      }
    }
  }
  const st = await asm.evaluate(theta, { mode: 'objective', rho: 0, mu: 0, margin });
  const entry: ProgressEntry = { method: 'ip', phase: 'polish', outer: outer + 1, steps: state.steps, mse: st.sse / (K * asm.data.nu), maxViol: Math.max(0, st.maxG), rho: 0, mu, timeMs: elapsed() };
  history.push(entry);
  s.onProgress?.(entry);
  return { theta, history, steps: state.steps, timeMs: elapsed(), stopped, multipliers: Float64Array.from(Z) };
}
