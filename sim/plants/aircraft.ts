/**
 * Aircraft pitch: the AFTI-16's linearised longitudinal dynamics, a classic
 * MPC benchmark that is open-loop unstable (a real pole at +5.45 rad/s) with
 * two surfaces saturating at ±25°.
 *
 * State (u, α, q, θ): forward speed deviation (ft/s), angle of attack (°),
 * pitch rate (°/s), pitch angle (°); inputs: elevator and flaperon (°).
 * Matrices from P. Kapasouris, M. Athans and G. Stein, "Design of feedback
 * control systems for unstable plants with saturating actuators", IFAC 1990,
 * as used in A. Bemporad's MPC benchmarks (afti16). The angle of attack is
 * kept within ±0.5° and the surfaces within ±25°; speed, pitch rate and pitch
 * are unbounded, so the registry declares an operating domain for them.
 * Sampled at 20 Hz. Weights regulate α and θ tightly, q and u loosely.
 * The operating domain (u ±30 ft/s, q ±12 °/s, θ ±5°) is one the teacher's
 * own closed-loop runs never leave.
 */
import { diagRows, plantFromContinuous, type Plant } from './plant.js';

export function aircraftPitch(dt = 0.05): Plant {
  const Ac = [
    [-0.0151, -60.5651, 0, -32.174],
    [-0.0001, -1.3411, 0.9929, 0],
    [0.00018, 43.2541, -0.86939, 0],
    [0, 0, 1, 0],
  ];
  const Bc = [
    [-2.516, -13.136],
    [-0.1689, -0.2514],
    [-17.251, -1.5766],
    [0, 0],
  ];
  return plantFromContinuous({
    name: 'aircraft-pitch',
    description: 'AFTI-16 longitudinal dynamics: open-loop unstable, ±25° surfaces, α within ±0.5°, speed/pitch rate/pitch unbounded.',
    source: 'Kapasouris, Athans & Stein, IFAC 1990; Bemporad, MPC benchmark afti16.',
    dt,
    Ac,
    Bc,
    xBounds: { min: [-Infinity, -0.5, -Infinity, -Infinity], max: [Infinity, 0.5, Infinity, Infinity] },
    uBounds: { min: [-25, -25], max: [25, 25] },
    // The MPC's own closed-loop runs from anywhere in this box stay inside it (checked by `ultro train`).
    domain: { min: [-30, -0.5, -12, -5], max: [30, 0.5, 12, 5] },
    Q: diagRows([0.01, 10, 1, 10]),
    R: diagRows([0.001, 0.001]),
    stateNames: ['u', 'alpha', 'q', 'theta'],
    inputNames: ['elevator', 'flaperon'],
  });
}
