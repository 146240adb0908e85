/**
 * The generated on-board MPC (float32 C, ADMM) against the host MPC
 * (sim/, float64, Goldfarb–Idnani: exact). Stated tolerances:
 *  - a cold solve run to ADMM tolerance 1e-5 agrees with the host's first
 *    input to 1e-3 of the actuator half-range (ADMM stops at residual 1e-5;
 *    float32 rounding adds ~1e-6);
 *  - in closed loop with the default settings (tolerance 1e-3, at most 50
 *    iterations, warm start) the inputs stay within 2e-2 of the host's.
 */
import { describe, expect, it } from 'vitest';
import { LinearMPC, Rng, getPlant, simulateClosedLoop } from '../../sim/index.js';
import { AdmmMPC, emitMpc, hexFloat32 } from '../../codegen/index.js';
import { compileHost, runLines, writeFiles } from '../helpers/c.js';
import { twoCartPlant } from '../helpers/plants.js';

const f = (v: number) => hexFloat32(Math.fround(v));

describe('on-board MPC (C) against the host MPC', () => {
  for (const [name, plant, N] of [
    ['double-integrator', getPlant('double-integrator'), 20],
    ['dc-motor', getPlant('dc-motor'), 10],
    ['two-cart user plant (4 states, 2 inputs)', twoCartPlant(), 10],
  ] as const) {
    it(`${name}: cold solves to ADMM tolerance 1e-5 agree with the host to 1e-3 of the input range`, () => {
      const { files, data } = emitMpc(plant, { horizon: N, maxIter: 5000, tol: 1e-5 }, 'test');
      const exe = compileHost(writeFiles(files), ['ultro_mpc.c', 'ultro_mpc_data.c'], [`${process.cwd()}/test/c/mpc_harness.c`]);
      const host = new LinearMPC(plant, { horizon: N });
      const rng = new Rng(9);
      const xs: number[][] = [];
      while (xs.length < 40) {
        const x = plant.xBounds.min.map((lo, i) => 0.7 * rng.uniform(lo, plant.xBounds.max[i]));
        if (!host.solve(x).needsSlack) xs.push(x);
      }
      const out = runLines(
        exe,
        xs.flatMap((x) => ['R', 'S ' + x.map(f).join(' ')]),
      );
      xs.forEach((x, k) => {
        const [us, rest] = out[2 * k + 1].split('|');
        const u = us.trim().split(' ').map(Number);
        const [, status] = rest.trim().split(' ').map(Number);
        expect(status).toBe(0);
        const h = host.solve(x).u;
        u.forEach((v, j) => expect(Math.abs(v - h[j]) / data.su[j]).toBeLessThan(1e-3));
      });
    });
  }
  it('double integrator in closed loop, default settings: tracks the host MPC and the float64 reference', () => {
    const plant = getPlant('double-integrator');
    const { files, data } = emitMpc(plant, { horizon: 20 }, 'test');
    expect(data.maxIter).toBe(50);
    const exe = compileHost(writeFiles(files), ['ultro_mpc.c', 'ultro_mpc_data.c'], [`${process.cwd()}/test/c/mpc_harness.c`]);
    const host = new LinearMPC(plant, { horizon: 20 });
    const ref = new AdmmMPC(data);
    // Run the host MPC in closed loop and ask the C for the input at each visited state.
    const tr = simulateClosedLoop(plant, host.controller(), [3.5, 0.5], 80);
    const out = runLines(
      exe,
      tr.x.slice(0, 80).map((x) => 'S ' + x.map(f).join(' ')),
    );
    let worstHost = 0,
      worstRef = 0;
    tr.x.slice(0, 80).forEach((x, k) => {
      const u = Number(out[k].split('|')[0]);
      const r = ref.solve(x).u[0];
      worstHost = Math.max(worstHost, Math.abs(u - tr.u[k][0]));
      worstRef = Math.max(worstRef, Math.abs(u - r));
    });
    expect(worstHost).toBeLessThan(2e-2);
    // float32 C vs float64 TS of the same algorithm: the same iterates up to rounding
    expect(worstRef).toBeLessThan(1e-3);
  });
});
