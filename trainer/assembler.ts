/**
 * Runs the Gauss–Newton kernel over the whole training set, split into two
 * fixed halves. Each half accumulates into its own buffers and the halves are
 * summed in a fixed order, so results are bitwise identical whether the
 * second half runs on a worker thread (when the problem is big enough to pay
 * for it) or on the main thread.
 */
import { Worker } from 'node:worker_threads';
import { workerPath } from '../sim/index.js';
import { GNKernel, mergeStats, type KernelData, type KernelStats, type MethodMode, type MethodParams } from './gn-kernel.js';
import { mirrorLower } from './kernels.js';
import { sharedF64 } from './shared.js';

export interface WorkerInit {
  data: KernelData;
  buffers: { theta: Float64Array; mult: Float64Array; slack: Float64Array; grad: Float64Array; G: Float64Array; Wcache: Float64Array; g: Float64Array; v: Float64Array; out: Float64Array };
}

export interface WorkerRequest {
  op: 'assemble' | 'evaluate' | 'constraints' | 'directional' | 'matvec' | 'diagonal';
  range: [number, number];
  params: { mode: MethodMode; rho: number; mu: number; margin: number; curvKeep?: number; curvSeed?: number };
  wantG?: boolean;
  cacheW?: boolean;
}

/** Work (multiply-adds) per assembly above which the second thread pays for its messages. */
const THREAD_THRESHOLD = 2e7;

/** Above this many parameters the trainers go matrix-free (CG) and no n×n matrix is allocated. */
export const DENSE_PARAM_LIMIT = 3000;

export interface AssemblerOptions {
  /** 1: everything on the main thread; 2: the second half on a worker; 'auto' (default): 2 when it pays. */
  threads?: 1 | 2 | 'auto';
  /** Force the matrix-free path (default: dense up to DENSE_PARAM_LIMIT parameters). */
  matrixFree?: boolean;
  /**
   * Labelled samples whose objective curvature enters the dense G per
   * assembly (sub-sampled Gauss–Newton; every active constraint term always enters).
   * Default: all of them up to CURVATURE_SAMPLES(n, nu), a random share above.
   */
  curvatureSamples?: number;
}

/**
 * Default curvature sub-sample: up to 4,000 labelled samples G is exact;
 * above, the most of 2,000 samples, enough rows (samples × outputs) for 4× the
 * parameter count (so the sampled G stays well conditioned), and a fifth of
 * the samples. On the 12-state quadrotor (24-24, 5,900 samples) 2,000
 * measured a lower validation MSE per wall second than 1,000 or 4,000. With
 * 20,160 samples (28-28) 2,000 was too few: each LM step cost half as much as
 * with 4,000, but after the same 120 + 120 steps of the fit and the DAgger
 * round the training MSE was 9.0e-4 against 6.5e-4 (validation 1.08e-3
 * against 7.9e-4; 5.8 against 8.2 minutes for the whole `ultro train`). The
 * error sits in few samples (on the quadrotor 5 % of the validation states
 * carry 70 % of it), which a 10 % sample of the curvature sees too rarely.
 */
export function curvatureSamples(nParams: number, nu: number, nLabelled: number): number {
  return nLabelled <= 4000 ? nLabelled : Math.max(2000, Math.ceil((4 * nParams) / nu), Math.ceil(nLabelled / 5));
}

export class Assembler {
  readonly data: KernelData;
  readonly nParams: number;
  readonly ncon: number;
  /** λ (AL) or z (IP), one per constraint; the optimiser writes here. */
  readonly mult: Float64Array;
  /** IP slacks. */
  readonly slack: Float64Array;
  readonly threads: 1 | 2;
  private readonly main: GNKernel;
  private readonly theta: Float64Array;
  private readonly split: number;
  private readonly gradA: Float64Array;
  private readonly GA: Float64Array;
  private readonly outA: Float64Array;
  private readonly Wcache: Float64Array;
  private readonly g: Float64Array;
  private readonly v: Float64Array;
  private readonly wb: WorkerInit['buffers'];
  private worker: Worker | null = null;
  private second: GNKernel | null = null;
  private pending: ((m: { stats?: KernelStats; ok?: boolean; error?: string }) => void) | null = null;

  /** Whether dense G can be formed (nParams ≤ DENSE_PARAM_LIMIT). */
  readonly dense: boolean;

  /**
   * Multiply-adds of one LM step (assembly of the sampled G and its Cholesky;
   * matrix-free: ~100 CG products), the measure the trainers size their step
   * budgets by.
   */
  get stepCost(): number {
    const { K, nu } = this.data;
    const n = this.nParams;
    return this.dense ? this.curvKeep * K * nu * n * n * 0.5 + (n * n * n) / 3 : 100 * 4 * K * n * nu;
  }

  /** Share of unconstrained samples in each sampled G (1: exact). */
  readonly curvKeep: number;
  private assemblies = 0;

