import { describe, expect, it } from 'vitest';
import { LinearMPC, Rng, getPlant, operatingDomain, plantStep } from '../../sim/index.js';
import { activeConstraints, boxScaling, buildKernelData, constraintRows, labelStates, sampleFeasible, splitDataset } from '../../trainer/index.js';

describe('datasets from the MPC teacher', () => {
  const plant = getPlant('double-integrator');
  const settings = { horizon: 20 };
  it('keeps only MPC-feasible states as labelled samples, the rest as constraint-only', async () => {
    const d = await sampleFeasible(plant, settings, { count: 300, seed: 3, progress: false });
    const mpc = new LinearMPC(plant, settings);
    let labelled = 0,
      only = 0;
    for (let k = 0; k < d.origin.length; k++) {
      const sol = mpc.solve(d.X.subarray(2 * k, 2 * k + 2));
      if (d.origin[k] === 3) {
        only++;
        expect(sol.needsSlack).toBe(true);
      } else {
        labelled++;
        expect(sol.needsSlack).toBe(false);
        expect(d.U[k]).toBe(sol.u[0]);
      }
    }
    expect(labelled).toBe(300);
    expect(only).toBeGreaterThan(0);
    // some samples lie on the faces of the box, where one-step constraints are tightest
    let onFace = 0;
    for (let k = 0; k < d.origin.length; k++) if (Math.abs(d.X[2 * k]) === 5 || Math.abs(d.X[2 * k + 1]) === 2) onFace++;
    expect(onFace).toBeGreaterThan(20);
  });
  it('labels in parallel on worker threads exactly as on one thread', async () => {
    const states = new Float64Array(2 * 800).map((_, i) => (i % 2 ? 3.6 : 9.5) * (((i * 7919) % 1000) / 1000 - 0.5));
    const serial = await labelStates(plant, settings, states, { parallelAbove: 1e9, progress: false });
    const parallel = await labelStates(plant, settings, states, { parallelAbove: 10, progress: false });
    expect(Array.from(parallel.U)).toEqual(Array.from(serial.U));
    expect(Array.from(parallel.ok)).toEqual(Array.from(serial.ok));
  });
  it('splits reproducibly', async () => {
    const d = await sampleFeasible(plant, settings, { count: 100, seed: 1, progress: false });
    const a = splitDataset(d, 0.2, 5),
      b = splitDataset(d, 0.2, 5);
    expect(Array.from(a.val.X)).toEqual(Array.from(b.val.X));
    expect(a.train.X.length + a.val.X.length).toBe(d.X.length);
  });
});

describe('constraint rows and which bounds hold a network', () => {
  const plant = getPlant('quadrotor-hover');
  const domain = operatingDomain(plant);
  const s = boxScaling(domain, plant.uBounds);
  const rng = new Rng(9);
  const X = new Float64Array(40 * plant.nx).map((_, i) => rng.uniform(domain.min[i % plant.nx], domain.max[i % plant.nx]));
  const data = { nx: plant.nx, nu: plant.nu, X, U: new Float64Array(40 * plant.nu), origin: new Uint8Array(40) };
  data.origin[3] = 3; // constraint-only: actuator rows only
  it('each one-step row says which bound it is, and measures its violation in output units (checked against plantStep)', () => {
    for (let k = 0; k < 40; k++) {
      const x = X.subarray(k * plant.nx, (k + 1) * plant.nx);
      const y = Array.from({ length: plant.nu }, () => rng.uniform(-1, 1));
      const u = y.map((v, j) => s.outOffset[j] + s.outScale[j] * v);
      const next = plantStep(plant, x, u);
      for (const r of constraintRows(plant, s, x)) {
        const g = r.c.reduce((t, c, j) => t + c * y[j], r.d);
        const m = /^next (\w+) (≤|≥) (-?[\d.e+-]+)$/.exec(r.what);
        if (r.kind === 'actuator') {
          expect(r.what).toMatch(/^(thrust|tau_[xyz]) (≤|≥) /);
          continue;
        }
        expect(m).not.toBeNull();
        const i = plant.stateNames.indexOf(m![1]);
        const excess = m![2] === '≤' ? next[i] - plant.xBounds.max[i] : plant.xBounds.min[i] - next[i];
        // g is the excess divided by the row's authority: same sign, and zero together
        expect(Math.sign(g)).toBe(Math.sign(excess));
        expect(Math.abs(excess)).toBeLessThan(Math.abs(g) * 10); // authority per output unit is ≤ 1.5 rad/s here
      }
    }
  });
  it('activeConstraints sums the multipliers per bound, in the row order of buildKernelData', () => {
    const net = { sizes: [plant.nx, 4, plant.nu], activation: 'hardtanh' as const };
    const kd = buildKernelData(plant, data, s, net);
    const lam = new Float64Array(kd.conD.length);
    // sample 3 is constraint-only: its rows are the 8 actuator rows; the first is thrust's upper bound
    lam[kd.conPtr[3]] = 3;
    lam[kd.conPtr[5]] = 1; // thrust upper bound again
    lam[kd.conPtr[6] + 3] = 6; // tau_x lower bound
    const act = activeConstraints(plant, data, s, lam);
    expect(act).toEqual([
      { what: 'tau_x ≥ -0.001', samples: 1, share: 0.6 },
      { what: `thrust ≤ ${Number((0.6 - 0.027 * 9.81).toPrecision(4))}`, samples: 2, share: 0.4 },
    ]);
    expect(kd.conPtr[4] - kd.conPtr[3]).toBe(2 * plant.nu);
    expect(() => activeConstraints(plant, data, s, lam.subarray(1))).toThrow(/multipliers/);
  });
});
