import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { QPSolver, Rng, solveQP, type QPResult } from '../../sim/index.js';
import { bruteForceQP } from '../helpers/qp-oracle.js';

/**
 * Problems of the public Maros–Meszaros set as JSON. The larger ones (QAFIRO,
 * QADLITTL, DUALC1, LOTSCHD: semidefinite P, degenerate working sets) were
 * converted from the qpsolvers benchmark's .mat files (their `source` says so).
 */
const FIX = join(import.meta.dirname, '../fixtures/maros-meszaros');
const inf = (v: number | null, sign: 1 | -1) => (v === null ? sign * Infinity : v);

/** Check the KKT conditions of l ≤ Ax ≤ u directly: stationarity, primal and dual feasibility, complementarity. */
function expectKKT(p: { P: number[][]; q: number[]; A: number[][]; l: number[]; u: number[] }, r: QPResult, tol: number) {
  const n = p.q.length;
  const scale = 1 + Math.max(...p.q.map(Math.abs), ...p.P.flat().map(Math.abs));
  const g = p.q.map((qi, i) => qi + p.P[i].reduce((s, v, j) => s + v * r.x[j], 0));
  p.A.forEach((row, i) => row.forEach((a, j) => (g[j] += a * r.y[i])));
  for (let j = 0; j < n; j++) expect(Math.abs(g[j])).toBeLessThan(tol * scale);
  p.A.forEach((row, i) => {
    const ax = row.reduce((s, a, j) => s + a * r.x[j], 0);
    const sc = 1 + Math.abs(ax);
    expect(ax).toBeGreaterThanOrEqual(p.l[i] - tol * sc);
    expect(ax).toBeLessThanOrEqual(p.u[i] + tol * sc);
    const yi = r.y[i];
    if (yi > tol * scale) expect(Math.abs(ax - p.u[i])).toBeLessThan(tol * sc); // upper active
    if (yi < -tol * scale) expect(Math.abs(ax - p.l[i])).toBeLessThan(tol * sc); // lower active
  });
}

function checkAgainstPublished(doc: { name: string; P: number[][]; q: number[]; A: number[][]; l: (number | null)[]; u: (number | null)[]; c: number; objective: number }) {
  const l = doc.l.map((v) => inf(v, -1));
  const u = doc.u.map((v) => inf(v, 1));
  const r = solveQP({ P: doc.P, q: doc.q, A: doc.A, l, u, c: doc.c });
  expect(r.status).toBe('solved');
  // The published optima carry 8 significant digits: 1e-6 relative.
  const rel = Math.abs(r.obj - doc.objective) / Math.max(1, Math.abs(doc.objective));
  expect(rel).toBeLessThan(1e-6);
  expectKKT({ P: doc.P, q: doc.q, A: doc.A, l, u }, r, 1e-8);
  // Residuals scaled to the data (bounds for the primal, P and q for the dual): 1e-9 and 1e-8.
  const bounds = [...doc.l, ...doc.u].filter((v): v is number => v !== null).map(Math.abs);
  expect(r.primalResidual).toBeLessThan(1e-9 * (1 + Math.max(0, ...bounds)));
  expect(r.dualResidual).toBeLessThan(1e-8 * (1 + Math.max(...doc.q.map(Math.abs), ...doc.P.flat().map(Math.abs))));
}

describe('solveQP: Maros–Meszaros problems against their published optima', () => {
  const files = readdirSync(FIX).filter((f) => f.endsWith('.json'));
  it('has the fixture set', () => expect(files.length).toBeGreaterThanOrEqual(8));
  for (const f of files) {
    const doc = JSON.parse(readFileSync(join(FIX, f), 'utf8'));
    it(`${doc.name}: relative objective error ≤ 1e-6 (constant included), KKT holds`, () => checkAgainstPublished(doc));
  }
  // Semidefinite and degenerate: QAFIRO used to stop at max_iter (a singular polish), QADLITTL was called
  // infeasible (a 4.5e-9 violation against a 3.9e-9 tolerance taken as proof).
  it('includes the semidefinite problems', () => {
    for (const name of ['QAFIRO', 'QADLITTL', 'DUALC1', 'LOTSCHD']) expect(files).toContain(`${name}.json`);
  });
});

