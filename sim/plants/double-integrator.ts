/**
 * Double integrator: p̈ = u (a unit mass pushed by a bounded force).
 *
 * Continuous model ẋ = [[0, 1], [0, 0]] x + [[0], [1]] u with x = (p, v).
 * Its zero-order-hold discretisation has the closed form
 *   A = [[1, dt], [0, 1]],  B = [[dt²/2], [dt]],
 * which test/sim/plants.test.ts checks against the matrix-exponential route.
 * The default demo plant: every downstream number has a known answer here
 * (ZOH in closed form, LQR from the DARE, MPC = LQR when unconstrained).
 */
import { diagRows, plantFromContinuous, type Plant } from './plant.js';

export function doubleIntegrator(dt = 0.1): Plant {
  return plantFromContinuous({
    name: 'double-integrator',
    description: 'Unit mass with bounded force: position and velocity limits, |u| ≤ 1.',
    source: 'Textbook double integrator; ZOH closed form A=[[1,dt],[0,1]], B=[[dt²/2],[dt]].',
    dt,
    Ac: [
      [0, 1],
      [0, 0],
    ],
    Bc: [[0], [1]],
    xBounds: { min: [-5, -2], max: [5, 2] },
    uBounds: { min: [-1], max: [1] },
    Q: diagRows([1, 1]),
    R: diagRows([1]),
    stateNames: ['position', 'velocity'],
    inputNames: ['force'],
  });
}
