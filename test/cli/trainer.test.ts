import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ultro } from '../helpers/cli.js';

describe('ultro train / eval', () => {
  // `ultro train` end to end (progress lines, the model file, `ultro eval` reading it) is test/trainer/fixtures.test.ts:
  // its fingerprint run is a real CLI training through every phase.
  it('a corrupted model file gets a clear error', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ultro-train-'));
    const f = join(dir, 'bad.json');
    writeFileSync(f, JSON.stringify({ format: 'ultro-model/1', network: { sizes: [2, 1], activation: 'tanh', layers: [{ W: [[1, 'oops']], b: [0] }] } }));
    const r = ultro(['eval', f]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toMatch(/bad\.json: network\.layers\[0\]\.W\[0\]\[1\]: expected a finite number/);
    writeFileSync(f, '{"format": "ultro-model/1", "netw');
    expect(ultro(['eval', f]).stderr).toMatch(/bad\.json: not valid JSON/);
  });
  it('--no-safety-filter: the model has no filter, and the trainer keeps every one-step state bound as a constraint', { timeout: 240_000 }, () => {
    const dir = mkdtempSync(join(tmpdir(), 'ultro-train-'));
    const out = join(dir, 'm.json');
    const args = ['train', '--hidden', '4', '--samples', '100', '--dagger', '0', '--refine', '0', '--qat', 'none', '--eval-held-out', '100', '--eval-runs', '2', '--threads', '1', '--out', out];
    const r = ultro([...args, '--no-safety-filter'], { timeout: 120_000 });
    expect(r.code).toBe(0);
    expect(r.stdout).not.toMatch(/safety filter/);
    // one-step state rows at the samples near a bound; no actuator rows (the network is trained through the clamp)
    const rows = (stdout: string) => Number(/(\d+) constraints/.exec(stdout)![1]);
    const ncon = rows(r.stdout);
    expect(ncon).toBeGreaterThan(0);
    const model = JSON.parse(readFileSync(out, 'utf8'));
    expect(model.output.safetyFilter).toBeUndefined();
    expect(model.output.saturating).toBe(true);
    // --actuator-bounds constraints: 100 samples × 2 actuator rows on top, and the raw network is scored
    const c = ultro([...args, '--no-safety-filter', '--actuator-bounds', 'constraints'], { timeout: 120_000 });
    expect(c.code).toBe(0);
    expect(rows(c.stdout)).toBeGreaterThanOrEqual(2 * 100 + ncon);
    expect(JSON.parse(readFileSync(out, 'utf8')).output.saturating).toBeUndefined();
  });
  it('rejects unknown methods and bad sizes', () => {
    expect(ultro(['train', '--method', 'sgd']).stderr).toMatch(/--method must be one of al-lm, ip, adam, adam-minibatch/);
    expect(ultro(['train', '--hidden', '16,x']).stderr).toMatch(/--hidden: entry 1/);
    expect(ultro(['train', '--actuator-bounds', 'soft']).stderr).toMatch(/--actuator-bounds must be one of clamp, constraints/);
  });
});