describe('solveQP: closed forms', () => {
  it('unconstrained: x = −P⁻¹q', () => {
    const r = solveQP({
      P: [
        [4, 1],
        [1, 3],
      ],
      q: [1, 2],
    });
    // P⁻¹ = 1/11 [[3,-1],[-1,4]] → x = -1/11 [1, 7]
    expect(r.x[0]).toBeCloseTo(-1 / 11, 14);
    expect(r.x[1]).toBeCloseTo(-7 / 11, 14);
  });
  it('projection onto a box is a clamp', () => {
    const r = solveQP({
      P: [
        [2, 0],
        [0, 2],
      ],
      q: [-6, 1],
      A: [
        [1, 0],
        [0, 1],
      ],
      l: [-1, -1],
      u: [1, 1],
    });
    expect(r.x[0]).toBe(1); // exactly at the bound
    expect(r.x[1]).toBeCloseTo(-0.5, 15);
    // y: Px + q + y = 0 ⇒ y₀ = −(2·1 − 6) = 4 (upper active), y₁ = 0
    expect(r.y[0]).toBeCloseTo(4, 13);
    expect(r.y[1]).toBeCloseTo(0, 13);
  });
  it('equality-constrained least norm: min ½‖x‖² s.t. aᵀx = b ⇒ x = a b/‖a‖²', () => {
    const a = [1, 2, 2];
    const r = solveQP({
      P: [
        [1, 0, 0],
        [0, 1, 0],
        [0, 0, 1],
      ],
      q: [0, 0, 0],
      A: [a],
      l: [9],
      u: [9],
    });
    a.forEach((ai, i) => expect(r.x[i]).toBeCloseTo(ai, 13));
    expect(r.y[0]).toBeCloseTo(-1, 13);
  });
  it('an LP (P = 0) reaches the optimal vertex', () => {
    // max x + y s.t. x + 2y ≤ 4, 3x + y ≤ 6, x, y ≥ 0 → (8/5, 6/5), value 14/5
    const r = solveQP({
      P: [
        [0, 0],
        [0, 0],
      ],
      q: [-1, -1],
      A: [
        [1, 2],
        [3, 1],
        [1, 0],
        [0, 1],
      ],
      l: [-Infinity, -Infinity, 0, 0],
      u: [4, 6, Infinity, Infinity],
    });
    expect(r.status).toBe('solved');
    expect(r.x[0]).toBeCloseTo(1.6, 10);
    expect(r.x[1]).toBeCloseTo(1.2, 10);
    expect(r.obj).toBeCloseTo(-2.8, 10);
  });
  it('accepts row-major Float64Arrays with dimensions', () => {
    const r = solveQP({ P: Float64Array.of(2, 0, 0, 2), n: 2, q: [-2, -2], A: Float64Array.of(1, 1), m: 1, l: [-Infinity], u: [1] });
    expect(r.x[0]).toBeCloseTo(0.5, 14);
    expect(r.x[1]).toBeCloseTo(0.5, 14);
  });
});

describe('solveQP: infeasibility and other statuses', () => {
  it('detects contradictory bounds', () => {
    const r = solveQP({ P: [[1]], q: [0], A: [[1], [1]], l: [1, -Infinity], u: [Infinity, 0] });
    expect(r.status).toBe('infeasible');
    expect(Number.isNaN(r.x[0])).toBe(true);
  });
  it('detects an infeasible combination (PD path)', () => {
    const r = solveQP({
      P: [
        [1, 0],
        [0, 1],
      ],
      q: [0, 0],
      A: [
        [1, 1],
        [1, 0],
        [0, 1],
      ],
      l: [3, -Infinity, -Infinity],
      u: [Infinity, 1, 1],
    });
    expect(r.status).toBe('infeasible');
  });
  it('detects inconsistent equalities', () => {
    const r = solveQP({
      P: [
        [1, 0],
        [0, 1],
      ],
      q: [0, 0],
      A: [
        [1, 1],
        [2, 2],
      ],
      l: [1, 3],
      u: [1, 3],
    });
    expect(r.status).toBe('infeasible');
  });
  it('detects infeasibility on the semidefinite path (an LP)', () => {
    const r = solveQP({
      P: [
        [0, 0],
        [0, 0],
      ],
      q: [1, 1],
      A: [
        [1, 1],
        [1, 0],
        [0, 1],
      ],
      l: [3, 0, 0],
      u: [Infinity, 1, 1],
    });
    expect(r.status).toBe('infeasible');
  });
  it('reports l > u as infeasible', () => {
    expect(solveQP({ P: [[1]], q: [0], A: [[1]], l: [2], u: [1] }).status).toBe('infeasible');
  });
  it('detects an unbounded LP', () => {
    const r = solveQP({
      P: [
        [0, 0],
        [0, 0],
      ],
      q: [-1, 0],
      A: [[0, 1]],
      l: [0],
      u: [1],
    });
    expect(r.status).toBe('dual_infeasible');
  });
  it('rejects a non-convex P', () => {
    expect(
      solveQP({
        P: [
          [1, 0],
          [0, -1],
        ],
        q: [0, 0],
      }).status,
    ).toBe('non_convex');
  });
  it('names the field in input errors', () => {
    expect(() =>
      solveQP({
        P: [
          [1, 0],
          [0, 1],
        ],
        q: [0, NaN],
      }),
    ).toThrow(/q\[1\]/);
    expect(() => solveQP({ P: [[1, 0]], q: [0, 0] })).toThrow(/P/);
    expect(() =>
      solveQP({
        P: [
          [1, 0],
          [0, 1],
        ],
        q: [0, 0],
        A: [[1, 0]],
        l: [0, 1],
        u: [1],
      }),
    ).toThrow(/l has 2 entries/);
  });
});

