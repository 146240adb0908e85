/**
 * Quadrotor hover: the 12-state small-angle linearisation about hover.
 *
 * State (x, y, z, φ, θ, ψ, vx, vy, vz, p, q, r), inputs (δT, τx, τy, τz): the
 * collective thrust in excess of m·g and the body torques. Linearising the
 * rigid-body equations (ZYX Euler angles) at hover, with small angles and
 * Euler rates equal to body rates, gives
 *   ṗos = v,  v̇x = g θ,  v̇y = −g φ,  v̇z = δT / m,
 *   (φ̇, θ̇, ψ̇) = (p, q, r),  ṗ = τx/Ixx,  q̇ = τy/Iyy,  ṙ = τz/Izz.
 * See R. Beard, "Quadrotor dynamics and control", BYU, 2008, §5 and
 * T. Luukkonen, "Modelling and control of quadcopter", Aalto, 2011.
 * Parameters are a Crazyflie 2.x: m = 0.027 kg, I = diag(1.395, 1.436, 2.173)e-5 kg·m²
 * (J. Förster, "System identification of the Crazyflie 2.0", ETH, 2015).
 * Thrust 0 … 0.6 N in total, so δT ∈ [−mg, 0.6 − mg]. Sampled at 50 Hz.
 */
import { diagRows, plantFromContinuous, type Plant } from './plant.js';

export function quadrotorHover(dt = 0.02): Plant {
  const m = 0.027,
    g = 9.81;
  const Ixx = 1.395e-5,
    Iyy = 1.436e-5,
    Izz = 2.173e-5;
  const Ac = Array.from({ length: 12 }, () => new Array<number>(12).fill(0));
  const Bc = Array.from({ length: 12 }, () => new Array<number>(4).fill(0));
  for (let i = 0; i < 3; i++) {
    Ac[i][6 + i] = 1; // position ← velocity
    Ac[3 + i][9 + i] = 1; // Euler angles ← body rates
  }
  Ac[6][4] = g; // v̇x = g θ
  Ac[7][3] = -g; // v̇y = −g φ
  Bc[8][0] = 1 / m;
  Bc[9][1] = 1 / Ixx;
  Bc[10][2] = 1 / Iyy;
  Bc[11][3] = 1 / Izz;
  const mg = m * g;
  const tauXY = 1e-3,
    tauZ = 2e-4;
  const xMax = [2, 2, 1, 0.5, 0.5, Math.PI, 2, 2, 2, 5, 5, 5];
  const uMin = [-mg, -tauXY, -tauXY, -tauZ];
  const uMax = [0.6 - mg, tauXY, tauXY, tauZ];
  return plantFromContinuous({
    name: 'quadrotor-hover',
    description: 'Crazyflie-sized quadrotor, 12-state hover linearisation, thrust and torque limits.',
    source: 'Beard 2008 / Luukkonen 2011 hover linearisation; Crazyflie 2.0 parameters from Förster 2015.',
    dt,
    Ac,
    Bc,
    xBounds: { min: xMax.map((v) => -v), max: xMax },
    uBounds: { min: uMin, max: uMax },
    // Bryson's rule on positions and angles, lighter on rates; inputs by their range.
    Q: diagRows([1 / 0.25, 1 / 0.25, 1 / 0.25, 1 / 0.25, 1 / 0.25, 1 / 1, 0.1, 0.1, 0.1, 0.01, 0.01, 0.01]),
    R: diagRows(uMax.map((v) => 1 / (v * v))),
    stateNames: ['x', 'y', 'z', 'roll', 'pitch', 'yaw', 'vx', 'vy', 'vz', 'p', 'q', 'r'],
    inputNames: ['thrust', 'tau_x', 'tau_y', 'tau_z'],
  });
}
