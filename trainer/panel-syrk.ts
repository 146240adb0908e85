/**
 * The Gauss–Newton assembly's inner product: G += P Pᵀ (lower triangle) for
 * panels P of Jacobian rows, one parameter per row of P.
 *
 * It runs the WebAssembly SIMD kernel of wasm/syrk-wat.ts when the runtime
 * has SIMD (Node 20 on x86-64 and AArch64 does): 3.6× the scalar kernel's
 * rate on 548 × 128 and 2000 × 128 panels here (11.3 against 3.2 GFlop/s,
 * one thread; `npm run bench -- kernels`). The panel and an n×n accumulator live
 * in the module's memory; finish() adds the accumulator into the caller's G.
 * Without SIMD it falls back to kernels.ts's syrkLower, straight into G.
 */
import { syrkLower } from './kernels.js';
import { SYRK_WASM_BASE64 } from './wasm/syrk-module.js';

type SyrkFn = (c: number, ldc: number, n: number, x: number, ldx: number, len: number, alpha: number) => void;

let compiled: WebAssembly.Module | null | undefined;
function syrkModule(): WebAssembly.Module | null {
  if (compiled === undefined) {
    const bytes = Buffer.from(SYRK_WASM_BASE64, 'base64');
    compiled = WebAssembly.validate(bytes) ? new WebAssembly.Module(bytes) : null;
  }
  return compiled;
}

/** Whether this runtime runs the SIMD kernel. */
export const wasmSyrkAvailable = (): boolean => syrkModule() !== null;

export class PanelSyrk {
  /** n rows × width columns, row stride width (the caller fills column c of row t at t·width + c). */
  readonly panel: Float64Array;
  private readonly acc: Float64Array | null;
  private readonly syrk: SyrkFn | null;
  private readonly accOffset: number;
  private pending = false;

  /** @param width even; @param wasm false forces the scalar kernel */
  constructor(
    readonly n: number,
    readonly width: number,
    wasm = true,
  ) {
    if (width % 2 !== 0) throw new Error('PanelSyrk: the panel width must be even');
    const mod = wasm ? syrkModule() : null;
    if (!mod) {
      this.panel = new Float64Array(n * width);
      this.acc = null;
      this.syrk = null;
      this.accOffset = 0;
      return;
    }
    const panelBytes = n * width * 8; // a multiple of 16: width is even
    const bytes = panelBytes + n * n * 8;
    const memory = new WebAssembly.Memory({ initial: Math.max(1, Math.ceil(bytes / 65536)) });
    const inst = new WebAssembly.Instance(mod, { env: { memory } });
    this.syrk = inst.exports.syrkLower as SyrkFn;
    this.panel = new Float64Array(memory.buffer, 0, n * width);
    this.accOffset = panelBytes;
    this.acc = new Float64Array(memory.buffer, panelBytes, n * n);
  }

  get usesWasm(): boolean {
    return this.syrk !== null;
  }

  /** G += P[:, :cols] P[:, :cols]ᵀ on the lower triangle (with the SIMD kernel, once finish() has run). */
  flush(G: Float64Array, cols: number): void {
    if (cols <= 0) return;
    const { n, width, panel } = this;
    if (!this.syrk) {
      syrkLower(G, n, 0, n, panel, 0, width, cols, 1);
      return;
    }
    // The kernel takes an even length: a zero column adds nothing.
    if (cols % 2 === 1) {
      for (let t = 0; t < n; t++) panel[t * width + cols] = 0;
      cols++;
    }
    this.syrk(this.accOffset, n, n, 0, width, cols, 1);
    this.pending = true;
  }

  /** Add what flush() accumulated into G's lower triangle, and clear it. */
  finish(G: Float64Array): void {
    const { acc, n } = this;
    if (!acc || !this.pending) return;
    for (let i = 0; i < n; i++) {
      const o = i * n;
      for (let j = 0; j <= i; j++) {
        G[o + j] += acc[o + j];
        acc[o + j] = 0;
      }
    }
    this.pending = false;
  }
}