describe('solveQP: against an independent brute-force active-set oracle (ml-matrix)', () => {
  it('agrees on 200 random strictly convex problems', () => {
    const rng = new Rng(7);
    for (let t = 0; t < 200; t++) {
      const n = 2 + rng.int(3);
      const m = 1 + rng.int(4);
      const M = Array.from({ length: n }, () => Array.from({ length: n }, () => rng.normal()));
      const P = M.map((_, i) => M.map((_, j) => M.reduce((s, row) => s + row[i] * row[j], 0) + (i === j ? 0.1 : 0)));
      const q = Array.from({ length: n }, () => 3 * rng.normal());
      const A = Array.from({ length: m }, () => Array.from({ length: n }, () => rng.normal()));
      const l = A.map(() => (rng.next() < 0.3 ? -Infinity : -1 - rng.next()));
      const u = l.map((lo) => (rng.next() < 0.15 && Number.isFinite(lo) ? lo : rng.next() < 0.3 ? Infinity : 1 + rng.next()));
      const oracle = bruteForceQP({ P, q, A, l, u });
      const r = solveQP({ P, q, A, l, u });
      if (!oracle) {
        expect(r.status).toBe('infeasible');
        continue;
      }
      expect(r.status).toBe('solved');
      // Both are exact methods; 1e-9 relative covers rounding in either.
      expect(Math.abs(r.obj - oracle.obj)).toBeLessThan(1e-9 * (1 + Math.abs(oracle.obj)));
      oracle.x.forEach((xi, i) => expect(Math.abs(r.x[i] - xi)).toBeLessThan(1e-7 * (1 + Math.abs(xi))));
      expectKKT({ P, q, A, l, u }, r, 1e-8);
    }
  });
  it('satisfies KKT on random semidefinite problems (rank-deficient P)', () => {
    const rng = new Rng(11);
    for (let t = 0; t < 50; t++) {
      const n = 3 + rng.int(4);
      const rank = 1 + rng.int(n - 1);
      const M = Array.from({ length: rank }, () => Array.from({ length: n }, () => rng.normal()));
      const P = Array.from({ length: n }, (_, i) => Array.from({ length: n }, (_, j) => M.reduce((s, row) => s + row[i] * row[j], 0)));
      const q = Array.from({ length: n }, () => rng.normal());
      // a bounded feasible set: a box plus random rows through a feasible point
      const A = [...Array.from({ length: n }, (_, i) => Array.from({ length: n }, (_, j) => (i === j ? 1 : 0))), ...Array.from({ length: 3 }, () => Array.from({ length: n }, () => rng.normal()))];
      const l = [...new Array(n).fill(-2), -1, -1, -Infinity];
      const u = [...new Array(n).fill(2), 1, Infinity, 1];
      const r = solveQP({ P, q, A, l, u });
      expect(r.status).toBe('solved');
      expectKKT({ P, q, A, l, u }, r, 1e-7);
    }
  });
});

