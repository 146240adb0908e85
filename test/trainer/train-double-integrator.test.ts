/**
 * The acceptance test: on the double integrator with |u| ≤ 1, a
 * 2-16-16-1 tanh network trained with the default pipeline (al-lm) has
 *  - validation MSE to the MPC ≤ 1e-4 (u normalised to [−1, 1]);
 *  - no actuator-bound violation on a held-out grid of ≥ 10,000 states;
 *  - closed-loop cost within 2 % of the MPC from ≥ 50 random feasible starts.
 * About two minutes on 2 cores.
 */
import { describe, expect, it } from 'vitest';
import { getPlant } from '../../sim/index.js';
import { modelHash, trainPolicy } from '../../trainer/index.js';

describe('double integrator, 2-16-16-1 tanh, al-lm', () => {
  it('meets the MSE, held-out actuator and closed-loop cost targets', { timeout: 600_000 }, async () => {
    const out = await trainPolicy({ plant: getPlant('double-integrator'), hidden: [16, 16], activation: 'tanh', method: 'al-lm', horizon: 20, seed: 1 });
    const m = out.metrics;
    expect(m.valMse).toBeLessThanOrEqual(1e-4);
    expect(m.heldOut.kind).toBe('grid');
    expect(m.heldOut.states).toBeGreaterThanOrEqual(10_000);
    expect(m.heldOut.actuator.count).toBe(0);
    expect(m.closedLoop.runs).toBeGreaterThanOrEqual(50);
    expect(m.closedLoop.costRatio).toBeLessThanOrEqual(1.02);
    expect(m.closedLoop.costRatioMean).toBeLessThanOrEqual(1.02);
    expect(m.closedLoop.network.inputViolations).toBe(0);
    // provenance records what produced it
    const prov = out.model.provenance as { method: string; metrics: { valMse: number } };
    expect(prov.method).toBe('al-lm');
    expect(prov.metrics.valMse).toBe(m.valMse);
    expect(modelHash(out.model)).toMatch(/^[0-9a-f]{64}$/);
  });
});
