/**
 * Matrix exponential by scaling and squaring with diagonal Padé approximants,
 * following N. J. Higham, "The scaling and squaring method for the matrix
 * exponential revisited", SIAM J. Matrix Anal. Appl. 26(4), 2005 (Algorithm 2.3).
 * The degree m ∈ {3,5,7,9,13} is the smallest whose θ_m bounds ‖A‖₁; otherwise
 * A is scaled by 2^-s so that ‖A/2^s‖₁ ≤ θ₁₃ and the result squared s times.
 */
import { type Mat, add, eye, getBlock, matmul, norm1, scale, setBlock, solve, sub, zeros } from './linalg.js';

const THETA: Record<number, number> = {
  3: 1.495585217958292e-2,
  5: 2.53939833006323e-1,
  7: 9.504178996162932e-1,
  9: 2.097847961257068,
  13: 5.371920351148152,
};

const PADE: Record<number, number[]> = {
  3: [120, 60, 12, 1],
  5: [30240, 15120, 3360, 420, 30, 1],
  7: [17297280, 8648640, 1995840, 277200, 25200, 1512, 56, 1],
  9: [17643225600, 8821612800, 2075673600, 302702400, 30270240, 2162160, 110880, 3960, 90, 1],
  13: [64764752532480000, 32382376266240000, 7771770303897600, 1187353796428800, 129060195264000, 10559470521600, 670442572800, 33522128640, 1323241920, 40840800, 960960, 16380, 182, 1],
};

function padeUV(a: Mat, m: number): { U: Mat; V: Mat } {
  const n = a.rows;
  const b = PADE[m];
  const I = eye(n);
  const A2 = matmul(a, a);
  if (m !== 13) {
    // U = A * sum_{k odd} b_k A^{k-1},  V = sum_{k even} b_k A^k
    let u = scale(I, b[1]);
    let v = scale(I, b[0]);
    let p = I;
    for (let k = 2; k <= m; k += 2) {
      p = matmul(p, A2);
      v = add(v, scale(p, b[k]));
      if (k + 1 <= m) u = add(u, scale(p, b[k + 1]));
    }
    return { U: matmul(a, u), V: v };
  }
  const A4 = matmul(A2, A2);
  const A6 = matmul(A4, A2);
  const U1 = matmul(A6, add(add(scale(A6, b[13]), scale(A4, b[11])), scale(A2, b[9])));
  const U2 = add(add(add(scale(A6, b[7]), scale(A4, b[5])), scale(A2, b[3])), scale(I, b[1]));
  const U = matmul(a, add(U1, U2));
  const V1 = matmul(A6, add(add(scale(A6, b[12]), scale(A4, b[10])), scale(A2, b[8])));
  const V2 = add(add(add(scale(A6, b[6]), scale(A4, b[4])), scale(A2, b[2])), scale(I, b[0]));
  return { U, V: add(V1, V2) };
}

export function expm(a: Mat): Mat {
  if (a.rows !== a.cols) throw new Error('expm: matrix is not square');
  for (const v of a.data) if (!Number.isFinite(v)) throw new Error('expm: matrix has a non-finite entry');
  const nrm = norm1(a);
  for (const m of [3, 5, 7, 9]) {
    if (nrm <= THETA[m]) {
      const { U, V } = padeUV(a, m);
      return solve(sub(V, U), add(V, U));
    }
  }
  const s = Math.max(0, Math.ceil(Math.log2(nrm / THETA[13])));
  const as = scale(a, 2 ** -s);
  const { U, V } = padeUV(as, 13);
  let r = solve(sub(V, U), add(V, U));
  for (let i = 0; i < s; i++) r = matmul(r, r);
  return r;
}

/**
 * Zero-order-hold discretisation of ẋ = A x + B u over dt:
 * exp([[A, B], [0, 0]] dt) = [[Ad, Bd], [0, I]].
 */
export function zohDiscretize(A: Mat, B: Mat, dt: number): { Ad: Mat; Bd: Mat } {
  const nx = A.rows;
  const nu = B.cols;
  if (A.cols !== nx) throw new Error('zohDiscretize: A is not square');
  if (B.rows !== nx) throw new Error(`zohDiscretize: B has ${B.rows} rows, expected ${nx}`);
  if (!(dt > 0) || !Number.isFinite(dt)) throw new Error('zohDiscretize: dt must be a positive finite number');
  const M = zeros(nx + nu, nx + nu);
  setBlock(M, 0, 0, scale(A, dt));
  setBlock(M, 0, nx, scale(B, dt));
  const E = expm(M);
  return { Ad: getBlock(E, 0, 0, nx, nx), Bd: getBlock(E, 0, nx, nx, nu) };
}