describe('QPSolver: one factorisation, many right-hand sides', () => {
  it('agrees with the oracle while rows change shape between solves (two-sided, one-sided, equality, free)', () => {
    // The solver keeps the constraints of the last row shape (the MPC's rows keep theirs): a change
    // of shape must rebuild them, and the two sides of a row must each be entered on their own side.
    const rng = new Rng(19);
    const n = 5,
      m = 6;
    const M = Array.from({ length: n }, () => Array.from({ length: n }, () => rng.normal()));
    const P = M.map((_, i) => M.map((_, j) => M.reduce((s, row) => s + row[i] * row[j], 0) + (i === j ? 0.5 : 0)));
    // sparse rows, zero over a leading and a trailing block (the condensed MPC's pattern)
    const A = Array.from({ length: m }, (_, i) => Array.from({ length: n }, (_, j) => (j >= i % 3 && j <= 2 + (i % 3) ? rng.normal() : 0)));
    const solver = new QPSolver({ P, A });
    let solved = 0;
    for (let t = 0; t < 120; t++) {
      const q = Array.from({ length: n }, () => 3 * rng.normal());
      const l: number[] = [],
        u: number[] = [];
      for (let i = 0; i < m; i++) {
        const kind = rng.int(5); // 0 two-sided, 1 lower, 2 upper, 3 equality, 4 free
        const lo = -0.5 - rng.next(),
          hi = 0.5 + rng.next();
        l.push(kind === 0 || kind === 1 ? lo : kind === 3 ? 0.2 * rng.normal() : -Infinity);
        u.push(kind === 0 || kind === 2 ? hi : kind === 3 ? l[i] : Infinity);
      }
      const oracle = bruteForceQP({ P, q, A, l, u });
      const r = solver.solve({ q, l, u });
      if (!oracle) {
        expect(r.status).toBe('infeasible');
        continue;
      }
      solved++;
      expect(r.status).toBe('solved');
      expect(Math.abs(r.obj - oracle.obj)).toBeLessThan(1e-9 * (1 + Math.abs(oracle.obj)));
      oracle.x.forEach((xi, i) => expect(Math.abs(r.x[i] - xi)).toBeLessThan(1e-7 * (1 + Math.abs(xi))));
      expectKKT({ P, q, A, l, u }, r, 1e-8);
    }
    expect(solved).toBeGreaterThan(60);
  });
});

describe('solveQP: warm start', () => {
  it('gives the same answer as a cold start, in fewer active-set changes', () => {
    const rng = new Rng(3);
    const n = 12;
    const M = Array.from({ length: n }, () => Array.from({ length: n }, () => rng.normal()));
    const P = M.map((_, i) => M.map((_, j) => M.reduce((s, row) => s + row[i] * row[j], 0) + (i === j ? 1 : 0)));
    const A = Array.from({ length: n }, (_, i) => Array.from({ length: n }, (_, j) => (i === j ? 1 : 0)));
    const l = new Array(n).fill(-0.1);
    const u = new Array(n).fill(0.1);
    const q = Array.from({ length: n }, () => 10 * rng.normal());
    const first = solveQP({ P, q, A, l, u });
    const q2 = q.map((v) => v + 0.01 * rng.normal());
    const cold = solveQP({ P, q: q2, A, l, u });
    const warm = solveQP({ P, q: q2, A, l, u }, { warmStart: first });
    expect(warm.status).toBe('solved');
    for (let i = 0; i < n; i++) expect(warm.x[i]).toBeCloseTo(cold.x[i], 12);
    expect(warm.iterations).toBeLessThan(cold.iterations);
  });
  it('recovers from a wrong warm start', () => {
    const r0 = solveQP({
      P: [
        [1, 0],
        [0, 1],
      ],
      q: [-3, 0],
      A: [
        [1, 0],
        [0, 1],
      ],
      l: [-1, -1],
      u: [1, 1],
    });
    // claim both lower bounds are active: wrong; the solver must drop them
    const r = solveQP(
      {
        P: [
          [1, 0],
          [0, 1],
        ],
        q: [-3, 0],
        A: [
          [1, 0],
          [0, 1],
        ],
        l: [-1, -1],
        u: [1, 1],
      },
      { warmStart: Int32Array.of(-1, -2) },
    );
    expect(Array.from(r.x)).toEqual(Array.from(r0.x));
  });
});
