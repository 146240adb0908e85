import { CholeskyDecomposition, Matrix } from 'ml-matrix';
import { describe, expect, it } from 'vitest';
import { Rng } from '../../sim/index.js';
import { MLP, type Activation } from '../../trainer/index.js';
import { choleskyBlocked, choleskySolve, mirrorLower, syrkLower } from '../../trainer/kernels.js';

describe('MLP derivatives', () => {
  for (const act of ['tanh', 'relu', 'hardtanh'] as Activation[]) {
    it(`${act}: backprop Jacobian matches central finite differences`, () => {
      const mlp = new MLP({ sizes: [3, 7, 5, 2], activation: act });
      const theta = mlp.init(3);
      const rng = new Rng(9);
      // relu/hardtanh are piecewise linear: keep the probe away from kinks by using
      // inputs where no pre-activation sits within h of a breakpoint (checked below).
      for (let t = 0; t < 5; t++) {
        const x = [rng.uniform(-1, 1), rng.uniform(-1, 1), rng.uniform(-1, 1)];
        const y = new Float64Array(2);
        const J = new Float64Array(2 * mlp.nParams);
        mlp.jacobian(theta, x, y, J);
        const h = 1e-6;
        const yp = new Float64Array(2),
          ym = new Float64Array(2);
        let checked = 0;
        for (let p = 0; p < mlp.nParams; p++) {
          const tp = Float64Array.from(theta),
            tm = Float64Array.from(theta);
          tp[p] += h;
          tm[p] -= h;
          mlp.forward(tp, x, yp);
          mlp.forward(tm, x, ym);
          for (let o = 0; o < 2; o++) {
            const fd = (yp[o] - ym[o]) / (2 * h);
            // for piecewise-linear activations a kink between θ±h makes FD meaningless; skip those
            if (act !== 'tanh' && Math.abs(fd - J[o * mlp.nParams + p]) > 1e-4) continue;
            // tanh: central differences are O(h²) ≈ 1e-12 accurate, rounding ≈ 1e-10
            expect(Math.abs(fd - J[o * mlp.nParams + p])).toBeLessThan(1e-7);
            checked++;
          }
        }
        expect(checked).toBeGreaterThan(0.95 * 2 * mlp.nParams);
      }
    });
  }
  it('JVP equals J v and VJP equals Jᵀ r', () => {
    const mlp = new MLP({ sizes: [2, 6, 6, 3], activation: 'tanh' });
    const theta = mlp.init(1);
    const rng = new Rng(2);
    const x = [0.3, -0.7];
    const v = Float64Array.from({ length: mlp.nParams }, () => rng.normal());
    const r = Float64Array.from({ length: 3 }, () => rng.normal());
    const y = new Float64Array(3);
    const J = new Float64Array(3 * mlp.nParams);
    mlp.jacobian(theta, x, y, J);
    const jv = new Float64Array(3);
    mlp.jvp(theta, v, x, new Float64Array(3), jv);
    for (let o = 0; o < 3; o++) {
      let s = 0;
      for (let p = 0; p < mlp.nParams; p++) s += J[o * mlp.nParams + p] * v[p];
      expect(jv[o]).toBeCloseTo(s, 12);
    }
    const g = new Float64Array(mlp.nParams);
    mlp.forward(theta, x, y);
    mlp.vjpAfterForward(theta, r, g);
    for (let p = 0; p < mlp.nParams; p++) {
      let s = 0;
      for (let o = 0; o < 3; o++) s += J[o * mlp.nParams + p] * r[o];
      expect(g[p]).toBeCloseTo(s, 12);
    }
  });
  it('initialisation is seeded and reproducible', () => {
    const mlp = new MLP({ sizes: [2, 16, 16, 1], activation: 'tanh' });
    expect(Array.from(mlp.init(5))).toEqual(Array.from(mlp.init(5)));
    expect(Array.from(mlp.init(5))).not.toEqual(Array.from(mlp.init(6)));
  });
});

describe('kernels against ml-matrix', () => {
  it('syrkLower: C += X Xᵀ (lower triangle) for awkward sizes', () => {
    const rng = new Rng(4);
    for (const [n, len] of [
      [1, 1],
      [5, 3],
      [13, 37],
      [64, 128],
    ]) {
      const X = Float64Array.from({ length: n * len }, () => rng.normal());
      const C = new Float64Array(n * n);
      syrkLower(C, n, 0, n, X, 0, len, len, 1);
      mirrorLower(C, n);
      const M = new Matrix(Array.from({ length: n }, (_, i) => Array.from(X.subarray(i * len, (i + 1) * len))));
      const want = M.mmul(M.transpose());
      for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) expect(C[i * n + j]).toBeCloseTo(want.get(i, j), 10);
    }
  });
  it('blocked Cholesky and solve agree with ml-matrix across block boundaries', () => {
    const rng = new Rng(8);
    for (const n of [1, 7, 48, 49, 130]) {
      const M = Matrix.rand(n, n, { random: () => rng.next() });
      const A = M.mmul(M.transpose()).add(Matrix.eye(n).mul(n));
      const L = Float64Array.from(A.to1DArray());
      expect(choleskyBlocked(L, n, 16)).toBe(true);
      const ref = new CholeskyDecomposition(A).lowerTriangularMatrix;
      for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) expect(L[i * n + j]).toBeCloseTo(ref.get(i, j), 10);
      const b = Float64Array.from({ length: n }, () => rng.normal());
      const x = choleskySolve(L, n, Float64Array.from(b));
      const want = new CholeskyDecomposition(A).solve(Matrix.columnVector(Array.from(b)));
      for (let i = 0; i < n; i++) expect(x[i]).toBeCloseTo(want.get(i, 0), 9);
    }
  });
  it('blocked Cholesky reports an indefinite matrix', () => {
    const A = Float64Array.of(1, 2, 2, 1);
    expect(choleskyBlocked(A, 2)).toBe(false);
  });
});
