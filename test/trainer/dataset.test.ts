import { describe, expect, it } from 'vitest';
import { LinearMPC, getPlant } from '../../sim/index.js';
import { labelStates, sampleFeasible, splitDataset } from '../../trainer/index.js';

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
