import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ultro } from '../helpers/cli.js';

describe('ultro train / eval', () => {
  it('train writes a model that eval reads', { timeout: 300_000 }, () => {
    const dir = mkdtempSync(join(tmpdir(), 'ultro-train-'));
    const model = join(dir, 'model.json');
    // a small, quick run: the full-size acceptance run is test/trainer/train-double-integrator.test.ts
    const t = ultro(['train', '--hidden', '6', '--samples', '200', '--dagger', '0', '--refine', '1', '--eval-held-out', '1000', '--eval-runs', '10', '--out', model], { timeout: 300_000 });
    expect(t.code).toBe(0);
    expect(t.stdout).toMatch(/al-lm outer\s+0\s+steps/); // one progress line per outer iteration
    expect(t.stdout).toMatch(/ρ .* μ_LM/);
    expect(t.stdout).toContain(`wrote ${model}`);
    const saved = JSON.parse(readFileSync(model, 'utf8'));
    expect(saved.format).toBe('ultro-model/1');
    expect(saved.network.sizes).toEqual([2, 6, 1]);
    const e = ultro(['eval', model, '--held-out', '400', '--runs', '5', '--steps', '30']);
    expect(e.code).toBe(0);
    expect(e.stdout).toMatch(/validation MSE/);
    expect(e.stdout).toMatch(/held-out grid \(400 states\)/);
  });
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
  it('rejects unknown methods and bad sizes', () => {
    expect(ultro(['train', '--method', 'sgd']).stderr).toMatch(/--method must be one of al-lm, ip, adam, adam-minibatch/);
    expect(ultro(['train', '--hidden', '16,x']).stderr).toMatch(/--hidden: entry 1/);
  });
});
