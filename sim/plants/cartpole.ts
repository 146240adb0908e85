/**
 * Inverted pendulum on a cart (frictionless), upright balancing.
 *
 * Source: R. V. Florian, "Correct equations for the dynamics of the cart-pole
 * system", 2007 (frictionless case), with the parameters of Barto, Sutton and
 * Anderson, IEEE SMC 13(5), 1983: cart 1 kg, pole 0.1 kg, half-length 0.5 m,
 * g = 9.8 m/s², force |F| ≤ 10 N, 50 Hz.
 *
 * With θ measured from upright and M = m_c + m_p:
 *   θ̈ = (g sinθ − cosθ (F + m_p l θ̇² sinθ)/M) / (l (4/3 − m_p cos²θ / M))
 *   ẍ = (F + m_p l (θ̇² sinθ − θ̈ cosθ)) / M
 * State (x, ẋ, θ, θ̇). The MPC uses the linearisation at the upright
 * equilibrium (all zero), whose analytic Jacobians are given below and checked
 * against central finite differences of f in the tests.
 */
import { diagRows, plantFromContinuous, type NonlinearDynamics, type Plant, type Vec } from './plant.js';

const mc = 1.0,
  mp = 0.1,
  l = 0.5,
  g = 9.8;
const M = mc + mp;

function f(x: Vec, u: Vec): Float64Array {
  const th = x[2],
    thd = x[3],
    F = u[0];
  const s = Math.sin(th),
    c = Math.cos(th);
  const temp = (F + mp * l * thd * thd * s) / M;
  const thdd = (g * s - c * temp) / (l * (4 / 3 - (mp * c * c) / M));
  const xdd = temp - (mp * l * thdd * c) / M;
  return Float64Array.of(x[1], xdd, thd, thdd);
}

/** Analytic Jacobians of f, by differentiating the expressions above. */
function jacobian(x: Vec, u: Vec): { A: number[][]; B: number[][] } {
  const th = x[2],
    thd = x[3],
    F = u[0];
  const s = Math.sin(th),
    c = Math.cos(th);
  const temp = (F + mp * l * thd * thd * s) / M;
  const den = l * (4 / 3 - (mp * c * c) / M);
  const num = g * s - c * temp;
  const thdd = num / den;
  // partial derivatives of temp
  const dtemp_dth = (mp * l * thd * thd * c) / M;
  const dtemp_dthd = (2 * mp * l * thd * s) / M;
  const dtemp_dF = 1 / M;
  // numerator and denominator derivatives
  const dnum_dth = g * c + s * temp - c * dtemp_dth;
  const dden_dth = (l * 2 * mp * c * s) / M;
  const dthdd_dth = (dnum_dth * den - num * dden_dth) / (den * den);
  const dthdd_dthd = (-c * dtemp_dthd) / den;
  const dthdd_dF = (-c * dtemp_dF) / den;
  // xdd = temp - mp l thdd c / M
  const dxdd_dth = dtemp_dth - ((mp * l) / M) * (dthdd_dth * c - thdd * s);
  const dxdd_dthd = dtemp_dthd - ((mp * l) / M) * dthdd_dthd * c;
  const dxdd_dF = dtemp_dF - ((mp * l) / M) * dthdd_dF * c;
  return {
    A: [
      [0, 1, 0, 0],
      [0, 0, dxdd_dth, dxdd_dthd],
      [0, 0, 0, 1],
      [0, 0, dthdd_dth, dthdd_dthd],
    ],
    B: [[0], [dxdd_dF], [0], [dthdd_dF]],
  };
}

export const cartpoleDynamics: NonlinearDynamics = { f, jacobian, xEq: [0, 0, 0, 0], uEq: [0] };

export function cartpole(dt = 0.02): Plant {
  const lin = jacobian([0, 0, 0, 0], [0]);
  return plantFromContinuous({
    name: 'cartpole',
    description: 'Inverted pendulum on a cart (Barto et al. 1983 parameters), nonlinear, linearised upright; |F| ≤ 10 N.',
    source: 'Florian 2007, "Correct equations for the dynamics of the cart-pole system"; Barto, Sutton & Anderson 1983.',
    dt,
    Ac: lin.A,
    Bc: lin.B,
    xBounds: { min: [-2.4, -3, -0.2094, -2], max: [2.4, 3, 0.2094, 2] },
    uBounds: { min: [-10], max: [10] },
    Q: diagRows([1, 0.1, 10, 0.1]),
    R: diagRows([0.01]),
    stateNames: ['cart position', 'cart velocity', 'pole angle', 'pole rate'],
    inputNames: ['force'],
    nonlinear: cartpoleDynamics,
  });
}
