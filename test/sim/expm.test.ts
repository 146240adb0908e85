import { EigenvalueDecomposition, Matrix } from 'ml-matrix';
import { describe, expect, it } from 'vitest';
import { Rng, expm, linalg, zohDiscretize } from '../../sim/index.js';

const { fromRows, maxAbs, sub } = linalg;

describe('expm', () => {
  it('scalar: e^a', () => {
    for (const a of [-30, -1, 0, 1e-6, 0.7, 5, 20]) {
      const e = expm(fromRows([[a]])).data[0];
      expect(Math.abs(e - Math.exp(a)) / Math.exp(a)).toBeLessThan(1e-13);
    }
  });
  it('rotation generator: exp([[0, w], [-w, 0]] t) = [[cos, sin], [-sin, cos]]', () => {
    for (const wt of [0.1, 1, 3, 25]) {
      const E = expm(
        fromRows([
          [0, wt],
          [-wt, 0],
        ]),
      );
      const want = fromRows([
        [Math.cos(wt), Math.sin(wt)],
        [-Math.sin(wt), Math.cos(wt)],
      ]);
      expect(maxAbs(sub(E, want))).toBeLessThan(1e-12 * Math.max(1, wt));
    }
  });
  it('symmetric matrices: agrees with V diag(e^λ) Vᵀ from ml-matrix', () => {
    const rng = new Rng(5);
    for (let t = 0; t < 10; t++) {
      const n = 2 + rng.int(6);
      const M = Array.from({ length: n }, () => Array.from({ length: n }, () => 2 * rng.normal()));
      const S = M.map((r, i) => r.map((_, j) => 0.5 * (M[i][j] + M[j][i])));
      const eig = new EigenvalueDecomposition(new Matrix(S));
      const V = eig.eigenvectorMatrix;
      const D = Matrix.diag(eig.realEigenvalues.map(Math.exp));
      const want = V.mmul(D).mmul(V.transpose()).to2DArray();
      const got = expm(fromRows(S));
      const scale = Math.max(...want.flat().map(Math.abs));
      expect(maxAbs(sub(got, fromRows(want)))).toBeLessThan(1e-11 * scale);
    }
  });
  it('rejects non-finite entries', () => {
    expect(() => expm(fromRows([[NaN]]))).toThrow(/non-finite/);
  });
});

describe('zero-order hold', () => {
  it('double integrator: A = [[1, dt], [0, 1]], B = [[dt²/2], [dt]]', () => {
    for (const dt of [0.001, 0.1, 2]) {
      const { Ad, Bd } = zohDiscretize(
        fromRows([
          [0, 1],
          [0, 0],
        ]),
        fromRows([[0], [1]]),
        dt,
      );
      expect(Array.from(Ad.data)).toEqual([1, dt, 0, 1].map((v) => expect.closeTo(v, 14)));
      expect(Bd.data[0]).toBeCloseTo((dt * dt) / 2, 14);
      expect(Bd.data[1]).toBeCloseTo(dt, 14);
    }
  });
  it('first-order lag: a = −1/τ gives B = τ(1 − e^{−dt/τ}) b', () => {
    const tau = 0.3,
      dt = 0.05,
      b = 2;
    const { Ad, Bd } = zohDiscretize(fromRows([[-1 / tau]]), fromRows([[b]]), dt);
    expect(Ad.data[0]).toBeCloseTo(Math.exp(-dt / tau), 15);
    expect(Bd.data[0]).toBeCloseTo(tau * (1 - Math.exp(-dt / tau)) * b, 15);
  });
});
