/** Inputs for the generated policy and the line the C harnesses print for each (test/c/policy_harness.c, test/c/cortex-m/policy_main.c). */
import { Rng } from '../../sim/index.js';
import { hexFloat32, policyFloat32, type QuantizedModel } from '../../codegen/index.js';
import type { PolicyModel } from '../../trainer/index.js';

export const bits = (v: number) => {
  const dv = new DataView(new ArrayBuffer(4));
  dv.setFloat32(0, v);
  return dv.getUint32(0).toString(16).padStart(8, '0');
};
export const cFloatText = (v: number) => (Number.isNaN(v) ? 'nan' : v === Infinity ? 'inf' : v === -Infinity ? '-inf' : hexFloat32(Math.fround(v)));

/** ≥ 10,000 float states: domain corners, uniform in and beyond the domain, near-boundary, NaN/±Inf. */
export function floatInputs(model: PolicyModel, n: number, seed: number): number[][] {
  const rng = new Rng(seed);
  const lo = model.input.domain.min,
    hi = model.input.domain.max;
  const nx = lo.length;
  const out: number[][] = [];
  for (let c = 0; c < 1 << nx; c++) out.push(lo.map((l, i) => ((c >> i) & 1 ? hi[i] : l)));
  const special = [NaN, Infinity, -Infinity, 1e30, -1e30, 0, -0];
  for (const s of special) out.push(lo.map((l, i) => (i === 0 ? s : (l + hi[i]) / 2)));
  while (out.length < n) {
    const mode = rng.int(4);
    out.push(
      lo.map((l, i) => {
        const w = hi[i] - l;
        if (mode === 0) return rng.uniform(l - 0.5 * w, hi[i] + 0.5 * w); // in and out of the domain
        if (mode === 1) return (rng.next() < 0.5 ? l : hi[i]) + w * 1e-6 * rng.normal(); // at the boundary
        return rng.uniform(l, hi[i]);
      }),
    );
  }
  return out;
}

/**
 * What the harness prints for a float state: xq… | uq… | the float32 bits of u… | clamped
 * (and with a safety filter: | the filtered u's bits… | moved), from
 * the TS reference; the clamped flag from float32 compares with the domain (the C compares bits).
 */
export function policyLine(q: QuantizedModel, x: number[]): string {
  const r = policyFloat32(q, x);
  const clamped = x.some((v, i) => !(Math.fround(v) >= q.wrapper.dMin[i]) || Math.fround(v) > q.wrapper.dMax[i]);
  const line = `${r.xq.map((v) => `${v} `).join('')}|${r.uq.map((v) => ` ${v}`).join('')} |${r.uBox.map((v) => ` ${bits(v)}`).join('')} | ${clamped ? 1 : 0}`;
  return q.filter ? `${line} |${r.u.map((v) => ` ${bits(v)}`).join('')} | ${r.filtered ? 1 : 0}` : line;
}