  private constructor(data: KernelData, threads: 1 | 2, matrixFree: boolean, curvSamples?: number) {
    this.data = data;
    this.main = new GNKernel(data);
    const n = this.main.nParams;
    this.nParams = n;
    this.ncon = data.conPtr[data.K];
    this.threads = threads;
    this.split = Math.floor(data.K / 2);
    this.theta = sharedF64(n);
    this.mult = sharedF64(this.ncon);
    this.slack = sharedF64(this.ncon);
    this.dense = !matrixFree && n <= DENSE_PARAM_LIMIT;
    this.curvKeep = Math.min(1, (curvSamples ?? curvatureSamples(n, data.nu, data.nLabelled)) / Math.max(1, data.nLabelled));
    const nG = this.dense ? n * n : 0;
    this.gradA = new Float64Array(n);
    this.GA = new Float64Array(nG);
    this.outA = new Float64Array(n);
    this.Wcache = sharedF64(data.K * data.nu * data.nu);
    this.g = sharedF64(this.ncon);
    this.v = sharedF64(n);
    this.wb = { theta: this.theta, mult: this.mult, slack: this.slack, grad: sharedF64(n), G: sharedF64(nG), Wcache: this.Wcache, g: this.g, v: this.v, out: sharedF64(n) };
  }

  /** `data` arrays should be SharedArrayBuffer-backed (see shared.ts) when threads may be 2. */
  static async create(data: KernelData, opts: AssemblerOptions = {}): Promise<Assembler> {
    const n = new GNKernel(data).nParams;
    const keep = Math.min(1, (opts.curvatureSamples ?? curvatureSamples(n, data.nu, data.nLabelled)) / Math.max(1, data.nLabelled));
    const work = keep * data.K * data.nu * n * n * 0.5;
    const want = opts.threads ?? 'auto';
    const threads: 1 | 2 = want === 'auto' ? (work >= THREAD_THRESHOLD ? 2 : 1) : want;
    const a = new Assembler(data, threads, opts.matrixFree ?? false, opts.curvatureSamples);
    if (threads === 2) await a.startWorker();
    else a.second = new GNKernel(data);
    return a;
  }

  private async startWorker(): Promise<void> {
    const w = new Worker(workerPath('gn'));
    w.unref();
    this.worker = w;
    w.on('message', (m) => {
      const p = this.pending;
      this.pending = null;
      p?.(m);
    });
    w.on('error', (e) => {
      const p = this.pending;
      this.pending = null;
      p?.({ error: e.stack ?? String(e) });
    });
    const init: WorkerInit = { data: this.data, buffers: this.wb };
    await this.call({ init } as never);
  }

  private call(msg: { req: WorkerRequest } | { init: WorkerInit }): Promise<{ stats?: KernelStats; ok?: boolean }> {
    return new Promise((resolve, reject) => {
      this.pending = (m) => (m.error ? reject(new Error(`gn worker: ${m.error}`)) : resolve(m));
      this.worker!.postMessage(msg);
    });
  }

  /** Run `op` on the second half: on the worker (async) or the main thread. */
  private async secondHalf(req: WorkerRequest): Promise<KernelStats | undefined> {
    if (this.worker) return (await this.call({ req })).stats;
    const k = this.second!;
    const b = this.wb;
    const params: MethodParams = { ...req.params, mult: this.mult, slack: this.slack };
    const [k0, k1] = req.range;
    switch (req.op) {
      case 'assemble':
        b.grad.fill(0);
        if (req.wantG) b.G.fill(0);
        return k.assemble(this.theta, params, k0, k1, b.grad, req.wantG ? b.G : null, req.cacheW ? this.Wcache : null);
      case 'evaluate':
        return k.evaluate(this.theta, params, k0, k1);
      case 'constraints':
        k.constraintValues(this.theta, params.margin, k0, k1, this.g);
        return undefined;
      case 'directional':
        k.constraintDirectional(this.theta, this.v, k0, k1, this.g);
        return undefined;
      case 'matvec':
        b.out.fill(0);
        k.matvec(this.theta, this.v, k0, k1, this.Wcache, b.out);
        return undefined;
      case 'diagonal':
        b.out.fill(0);
        k.diagonal(this.theta, k0, k1, this.Wcache, b.out);
        return undefined;
    }
  }

  private params(p: Omit<MethodParams, 'mult' | 'slack'>): WorkerRequest['params'] {
    return { mode: p.mode, rho: p.rho, mu: p.mu, margin: p.margin, curvKeep: p.curvKeep, curvSeed: p.curvSeed };
  }

  private full(p: Omit<MethodParams, 'mult' | 'slack'>): MethodParams {
    return { ...p, mult: this.mult, slack: this.slack };
  }

