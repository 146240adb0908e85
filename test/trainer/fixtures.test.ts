/**
 * The trained-model fixtures against the trainer of this commit, without
 * retraining them (that takes minutes; scripts/make-fixtures.sh does it):
 *  - every fixture records the trainer revision that made it
 *    (trainer/version.ts), and it must be this one;
 *  - the fingerprint, a seconds-long training through every phase (sampling,
 *    trajectories, AL-LM, DAgger, refinement, the quantisation-aware refit,
 *    evaluation), is retrained here and must give the committed model's
 *    hash: a change to the trainer's results that forgot to raise the
 *    revision (and so to regenerate the fixtures) fails here;
 *  - the double-integrator fixture meets its targets, measured by an
 *    evaluation on other states than the trainer's own (seed 7, not 4242):
 *    validation MSE ≤ 1e-4 (u normalised to [−1, 1]), no actuator-bound
 *    violation on a held-out grid of ≥ 10,000 states, closed-loop cost within
 *    2 % of the MPC from ≥ 50 random feasible starts.
 */
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { TRAINER_REVISION, evaluatePolicy, loadModel, modelHash, modelPlant } from '../../trainer/index.js';
import { ROOT, ultro } from '../helpers/cli.js';

const FIXTURES = join(ROOT, 'test/fixtures/models');
const models = readdirSync(FIXTURES).filter((n) => n.endsWith('.json') && !n.endsWith('.args.json'));
const STALE = 'is stale: raise TRAINER_REVISION if the trainer changed, then run bash scripts/make-fixtures.sh';

describe('model fixtures are current', () => {
  it('finds the fixtures', () => expect(models).toEqual(expect.arrayContaining(['double-integrator.json', 'two-carts.json', 'fingerprint.json'])));

  for (const f of models)
    it(`${f} was trained by this trainer revision (${TRAINER_REVISION})`, () => {
      const prov = loadModel(join(FIXTURES, f)).provenance as { trainerRevision?: number } | undefined;
      expect(prov?.trainerRevision, `${f} ${STALE}`).toBe(TRAINER_REVISION);
    });

  it('the fingerprint training (ultro train) gives the committed model (same hash), and ultro eval reads it', { timeout: 120_000 }, () => {
    const args = JSON.parse(readFileSync(join(FIXTURES, 'fingerprint.args.json'), 'utf8')) as string[];
    const dir = mkdtempSync(join(tmpdir(), 'ultro-fingerprint-'));
    try {
      const model = join(dir, 'fingerprint.json');
      const r = ultro(['train', ...args, '--out', model], { timeout: 110_000 });
      expect(r.code, r.stderr).toBe(0);
      expect(modelHash(loadModel(model)), `test/fixtures/models/fingerprint.json ${STALE}`).toBe(modelHash(loadModel(join(FIXTURES, 'fingerprint.json'))));
      // What a user sees: a progress line per outer iteration, the time per phase, the file written; eval reads it.
      expect(r.stdout).toMatch(/al-lm outer\s+0\s+steps .*ρ .* μ_LM/);
      expect(r.stdout).toMatch(/time per phase: sampling .* total/);
      expect(r.stdout).toContain(`wrote ${model}`);
      const e = ultro(['eval', '--model', model, '--held-out', '400', '--runs', '5', '--steps', '30']);
      expect(e.code, e.stderr).toBe(0);
      expect(e.stdout).toMatch(/validation MSE/);
      expect(e.stdout).toMatch(/held-out grid \(400 states\)/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('the double-integrator fixture (2-16-16-1 tanh, al-lm, the defaults of ultro train)', () => {
  it('meets the MSE, held-out actuator and closed-loop cost targets on states the trainer did not evaluate', { timeout: 120_000 }, async () => {
    const model = loadModel(join(FIXTURES, 'double-integrator.json'));
    const prov = model.provenance as { method: string; hidden: number[]; metrics: { valMse: number } };
    expect(prov).toMatchObject({ method: 'al-lm', hidden: [16, 16] });
    expect(prov.metrics.valMse).toBeLessThanOrEqual(1e-4);
    const m = await evaluatePolicy(model, modelPlant(model), { horizon: model.mpc!.horizon, polytope: model.mpc!.polytope }, { seed: 7 });
    expect(m.seed).toBe(7);
    expect(m.heldOut.kind).toBe('grid');
    expect(m.heldOut.states).toBeGreaterThanOrEqual(10_000);
    expect(m.heldOut.actuator.count).toBe(0);
    expect(m.closedLoop.runs).toBeGreaterThanOrEqual(50);
    expect(m.closedLoop.costRatio).toBeLessThanOrEqual(1.02);
    expect(m.closedLoop.costRatioMean).toBeLessThanOrEqual(1.02);
    expect(m.closedLoop.network.inputViolations).toBe(0);
  });
});
