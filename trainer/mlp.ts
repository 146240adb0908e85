/**
 * A small multilayer perceptron with its parameters in one Float64Array.
 *
 * Layout of θ: for each layer l, W_l (out×in, row-major) then b_l. Hidden
 * layers use tanh, ReLU or hard-tanh; the last layer is linear. The network
 * maps normalised inputs to normalised outputs; the affine input/output
 * scaling lives in the model (see model-file.ts), so that the network itself
 * works on O(1) numbers.
 *
 * Besides the forward pass it gives, per sample, the exact Jacobian of the
 * outputs with respect to θ (backpropagation, one backward sweep per output)
 * and Jacobian–vector products (forward-mode), which the Gauss–Newton
 * trainers need.
 */
import { Rng } from '../sim/index.js';

export type Activation = 'tanh' | 'relu' | 'hardtanh';
export const ACTIVATIONS: readonly Activation[] = ['tanh', 'relu', 'hardtanh'];

export interface MLPSpec {
  /** Layer widths, input first, output last: e.g. [2, 16, 16, 1]. */
  sizes: number[];
  /** Activation of the hidden layers. */
  activation: Activation;
}

export function paramCount(sizes: readonly number[]): number {
  let n = 0;
  for (let l = 1; l < sizes.length; l++) n += sizes[l] * sizes[l - 1] + sizes[l];
  return n;
}

/** Offsets of W_l and b_l in θ. */
export function layerOffsets(sizes: readonly number[]): { w: number[]; b: number[] } {
  const w: number[] = [];
  const b: number[] = [];
  let o = 0;
  for (let l = 1; l < sizes.length; l++) {
    w.push(o);
    o += sizes[l] * sizes[l - 1];
    b.push(o);
    o += sizes[l];
  }
  return { w, b };
}

function act(a: Activation, z: number): number {
  if (a === 'tanh') return Math.tanh(z);
  if (a === 'relu') return z > 0 ? z : 0;
  return z > 1 ? 1 : z < -1 ? -1 : z;
}

/** Derivative from the pre-activation z and the activation value h = act(z). */
function dact(a: Activation, z: number, h: number): number {
  if (a === 'tanh') return 1 - h * h;
  if (a === 'relu') return z > 0 ? 1 : 0;
  return z > -1 && z < 1 ? 1 : 0;
}

export class MLP {
  readonly sizes: number[];
  readonly activation: Activation;
  readonly nParams: number;
  readonly nIn: number;
  readonly nOut: number;
  private readonly off: { w: number[]; b: number[] };
  /** Scratch: pre-activations and activations per layer (layer 0 = input). */
  private readonly z: Float64Array[];
  private readonly h: Float64Array[];
  private readonly delta: Float64Array[];
  private readonly tz: Float64Array[];

  constructor(spec: MLPSpec) {
    if (spec.sizes.length < 2) throw new Error('MLP: need at least an input and an output layer');
    for (const s of spec.sizes) if (!Number.isInteger(s) || s < 1) throw new Error(`MLP: layer sizes must be positive integers, got ${spec.sizes}`);
    if (!ACTIVATIONS.includes(spec.activation)) throw new Error(`MLP: unknown activation "${spec.activation}"`);
    this.sizes = spec.sizes.slice();
    this.activation = spec.activation;
    this.nParams = paramCount(this.sizes);
    this.nIn = this.sizes[0];
    this.nOut = this.sizes[this.sizes.length - 1];
    this.off = layerOffsets(this.sizes);
    this.z = this.sizes.map((s) => new Float64Array(s));
    this.h = this.sizes.map((s) => new Float64Array(s));
    this.delta = this.sizes.map((s) => new Float64Array(s));
    this.tz = this.sizes.map((s) => new Float64Array(s));
  }

  get layerCount(): number {
    return this.sizes.length - 1;
  }

  offsets(): { w: number[]; b: number[] } {
    return this.off;
  }

  /**
   * Seeded initialisation: Glorot-uniform weights for tanh/hard-tanh, He-uniform
   * for ReLU, zero biases; the output layer is scaled down so the initial
   * network is nearly constant.
   */
  init(seed: number): Float64Array {
    const rng = new Rng(seed);
    const theta = new Float64Array(this.nParams);
    for (let l = 1; l < this.sizes.length; l++) {
      const nin = this.sizes[l - 1],
        nout = this.sizes[l];
      const last = l === this.sizes.length - 1;
      const lim = this.activation === 'relu' && !last ? Math.sqrt(6 / nin) : Math.sqrt(6 / (nin + nout));
      const s = last ? 0.1 * lim : lim;
      const o = this.off.w[l - 1];
      for (let i = 0; i < nin * nout; i++) theta[o + i] = rng.uniform(-s, s);
    }
    return theta;
  }

  /** The activations of layer l (1 … L−1 hidden) at input x, copied into `out`. */
  layerActivations(theta: ArrayLike<number>, x: ArrayLike<number>, l: number, out: Float64Array, xOff = 0): void {
    this.forward(theta, x, new Float64Array(this.nOut), xOff, 0);
    out.set(this.h[l]);
  }

  /** Forward pass for one input; writes the outputs to `out` and keeps activations for backprop. */
  forward(theta: ArrayLike<number>, x: ArrayLike<number>, out: Float64Array, xOff = 0, outOff = 0): void {
    const L = this.sizes.length - 1;
    const h0 = this.h[0];
    for (let i = 0; i < this.nIn; i++) h0[i] = x[xOff + i];
    for (let l = 1; l <= L; l++) {
      const nin = this.sizes[l - 1],
        nout = this.sizes[l];
      const hin = this.h[l - 1];
      const zl = this.z[l],
        hl = this.h[l];
      const wo = this.off.w[l - 1],
        bo = this.off.b[l - 1];
      const last = l === L;
      for (let i = 0; i < nout; i++) {
        let s = theta[bo + i];
        const row = wo + i * nin;
        for (let j = 0; j < nin; j++) s += theta[row + j] * hin[j];
        zl[i] = s;
        hl[i] = last ? s : act(this.activation, s);
      }
    }
    const hL = this.h[L];
    for (let i = 0; i < this.nOut; i++) out[outOff + i] = hL[i];
  }

