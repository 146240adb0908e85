/** The plant registry: every built-in plant by name. */
import { InputError } from '../io.js';
import { aircraftPitch } from './aircraft.js';
import { cartpole } from './cartpole.js';
import { dcMotor } from './dc-motor.js';
import { doubleIntegrator } from './double-integrator.js';
import type { Plant } from './plant.js';
import { quadrotorHover } from './quadrotor.js';

const REGISTRY: Record<string, () => Plant> = {
  'double-integrator': () => doubleIntegrator(),
  'dc-motor': () => dcMotor(),
  cartpole: () => cartpole(),
  'quadrotor-hover': () => quadrotorHover(),
  'aircraft-pitch': () => aircraftPitch(),
};

export const DEFAULT_PLANT = 'double-integrator';

export function plantNames(): string[] {
  return Object.keys(REGISTRY);
}

export function getPlant(name: string): Plant {
  const make = REGISTRY[name];
  if (!make) throw new InputError(`unknown plant "${name}"; known plants: ${plantNames().join(', ')}`);
  return make();
}

export function listPlants(): Plant[] {
  return plantNames().map((n) => REGISTRY[n]());
}