  /**
   * Gauss–Newton matrix (full symmetric, if wantG), gradient and statistics at θ.
   * With cacheW, per-sample weights are kept for matvec()/diagonal().
   */
  async assemble(theta: Float64Array, p: Omit<MethodParams, 'mult' | 'slack'>, wantG: boolean, cacheW = false): Promise<{ G: Float64Array | null; grad: Float64Array; stats: KernelStats }> {
    if (wantG && !this.dense) throw new Error(`assembler: ${this.nParams} parameters is above the dense limit; use matvec()`);
    this.theta.set(theta);
    const n = this.nParams;
    if (wantG && this.curvKeep < 1) p = { ...p, curvKeep: this.curvKeep, curvSeed: this.assemblies++ };
    const req: WorkerRequest = { op: 'assemble', range: [this.split, this.data.K], params: this.params(p), wantG, cacheW };
    const second = this.secondHalfStart(req);
    this.gradA.fill(0);
    if (wantG) this.GA.fill(0);
    const stA = this.main.assemble(this.theta, this.full(p), 0, this.split, this.gradA, wantG ? this.GA : null, cacheW ? this.Wcache : null);
    const stB = (await second)!;
    const grad = new Float64Array(n);
    for (let i = 0; i < n; i++) grad[i] = this.gradA[i] + this.wb.grad[i];
    let G: Float64Array | null = null;
    if (wantG) {
      G = new Float64Array(n * n);
      for (let i = 0; i < n; i++) for (let j = 0; j <= i; j++) G[i * n + j] = this.GA[i * n + j] + this.wb.G[i * n + j];
      mirrorLower(G, n);
    }
    return { G, grad, stats: mergeStats(stA, stB) };
  }

  /** Start the second half; on a worker it overlaps with the main thread's half. */
  private secondHalfStart(req: WorkerRequest): Promise<KernelStats | undefined> {
    if (this.worker) return this.secondHalf(req);
    // On one thread, run it after the first half (same buffers, same order).
    return Promise.resolve().then(() => this.secondHalf(req));
  }

  async evaluate(theta: Float64Array, p: Omit<MethodParams, 'mult' | 'slack'>): Promise<KernelStats> {
    this.theta.set(theta);
    const second = this.secondHalfStart({ op: 'evaluate', range: [this.split, this.data.K], params: this.params(p) });
    const stA = this.main.evaluate(this.theta, this.full(p), 0, this.split);
    return mergeStats(stA, (await second)!);
  }

  /** g_i(θ) + margin for every constraint. */
  async constraintValues(theta: Float64Array, margin: number): Promise<Float64Array> {
    this.theta.set(theta);
    const second = this.secondHalfStart({ op: 'constraints', range: [this.split, this.data.K], params: { mode: 'objective', rho: 0, mu: 0, margin } });
    this.main.constraintValues(this.theta, margin, 0, this.split, this.g);
    await second;
    return Float64Array.from(this.g);
  }

  /** ∇g_iᵀ v for every constraint (linearised change along v). */
  async constraintDirectional(theta: Float64Array, v: Float64Array): Promise<Float64Array> {
    this.theta.set(theta);
    this.v.set(v);
    const second = this.secondHalfStart({ op: 'directional', range: [this.split, this.data.K], params: { mode: 'objective', rho: 0, mu: 0, margin: 0 } });
    this.main.constraintDirectional(this.theta, this.v, 0, this.split, this.g);
    await second;
    return Float64Array.from(this.g);
  }

  /** Matrix-free G v with the weights cached by the last assemble(…, cacheW = true). */
  async matvec(theta: Float64Array, v: Float64Array): Promise<Float64Array> {
    this.theta.set(theta);
    this.v.set(v);
    const second = this.secondHalfStart({ op: 'matvec', range: [this.split, this.data.K], params: { mode: 'objective', rho: 0, mu: 0, margin: 0 } });
    this.outA.fill(0);
    this.main.matvec(this.theta, this.v, 0, this.split, this.Wcache, this.outA);
    await second;
    const out = new Float64Array(this.nParams);
    for (let i = 0; i < out.length; i++) out[i] = this.outA[i] + this.wb.out[i];
    return out;
  }

  /** diag(G) with cached weights, for a Jacobi preconditioner. */
  async diagonal(theta: Float64Array): Promise<Float64Array> {
    this.theta.set(theta);
    const second = this.secondHalfStart({ op: 'diagonal', range: [this.split, this.data.K], params: { mode: 'objective', rho: 0, mu: 0, margin: 0 } });
    this.outA.fill(0);
    this.main.diagonal(this.theta, 0, this.split, this.Wcache, this.outA);
    await second;
    const out = new Float64Array(this.nParams);
    for (let i = 0; i < out.length; i++) out[i] = this.outA[i] + this.wb.out[i];
    return out;
  }

  async close(): Promise<void> {
    if (this.worker) await this.worker.terminate();
    this.worker = null;
  }
}
