/** A user plant (from a plant document, not the registry) shared by the MPC tests: two coupled carts, 4 states, 2 inputs. */
import { plantFromJson, type Plant } from '../../sim/index.js';

export function twoCartPlant(): Plant {
  return plantFromJson(
    {
      name: 'two-cart',
      time: 'continuous',
      dt: 0.05,
      A: [
        [0, 0, 1, 0],
        [0, 0, 0, 1],
        [-2, 1, -0.1, 0],
        [1, -1, 0, -0.1],
      ],
      B: [
        [0, 0],
        [0, 0],
        [1, 0],
        [0, 1],
      ],
      xMin: [-1, -1, -2, -2],
      xMax: [1, 1, 2, 2],
      uMin: [-1, -1],
      uMax: [1, 1],
      Q: [1, 1, 0.1, 0.1],
      R: [0.1, 0.1],
    },
    'two-cart.json',
  );
}