  /**
   * Jacobian of the outputs at the last forward() input with respect to θ,
   * written row-major into J (nOut × nParams).
   */
  jacobianAfterForward(theta: ArrayLike<number>, J: Float64Array, jOff = 0): void {
    const L = this.sizes.length - 1;
    const P = this.nParams;
    for (let o = 0; o < this.nOut; o++) {
      const row = jOff + o * P;
      // δ_L = e_o
      const dL = this.delta[L];
      dL.fill(0);
      dL[o] = 1;
      for (let l = L; l >= 1; l--) {
        const nin = this.sizes[l - 1],
          nout = this.sizes[l];
        const dl = this.delta[l];
        const hin = this.h[l - 1];
        const wo = this.off.w[l - 1],
          bo = this.off.b[l - 1];
        for (let i = 0; i < nout; i++) {
          const di = dl[i];
          J[row + bo + i] = di;
          const r = row + wo + i * nin;
          if (di === 0) {
            for (let j = 0; j < nin; j++) J[r + j] = 0;
          } else {
            for (let j = 0; j < nin; j++) J[r + j] = di * hin[j];
          }
        }
        if (l > 1) {
          const dprev = this.delta[l - 1];
          const zp = this.z[l - 1],
            hp = this.h[l - 1];
          for (let j = 0; j < nin; j++) {
            let s = 0;
            for (let i = 0; i < nout; i++) s += theta[wo + i * nin + j] * dl[i];
            dprev[j] = s * dact(this.activation, zp[j], hp[j]);
          }
        }
      }
    }
  }

  /**
   * Vector–Jacobian product at the last forward() input: grad += J(x)ᵀ r
   * (one backward sweep with δ_L = r).
   */
  vjpAfterForward(theta: ArrayLike<number>, r: ArrayLike<number>, grad: Float64Array, rOff = 0): void {
    const L = this.sizes.length - 1;
    const dL = this.delta[L];
    for (let o = 0; o < this.nOut; o++) dL[o] = r[rOff + o];
    for (let l = L; l >= 1; l--) {
      const nin = this.sizes[l - 1],
        nout = this.sizes[l];
      const dl = this.delta[l];
      const hin = this.h[l - 1];
      const wo = this.off.w[l - 1],
        bo = this.off.b[l - 1];
      for (let i = 0; i < nout; i++) {
        const di = dl[i];
        if (di === 0) continue;
        grad[bo + i] += di;
        const row = wo + i * nin;
        for (let j = 0; j < nin; j++) grad[row + j] += di * hin[j];
      }
      if (l > 1) {
        const dprev = this.delta[l - 1];
        const zp = this.z[l - 1],
          hp = this.h[l - 1];
        for (let j = 0; j < nin; j++) {
          let s = 0;
          for (let i = 0; i < nout; i++) s += theta[wo + i * nin + j] * dl[i];
          dprev[j] = s * dact(this.activation, zp[j], hp[j]);
        }
      }
    }
  }

  /** Forward pass plus Jacobian. */
  jacobian(theta: ArrayLike<number>, x: ArrayLike<number>, out: Float64Array, J: Float64Array): void {
    this.forward(theta, x, out);
    this.jacobianAfterForward(theta, J);
  }

  /**
   * Jacobian–vector product J(x) v (forward mode) for one input; writes the
   * outputs to `out` and J v to `jv`.
   */
  jvp(theta: ArrayLike<number>, v: ArrayLike<number>, x: ArrayLike<number>, out: Float64Array, jv: Float64Array, xOff = 0): void {
    const L = this.sizes.length - 1;
    const h0 = this.h[0];
    const t0 = this.tz[0];
    for (let i = 0; i < this.nIn; i++) {
      h0[i] = x[xOff + i];
      t0[i] = 0;
    }
    for (let l = 1; l <= L; l++) {
      const nin = this.sizes[l - 1],
        nout = this.sizes[l];
      const hin = this.h[l - 1],
        tin = this.tz[l - 1];
      const zl = this.z[l],
        hl = this.h[l],
        tl = this.tz[l];
      const wo = this.off.w[l - 1],
        bo = this.off.b[l - 1];
      const last = l === L;
      for (let i = 0; i < nout; i++) {
        let s = theta[bo + i];
        let t = v[bo + i];
        const row = wo + i * nin;
        for (let j = 0; j < nin; j++) {
          s += theta[row + j] * hin[j];
          t += v[row + j] * hin[j] + theta[row + j] * tin[j];
        }
        zl[i] = s;
        if (last) {
          hl[i] = s;
          tl[i] = t;
        } else {
          const hv = act(this.activation, s);
          hl[i] = hv;
          tl[i] = dact(this.activation, s, hv) * t;
        }
      }
    }
    for (let i = 0; i < this.nOut; i++) {
      out[i] = this.h[L][i];
      jv[i] = this.tz[L][i];
    }
  }

  /** Outputs for a batch of inputs (row-major K × nIn → K × nOut). */
  forwardBatch(theta: ArrayLike<number>, X: ArrayLike<number>, K: number, out?: Float64Array): Float64Array {
    const Y = out ?? new Float64Array(K * this.nOut);
    for (let k = 0; k < K; k++) this.forward(theta, X, Y, k * this.nIn, k * this.nOut);
    return Y;
  }
}
