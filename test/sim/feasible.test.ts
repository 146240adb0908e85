/**
 * MPC-feasible states in high dimension: the lifted feasible set, the
 * hit-and-run walk in it, and the sampler that picks between rejection and the
 * walk. Membership is checked against the MPC's own verdict (its soft-
 * constrained QP needs no slack), a different formulation from the lifted
 * polytope's hard rows.
 */
import { describe, expect, it } from 'vitest';
import { InputError, LinearMPC, Rng, feasibleStates, getPlant, hitAndRun, interiorPoint, liftedPolytope, operatingDomain, plantFromJson, solveQP, type Plant } from '../../sim/index.js';

/** Six masses on springs with three tension actuators: 12 states, a thin feasible set in its box (Wang & Boyd 2010's shape). */
function masses(): Plant {
  const n = 6;
  const A = Array.from({ length: 12 }, () => new Array<number>(12).fill(0));
  const B = Array.from({ length: 12 }, () => new Array<number>(3).fill(0));
  for (let i = 0; i < n; i++) {
    A[i][n + i] = 1;
    A[n + i][i] = -2;
    if (i > 0) A[n + i][i - 1] = 1;
    if (i < n - 1) A[n + i][i + 1] = 1;
  }
  [
    [0, 1],
    [2, 3],
    [4, 5],
  ].forEach(([a, b], j) => {
    B[n + a][j] = 1;
    B[n + b][j] = -1;
  });
  return plantFromJson(
    {
      name: 'masses',
      time: 'continuous',
      dt: 0.5,
      A,
      B,
      xMin: new Array(12).fill(-4),
      xMax: new Array(12).fill(4),
      uMin: [-0.5, -0.5, -0.5],
      uMax: [0.5, 0.5, 0.5],
      Q: new Array(12).fill(1),
      R: [1, 1, 1],
    },
    'masses.json',
  );
}

/** Is x₀ in the projection of the lifted set? A QP in U alone with x₀ fixed: solved ⇔ some input sequence keeps every bound. */
function liftedMember(mpc: LinearMPC, x: ArrayLike<number>): boolean {
  const set = mpc.liftedFeasibleSet();
  const nx = mpc.nx,
    nU = set.n - nx;
  const A = new Float64Array(set.m * nU);
  const l = new Float64Array(set.m),
    u = new Float64Array(set.m);
  for (let r = 0; r < set.m; r++) {
    let shift = 0;
    for (let j = 0; j < nx; j++) shift += set.A[r * set.n + j] * x[j];
    for (let j = 0; j < nU; j++) A[r * nU + j] = set.A[r * set.n + nx + j];
    // a hair of slack on both sides: the MPC's own test allows 1e-9 (SLACK_TOL)
    l[r] = set.l[r] - shift - 1e-9;
    u[r] = set.u[r] - shift + 1e-9;
  }
  const P = new Float64Array(nU * nU);
  for (let i = 0; i < nU; i++) P[i * nU + i] = 1;
  return solveQP({ P, q: new Float64Array(nU), A, l, u, n: nU, m: set.m }).status === 'solved';
}

describe('MPC-feasible states', () => {
  for (const [name, make] of [
    ['aircraft-pitch (unbounded states)', () => getPlant('aircraft-pitch')],
    ['masses (12 states)', masses],
  ] as const) {
    it(`${name}: the lifted set's projection is exactly where the MPC needs no slack (200 box states)`, () => {
      const plant = make();
      const mpc = new LinearMPC(plant, { horizon: 10 });
      const dom = operatingDomain(plant);
      const rng = new Rng(3);
      let agree = 0,
        feasible = 0;
      for (let k = 0; k < 200; k++) {
        const x = dom.min.map((lo, i) => rng.uniform(lo, dom.max[i]));
        const byMpc = !mpc.solve(x).needsSlack;
        if (byMpc) feasible++;
        if (byMpc === liftedMember(mpc, x)) agree++;
      }
      expect(agree).toBe(200);
      // both verdicts occur, so the agreement is not vacuous
      expect(feasible).toBeGreaterThan(0);
      if (name.startsWith('masses')) expect(feasible).toBeLessThan(200);
    });
  }

  it('hit-and-run stays in the polytope and every walk state is MPC-feasible (masses, 12 states, 300 states)', () => {
    const plant = masses();
    const mpc = new LinearMPC(plant, { horizon: 10 });
    const poly = liftedPolytope(mpc, operatingDomain(plant));
    const start = interiorPoint(poly)!;
    expect(start.radius).toBeGreaterThan(0);
    const Z = hitAndRun(poly, start.z, 300, new Rng(5));
    let worst = -Infinity;
    for (let k = 0; k < 300; k++)
      for (let r = 0; r < poly.m; r++) {
        let s = -poly.h[r];
        for (let j = 0; j < poly.n; j++) s += poly.G[r * poly.n + j] * Z[k * poly.n + j];
        worst = Math.max(worst, s);
      }
    // rows are O(1)..O(10) in size: 1e-9 is rounding of the incremental slacks
    expect(worst).toBeLessThan(1e-9);
    for (let k = 0; k < 300; k++) expect(mpc.solve(Z.subarray(k * poly.n, k * poly.n + plant.nx)).needsSlack).toBe(false);
    // the walk moves: every state coordinate spans at least half its box
    for (let i = 0; i < plant.nx; i++) {
      let lo = Infinity,
        hi = -Infinity;
      for (let k = 0; k < 300; k++) ((lo = Math.min(lo, Z[k * poly.n + i])), (hi = Math.max(hi, Z[k * poly.n + i])));
      expect(hi - lo).toBeGreaterThan(4);
    }
  });

  it('picks rejection where most of the domain is feasible and hit-and-run where little is; same seed, same states', () => {
    const di = getPlant('double-integrator');
    const a = feasibleStates(new LinearMPC(di, { horizon: 20 }), { count: 50, seed: 1, domain: operatingDomain(di) });
    expect(a.method).toBe('rejection');
    const plant = masses();
    const mpc = new LinearMPC(plant, { horizon: 10 });
    const b = feasibleStates(mpc, { count: 50, seed: 1, domain: operatingDomain(plant) });
    expect(b.method).toBe('hit-and-run');
    expect(b.acceptance).toBeLessThan(0.2);
    expect(Array.from(feasibleStates(mpc, { count: 50, seed: 1, domain: operatingDomain(plant) }).X)).toEqual(Array.from(b.X));
  });

  it('a domain with no feasible state fails after the pilot and one interior-point search, saying what to change', () => {
    const di = getPlant('double-integrator');
    // at the position bound and still moving outward at full speed: no input stops it in time
    const domain = { min: [4.9, 1.9], max: [5, 2] };
    let err: unknown;
    try {
      feasibleStates(new LinearMPC(di, { horizon: 20 }), { count: 10, seed: 1, domain });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(InputError);
    expect((err as Error).message).toMatch(/no state in the operating domain .*widen xMin\/xMax.*--domain-min\/--domain-max.*shorten --horizon/);
  });

  it('an unbounded state without a declared domain is named, with where to declare it', () => {
    const p = { ...getPlant('aircraft-pitch'), domain: undefined };
    expect(() => operatingDomain(p)).toThrow(/state u \(index 0\) is unbounded.*domainMin\/domainMax in the plant file, or --domain-min\/--domain-max/);
  });
});
