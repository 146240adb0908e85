/**
 * Armature-controlled DC motor, position output.
 *
 * Source: University of Michigan "Control Tutorials for MATLAB and Simulink"
 * (CTMS), DC Motor Speed: System Modeling, extended with the shaft angle θ:
 *   J θ̈ = K i − b θ̇,          L di/dt = V − R i − K θ̇
 * with J = 0.01 kg·m², b = 0.1 N·m·s, K = 0.01 V/(rad/s) = N·m/A, R = 1 Ω, L = 0.5 H.
 * State (θ, ω, i), input armature voltage V. Sampled at 20 Hz.
 * Steady state: ω = K V / (b R + K²) ≈ 0.1 V rad/s, i ≈ 10 ω A.
 */
import { diagRows, plantFromContinuous, type Plant } from './plant.js';

export function dcMotor(dt = 0.05): Plant {
  const J = 0.01,
    b = 0.1,
    K = 0.01,
    R = 1,
    L = 0.5;
  return plantFromContinuous({
    name: 'dc-motor',
    description: 'CTMS DC motor (J=0.01, b=0.1, K=0.01, R=1, L=0.5), shaft-angle control, |V| ≤ 12 V.',
    source: 'Control Tutorials for MATLAB & Simulink (CTMS), DC Motor Speed: System Modeling, plus θ̇ = ω.',
    dt,
    Ac: [
      [0, 1, 0],
      [0, -b / J, K / J],
      [0, -K / L, -R / L],
    ],
    Bc: [[0], [0], [1 / L]],
    xBounds: { min: [-Math.PI, -1, -12], max: [Math.PI, 1, 12] },
    uBounds: { min: [-12], max: [12] },
    // Bryson's rule: 1/(acceptable excursion)².
    Q: diagRows([1, 0.1, 0.001]),
    R: diagRows([1 / 144]),
    stateNames: ['angle', 'speed', 'current'],
    inputNames: ['voltage'],
  });
}
