import { EigenvalueDecomposition, Matrix, inverse as mlInverse } from 'ml-matrix';
import { describe, expect, it } from 'vitest';
import { dareResidual, getPlant, linalg, lqr, solveDare } from '../../sim/index.js';

const { fromRows } = linalg;

/**
 * Independent DARE solution from the stable invariant subspace of the
 * symplectic matrix Z = [[A + G A⁻ᵀQ, −G A⁻ᵀ], [−A⁻ᵀQ, A⁻ᵀ]], G = BR⁻¹Bᵀ:
 * P = U₂U₁⁻¹ (Laub 1979; Pappas, Laub & Sandell 1980). Uses ml-matrix only.
 */
function dareByEigenvectors(A: number[][], B: number[][], Q: number[][], R: number[][]): number[][] {
  const n = A.length;
  const Am = new Matrix(A),
    Bm = new Matrix(B),
    Qm = new Matrix(Q),
    Rm = new Matrix(R);
  const G = Bm.mmul(mlInverse(Rm)).mmul(Bm.transpose());
  const AinvT = mlInverse(Am).transpose();
  const Z = Matrix.zeros(2 * n, 2 * n);
  Z.setSubMatrix(Am.clone().add(G.mmul(AinvT).mmul(Qm)), 0, 0);
  Z.setSubMatrix(G.mmul(AinvT).mul(-1), 0, n);
  Z.setSubMatrix(AinvT.mmul(Qm).mul(-1), n, 0);
  Z.setSubMatrix(AinvT, n, n);
  const eig = new EigenvalueDecomposition(Z);
  const re = eig.realEigenvalues,
    im = eig.imaginaryEigenvalues;
  const V = eig.eigenvectorMatrix;
  // Complex pairs occupy two columns (real and imaginary parts); both span the real invariant subspace.
  const cols = re
    .map((r, i) => [Math.hypot(r, im[i]), i])
    .filter(([mag]) => mag < 1)
    .map(([, i]) => i);
  expect(cols.length).toBe(n);
  const U = V.subMatrixColumn(cols);
  const U1 = U.subMatrix(0, n - 1, 0, n - 1);
  const U2 = U.subMatrix(n, 2 * n - 1, 0, n - 1);
  return U2.mmul(mlInverse(U1)).to2DArray();
}

describe('DARE by doubling', () => {
  it('scalar plant: closed form of b²p² + (r(1−a²) − qb²)p − qr = 0', () => {
    for (const [a, b, q, r] of [
      [1, 1, 1, 1],
      [1.2, 0.5, 2, 0.1],
      [0.5, 2, 1, 10],
    ]) {
      const B1 = r * (1 - a * a) - q * b * b;
      const p = (-B1 + Math.sqrt(B1 * B1 + 4 * b * b * q * r)) / (2 * b * b);
      const P = solveDare(fromRows([[a]]), fromRows([[b]]), fromRows([[q]]), fromRows([[r]]));
      expect(Math.abs(P.data[0] - p) / p).toBeLessThan(1e-13);
    }
  });
  for (const name of ['double-integrator', 'dc-motor', 'cartpole', 'quadrotor-hover']) {
    it(`${name}: matches the symplectic-eigenvector solution and has ~0 residual`, () => {
      const p = getPlant(name);
      const { P } = lqr(p.A, p.B, p.Q, p.R);
      const Pe = dareByEigenvectors(p.A, p.B, p.Q, p.R);
      const scale = Math.max(...P.flat().map(Math.abs));
      for (let i = 0; i < p.nx; i++) for (let j = 0; j < p.nx; j++) expect(Math.abs(P[i][j] - Pe[i][j])).toBeLessThan(1e-8 * scale);
      const res = dareResidual(fromRows(p.A), fromRows(p.B), fromRows(p.Q), fromRows(p.R), fromRows(P));
      expect(res).toBeLessThan(1e-10 * scale);
    });
  }
  it('the LQR gain stabilises the double integrator', () => {
    const p = getPlant('double-integrator');
    const { K } = lqr(p.A, p.B, p.Q, p.R);
    const Acl = new Matrix(p.A).sub(new Matrix(p.B).mmul(new Matrix(K)));
    const e = new EigenvalueDecomposition(Acl);
    e.realEigenvalues.forEach((r, i) => expect(Math.hypot(r, e.imaginaryEigenvalues[i])).toBeLessThan(1));
  });
});
