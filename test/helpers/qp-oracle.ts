/**
 * An independent QP oracle for small problems: enumerate every working set,
 * solve its KKT system with ml-matrix, and keep the feasible, dual-feasible
 * one with the lowest objective. Exponential, so only for n + m ≲ 12; shares
 * no code with sim/qp.
 */
import { Matrix, solve } from 'ml-matrix';

export interface SmallQP {
  P: number[][];
  q: number[];
  A: number[][];
  l: number[];
  u: number[];
}

export function bruteForceQP(p: SmallQP): { x: number[]; obj: number } | null {
  const n = p.q.length;
  const m = p.A.length;
  // each row: 0 inactive, 1 at lower, 2 at upper (equality rows forced to 1)
  let best: { x: number[]; obj: number } | null = null;
  const choice = new Array(m).fill(0);
  const rec = (i: number) => {
    if (i === m) {
      evaluate();
      return;
    }
    if (p.l[i] === p.u[i]) {
      choice[i] = 1;
      rec(i + 1);
      return;
    }
    for (const c of [0, 1, 2]) {
      if (c === 1 && !Number.isFinite(p.l[i])) continue;
      if (c === 2 && !Number.isFinite(p.u[i])) continue;
      choice[i] = c;
      rec(i + 1);
    }
  };
  const evaluate = () => {
    const act = choice.map((c, i) => [c, i]).filter(([c]) => c > 0);
    const k = act.length;
    if (k > n) return;
    const K = Matrix.zeros(n + k, n + k);
    const rhs = Matrix.zeros(n + k, 1);
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) K.set(i, j, p.P[i][j]);
      rhs.set(i, 0, -p.q[i]);
    }
    act.forEach(([c, r], a) => {
      for (let j = 0; j < n; j++) {
        K.set(n + a, j, p.A[r][j]);
        K.set(j, n + a, p.A[r][j]);
      }
      rhs.set(n + a, 0, c === 1 ? p.l[r] : p.u[r]);
    });
    let sol: Matrix;
    try {
      sol = solve(K, rhs);
    } catch {
      return;
    }
    const x = Array.from({ length: n }, (_, i) => sol.get(i, 0));
    if (x.some((v) => !Number.isFinite(v))) return;
    // residual check: the KKT system must actually be solved (singular systems give junk)
    const res = K.mmul(sol).sub(rhs);
    if (res.max() > 1e-8 || res.min() < -1e-8) return;
    for (let r = 0; r < m; r++) {
      const ax = p.A[r].reduce((s, a, j) => s + a * x[j], 0);
      if (ax < p.l[r] - 1e-9 || ax > p.u[r] + 1e-9) return;
    }
    // multipliers: K [x; -y] form: P x + q + Aᵀ y = 0 with y = -sol tail (stationarity Px + Aᵀ(-λ)…)
    for (let a = 0; a < k; a++) {
      const [c, r] = act[a];
      const lam = sol.get(n + a, 0); // P x + Aᵀλ = -q  ⇒  y = λ
      if (p.l[r] === p.u[r]) continue;
      if (c === 1 && lam > 1e-9) return; // lower bound: y ≤ 0
      if (c === 2 && lam < -1e-9) return; // upper bound: y ≥ 0
    }
    let obj = 0;
    for (let i = 0; i < n; i++) {
      obj += p.q[i] * x[i];
      for (let j = 0; j < n; j++) obj += 0.5 * x[i] * p.P[i][j] * x[j];
    }
    if (!best || obj < best.obj - 1e-12) best = { x, obj };
  };
  rec(0);
  return best;
}
