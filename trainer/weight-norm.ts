/**
 * Optional layer weight-norm constraints  ‖W_l‖²_F ≤ c_l²,  written as
 * g_l(θ) = ‖W_l‖²_F / c_l² − 1 ≤ 0. Since the activations are 1-Lipschitz,
 * the network's Lipschitz constant is at most Π_l ‖W_l‖₂ ≤ Π_l c_l (in
 * normalised units). Unlike the per-sample constraints these are not affine
 * in an output, so their (exact) Hessian 2I/c_l² on the layer's block is added
 * directly.
 */
import { layerOffsets } from './mlp.js';

/** θ's index range [a, b) of every layer's weight matrix. */
function weightRanges(sizes: readonly number[]): [number, number][] {
  const off = layerOffsets(sizes);
  return off.w.map((w, l) => [w, w + sizes[l + 1] * sizes[l]]);
}

/** ‖W_l‖²_F of every layer, over its range of θ. */
function squaredNorms(theta: Float64Array, ranges: readonly [number, number][]): number[] {
  return ranges.map(([a, b]) => {
    let s = 0;
    for (let i = a; i < b; i++) s += theta[i] * theta[i];
    return s;
  });
}

/** Frobenius norm of every layer's weight matrix. */
export function layerNorms(theta: Float64Array, sizes: readonly number[]): number[] {
  return squaredNorms(theta, weightRanges(sizes)).map(Math.sqrt);
}

export class WeightNormConstraints {
  readonly count: number;
  private readonly ranges: [number, number][];

  constructor(
    sizes: number[],
    readonly bound: number,
  ) {
    if (!(bound > 0)) throw new Error('weight-norm bound must be > 0');
    this.ranges = weightRanges(sizes);
    this.count = this.ranges.length;
  }

  values(theta: Float64Array): Float64Array {
    const c2 = this.bound * this.bound;
    return Float64Array.from(squaredNorms(theta, this.ranges).map((s) => s / c2 - 1));
  }

  /**
   * Add the Gauss–Newton terms of constraint l with Hessian weight h (on ∇g∇gᵀ),
   * gradient weight q (on ∇g) and curvature weight t (on ∇²g): G += h ∇g∇gᵀ + t ∇²g, ∇ += q ∇g.
   */
  addTerms(theta: Float64Array, l: number, h: number, q: number, t: number, G: Float64Array | null, grad: Float64Array, n: number): void {
    const [a, b] = this.ranges[l];
    const c2 = this.bound * this.bound;
    for (let i = a; i < b; i++) grad[i] += (q * 2 * theta[i]) / c2;
    if (!G) return;
    for (let i = a; i < b; i++) {
      const gi = (2 * theta[i]) / c2;
      if (h !== 0) for (let j = a; j < b; j++) G[i * n + j] += h * gi * ((2 * theta[j]) / c2);
      G[i * n + i] += (t * 2) / c2;
    }
  }

  /** G v for the same terms (matrix-free). */
  addMatvec(theta: Float64Array, l: number, h: number, t: number, v: Float64Array, out: Float64Array): void {
    const [a, b] = this.ranges[l];
    const c2 = this.bound * this.bound;
    let gv = 0;
    for (let i = a; i < b; i++) gv += ((2 * theta[i]) / c2) * v[i];
    for (let i = a; i < b; i++) out[i] += h * ((2 * theta[i]) / c2) * gv + ((t * 2) / c2) * v[i];
  }
}
