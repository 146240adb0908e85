/**
 * Range analysis of the float network over its declared input domain.
 *
 * Interval bound propagation (IBP): for z = W a + b with a ∈ [lo, hi],
 *   z ∈ [W⁺lo + W⁻hi + b, W⁺hi + W⁻lo + b]   (W⁺ = max(W, 0), W⁻ = min(W, 0)),
 * and monotone activations map interval ends to interval ends. IBP is sound
 * but loose; the tighter option splits the domain into a grid of sub-boxes,
 * runs IBP on each and takes the union (still sound: every input lies in one
 * sub-box). The bounds are in the network's normalised units.
 */
import type { PolicyModel } from '../trainer/index.js';

export type Interval = [number, number];

export interface LayerRanges {
  /** Bounds of the layer's input activations. */
  input: Interval[];
  /** Bounds of each neuron's pre-activation z = W a + b. */
  pre: Interval[];
  /** Bounds after the activation (= pre for the linear output layer). */
  post: Interval[];
}

export interface RangeReport {
  method: 'ibp' | 'ibp-split';
  /** Sub-boxes used (1 for plain IBP). */
  boxes: number;
  /** Normalised input bounds (the declared domain through the input scaling). */
  input: Interval[];
  layers: LayerRanges[];
  /** Bounds of the normalised network output (before output scaling). */
  output: Interval[];
}

function act(kind: string, z: number): number {
  if (kind === 'tanh') return Math.tanh(z);
  if (kind === 'relu') return Math.max(0, z);
  if (kind === 'hardtanh') return Math.max(-1, Math.min(1, z));
  return z;
}

/** Normalised bounds of the declared input domain. */
export function normalisedDomain(model: PolicyModel): Interval[] {
  const { domain, offset, scale } = model.input;
  return domain.min.map((lo, i) => [(lo - offset[i]) / scale[i], (domain.max[i] - offset[i]) / scale[i]]);
}

/** Plain IBP from a box of normalised inputs. */
export function ibp(model: PolicyModel, box: Interval[]): LayerRanges[] {
  const out: LayerRanges[] = [];
  let a = box.map((b) => [b[0], b[1]] as Interval);
  const L = model.network.layers.length;
  model.network.layers.forEach((layer, l) => {
    const kind = l === L - 1 ? 'linear' : model.network.activation;
    const pre: Interval[] = layer.W.map((row, i) => {
      let lo = layer.b[i],
        hi = layer.b[i];
      row.forEach((w, j) => {
        if (w >= 0) {
          lo += w * a[j][0];
          hi += w * a[j][1];
        } else {
          lo += w * a[j][1];
          hi += w * a[j][0];
        }
      });
      return [lo, hi];
    });
    const post = pre.map(([lo, hi]) => [act(kind, lo), act(kind, hi)] as Interval);
    out.push({ input: a, pre, post });
    a = post;
  });
  return out;
}

function union(a: Interval[], b: Interval[]): Interval[] {
  return a.map((x, i) => [Math.min(x[0], b[i][0]), Math.max(x[1], b[i][1])]);
}

/**
 * Range analysis over the declared domain. With `splits` > 1 the domain is cut
 * into splits^nx sub-boxes (capped at `maxBoxes`) and the IBP bounds united.
 */
export function analyseRanges(model: PolicyModel, opts: { splits?: number; maxBoxes?: number } = {}): RangeReport {
  const dom = normalisedDomain(model);
  const nx = dom.length;
  let splits = Math.max(1, Math.floor(opts.splits ?? 8));
  const maxBoxes = opts.maxBoxes ?? 4096;
  while (splits > 1 && Math.pow(splits, nx) > maxBoxes) splits--;
  if (splits === 1) {
    const layers = ibp(model, dom);
    return { method: 'ibp', boxes: 1, input: dom, layers, output: layers[layers.length - 1].post };
  }
  const total = Math.pow(splits, nx);
  let acc: LayerRanges[] | null = null;
  for (let b = 0; b < total; b++) {
    let r = b;
    const box: Interval[] = dom.map(([lo, hi]) => {
      const k = r % splits;
      r = Math.floor(r / splits);
      const w = (hi - lo) / splits;
      return [lo + k * w, k === splits - 1 ? hi : lo + (k + 1) * w];
    });
    const layers = ibp(model, box);
    acc = acc ? acc.map((L, l) => ({ input: union(L.input, layers[l].input), pre: union(L.pre, layers[l].pre), post: union(L.post, layers[l].post) })) : layers;
  }
  return { method: 'ibp-split', boxes: total, input: dom, layers: acc!, output: acc![acc!.length - 1].post };
}
