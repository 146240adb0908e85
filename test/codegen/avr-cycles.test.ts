/**
 * The policy as the ATmega328P runs it (avr-gcc -O2, the AVR assembly
 * kernels), on the emulated Uno: its integer outputs equal the TS reference
 * bit for bit, and its cycle counts — exact, so assertable — stay within the
 * budget the benchmark reports (`npm run bench -- cycles`).
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadModel } from '../../trainer/index.js';
import { policyQ, quantizeInput, quantizeModel } from '../../codegen/index.js';
import { measurePolicyCycles } from '../../pipeline/index.js';
import { ROOT } from '../helpers/cli.js';
import { HAVE_AVR } from '../helpers/firmware.js';

const model = loadModel(join(ROOT, 'test/fixtures/models/double-integrator.json'));
// A grid over the domain, its corners, points beyond it (clamped), and zero.
const states: number[][] = [];
for (let i = 0; i <= 6; i++) for (let j = 0; j <= 6; j++) states.push([-5 + (10 * i) / 6, -2 + (4 * j) / 6]);
states.push([0, 0], [7, -3], [-9, 2.5], [0.001, -0.002]);

describe.skipIf(!HAVE_AVR)('policy on the emulated ATmega328P', () => {
  it.each([
    ['int8', 36],
    ['int16', 90],
  ] as const)(
    '%s: bit-exact with the TS reference on 53 states; ≤ %d cycles per MAC',
    (variant, budget) => {
      const q = quantizeModel(model, { variant });
      const r = measurePolicyCycles(q, states);
      states.forEach((x, k) => {
        const xq = quantizeInput(q, x.map(Math.fround));
        expect(r.uq[k], `state ${x}`).toBe(policyQ(q, xq)[0]);
      });
      const worst = Math.max(...r.core);
      expect(worst / r.macs).toBeLessThanOrEqual(budget);
      expect(Math.min(...r.core)).toBeGreaterThan(r.macs * 8); // sanity: the MUL/LPM floor
    },
    120_000,
  );
});
