/**
 * The baseline the benchmark compares against: Adam (Kingma & Ba, ICLR 2015)
 * on the fixed-penalty loss
 *
 *   f(θ) + β Σ_i max(0, g_i(θ) + margin)²,
 *
 * full batch or minibatch, in the same code base (same kernel, data and
 * constraints) so that the comparison with the constrained trainers is fair.
 * β is a hand-picked constant, which is exactly what Ultro avoids.
 */
import { Rng } from '../sim/index.js';
import type { Assembler } from './assembler.js';
import { GNKernel, mergeStats, emptyStats } from './gn-kernel.js';
import { DEFAULT_MARGIN } from './problem.js';
import type { ProgressEntry, ProgressFn } from './progress.js';
import type { TrainResult } from './ultro.js';

export interface AdamSettings {
  /** 'full' for full-batch, or a minibatch size. */
  batch?: 'full' | number;
  lr?: number;
  /** Learning rate at the end of the budget, by cosine decay (default lr/100). */
  lrFinal?: number;
  beta1?: number;
  beta2?: number;
  /** Fixed penalty weight β; default 100/K, the AL's starting penalty. */
  penalty?: number;
  margin?: number;
  /** Number of epochs (passes over the data) when there is no time budget. */
  epochs?: number;
  timeBudgetMs?: number;
  seed?: number;
  onProgress?: ProgressFn;
  /** Report every this many epochs (default: 20 reports in all). */
  reportEvery?: number;
}

export async function trainAdam(asm: Assembler, theta0: Float64Array, s: AdamSettings = {}): Promise<TrainResult> {
  const t0 = performance.now();
  const data = asm.data;
  const K = data.K;
  const n = asm.nParams;
  const batch = s.batch === undefined || s.batch === 'full' ? K : Math.max(1, Math.min(K, Math.floor(s.batch)));
  const lr0 = s.lr ?? 1e-2;
  const lrF = s.lrFinal ?? lr0 / 100;
  const b1 = s.beta1 ?? 0.9;
  const b2 = s.beta2 ?? 0.999;
  const eps = 1e-8;
  const beta = s.penalty ?? 100 / data.nLabelled;
  const margin = s.margin ?? DEFAULT_MARGIN;
  const epochs = s.epochs ?? (batch === K ? 2000 : 200);
  const method = batch === K ? 'adam' : 'adam-minibatch';
  const params = { mode: 'penalty' as const, rho: beta, mu: 0, margin };
  const theta = Float64Array.from(theta0);
  const m = new Float64Array(n);
  const v = new Float64Array(n);
  const kernel = new GNKernel(data);
  const rng = new Rng(s.seed ?? 1);
  const nBatches = Math.ceil(K / batch);
  const order = Array.from({ length: nBatches }, (_, i) => i);
  const history: ProgressEntry[] = [];
  const elapsed = () => performance.now() - t0;
  const budget = s.timeBudgetMs;
  const reportEvery = s.reportEvery ?? Math.max(1, Math.floor(epochs / 20));
  let step = 0;
  let stopped: TrainResult['stopped'] = 'max_outer';
  const grad = new Float64Array(n);
  for (let epoch = 1; ; epoch++) {
    if (budget === undefined && epoch > epochs) break;
    if (budget !== undefined && elapsed() > budget) {
      stopped = 'time';
      break;
    }
    const progress = budget !== undefined ? Math.min(1, elapsed() / budget) : (epoch - 1) / epochs;
    const lr = lrF + 0.5 * (lr0 - lrF) * (1 + Math.cos(Math.PI * progress));
    rng.shuffle(order);
    let st = emptyStats();
    for (const bi of order) {
      const k0 = bi * batch;
      const k1 = Math.min(K, k0 + batch);
      let bs;
      if (batch === K) {
        const a = await asm.assemble(theta, params, false);
        grad.set(a.grad);
        bs = a.stats;
      } else {
        grad.fill(0);
        bs = kernel.assemble(theta, { ...params, mult: asm.mult, slack: asm.slack }, k0, k1, grad, null);
        // the kernel divides the objective by K; rescale the minibatch to an unbiased full-data estimate
        const sc = K / (k1 - k0);
        for (let i = 0; i < n; i++) grad[i] *= sc;
      }
      st = mergeStats(st, bs);
      step++;
      const c1 = 1 - Math.pow(b1, step);
      const c2 = 1 - Math.pow(b2, step);
      for (let i = 0; i < n; i++) {
        m[i] = b1 * m[i] + (1 - b1) * grad[i];
        v[i] = b2 * v[i] + (1 - b2) * grad[i] * grad[i];
        theta[i] -= (lr * (m[i] / c1)) / (Math.sqrt(v[i] / c2) + eps);
      }
    }
    if (epoch % reportEvery === 0) {
      const entry: ProgressEntry = { method, phase: 'train', outer: epoch, steps: step, mse: st.sse / (data.nLabelled * data.nu), maxViol: Math.max(0, st.maxG), rho: beta, mu: lr, timeMs: elapsed() };
      history.push(entry);
      s.onProgress?.(entry);
    }
  }
  const fin = await asm.evaluate(theta, params);
  const entry: ProgressEntry = {
    method,
    phase: 'train',
    outer: history.length + 1,
    steps: step,
    mse: fin.sse / (data.nLabelled * data.nu),
    maxViol: Math.max(0, fin.maxG),
    rho: beta,
    mu: lrF,
    timeMs: elapsed(),
  };
  history.push(entry);
  s.onProgress?.(entry);
  return { theta, history, steps: step, timeMs: elapsed(), stopped, multipliers: new Float64Array(asm.ncon) };
}
