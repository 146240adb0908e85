/**
 * `ultro train --qat auto` on a network too steep for int8: the aircraft's
 * 4-8-8-2 network errs by several times the tolerance in int8, so it is
 * trained again with bounded layer norms. The kept network is checked from
 * its model file with codegen's own quantiser on a fresh grid: every layer
 * within the bound, int8 within the tolerance, and the choice recorded for
 * codegen's --variant auto.
 */
import { describe, expect, it } from 'vitest';
import { getPlant } from '../../sim/index.js';
import { heldOutStates, trainPolicy } from '../../trainer/index.js';
import { MAX_SHRINK, int8NormBound } from '../../trainer/int8-bound.js';
import { FIXED_POINT_TOLERANCE, chooseVariant, deployedPolicy, fixedPointError, fixedPointVerdict, quantizeModel } from '../../codegen/index.js';

describe('int8 weight-norm retrain', () => {
  it('tries a bound only between twice and MAX_SHRINK times the tolerance', () => {
    const sizes = [2, 3, 1];
    const theta = Float64Array.from([3, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]); // layer norms 5 and 0
    expect(int8NormBound(theta, sizes, 0.03, 0.02)).toBeNull();
    expect(int8NormBound(theta, sizes, (MAX_SHRINK + 1) * 0.02, 0.02)).toBeNull();
    expect(int8NormBound(theta, sizes, 0.09, 0.02)).toBe(1); // 5 · 0.9 · 0.02 / 0.09
  });

  it('the aircraft (±25 actuators) 4-8-8-2 network: retrained bounded, and int8 then within the tolerance', { timeout: 120_000 }, async () => {
    const plant = getPlant('aircraft-pitch');
    const logs: string[] = [];
    const out = await trainPolicy({
      plant,
      method: 'al-lm',
      horizon: 20,
      seed: 1,
      hidden: [8, 8],
      samples: 400,
      daggerRounds: 0,
      refineRounds: 0,
      evalHeldOut: 500,
      evalRuns: 4,
      threads: 1,
      qat: 'auto',
      deploy: deployedPolicy,
      log: (m) => logs.push(m),
    });
    const b = out.int8Bound!;
    expect(b, logs.join('\n')).toBeDefined();
    expect(b.unbounded.rmsOfRange).toBeGreaterThan(2 * FIXED_POINT_TOLERANCE);
    expect(b.kept).toBe(true);
    const m = out.model;
    const prov = m.provenance as { maxWeightNorm: number; qat: string; int8Bound: { unbounded: { rmsOfRange: number } } };
    expect(prov.maxWeightNorm).toBe(b.bound);
    expect(prov.qat).toBe('int8');
    expect(prov.int8Bound.unbounded.rmsOfRange).toBe(b.unbounded.rmsOfRange);
    for (const L of m.network.layers) expect(Math.hypot(...L.W.flat())).toBeLessThanOrEqual(b.bound * 1.001);
    const X = heldOutStates(m, 4000, 99).X;
    const e = fixedPointVerdict(fixedPointError(quantizeModel(m, { variant: 'int8' }), m, X, m.input.names.length));
    expect(e.ok).toBe(true);
    expect(chooseVariant(m, 'auto').q.variant).toBe('int8');
    expect(out.phases.map(([n]) => n)).toContain('int8 retrain');
    expect(logs.some((l) => l.startsWith('int8 retrain: '))).toBe(true);
  });
});
