import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT, ultro } from '../helpers/cli.js';

const fixture = join(ROOT, 'test/fixtures/models/double-integrator.json');

describe('ultro codegen', () => {
  it('writes the C, the on-board MPC and a report with formats, errors and sizes', () => {
    const out = mkdtempSync(join(tmpdir(), 'ultro-gen-'));
    const r = ultro(['codegen', fixture, '--target', 'uno', '--mpc', '--out', out]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/layer 1: tanh, int8 weights/);
    expect(readdirSync(out).sort()).toEqual(
      ['report.json', 'report.md', 'ultro_config.h', 'ultro_mpc.c', 'ultro_mpc.h', 'ultro_mpc_data.c', 'ultro_mpc_data.h', 'ultro_nn.c', 'ultro_nn.h', 'ultro_policy.c', 'ultro_policy.h', 'ultro_rom.h'].sort(),
    );
    const rep = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8'));
    expect(rep.quantisation.layers).toHaveLength(3);
    expect(rep.error.grid.states).toBe(10000);
    expect(rep.tanh.maxAbsError).toBeGreaterThan(0);
    if ('flash' in rep.sizes.policy) expect(rep.sizes.policy.board).toBe('uno');
    // deterministic: a second run writes identical files
    const out2 = mkdtempSync(join(tmpdir(), 'ultro-gen-'));
    ultro(['codegen', fixture, '--target', 'uno', '--mpc', '--out', out2]);
    for (const f of readdirSync(out)) expect(readFileSync(join(out2, f), 'utf8')).toBe(readFileSync(join(out, f), 'utf8'));
  });
  it('a model with NaN-like weights or no domain gets a clear error', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ultro-gen-'));
    const m = JSON.parse(readFileSync(fixture, 'utf8'));
    m.network.layers[0].W[2][1] = null; // what JSON.stringify writes for NaN
    writeFileSync(join(dir, 'nan.json'), JSON.stringify(m));
    const r = ultro(['codegen', join(dir, 'nan.json'), '--out', join(dir, 'o')]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toBe(`ultro: ${join(dir, 'nan.json')}: network.layers[0].W[2][1]: expected a finite number`);
    const m2 = JSON.parse(readFileSync(fixture, 'utf8'));
    delete m2.input.domain;
    writeFileSync(join(dir, 'nodomain.json'), JSON.stringify(m2));
    const r2 = ultro(['codegen', join(dir, 'nodomain.json'), '--out', join(dir, 'o')]);
    expect(r2.code).toBe(2);
    expect(r2.stderr).toMatch(/nodomain\.json: input\.domain: /);
  });
  it('rejects an unknown target', () => {
    expect(ultro(['codegen', fixture, '--target', 'pic16']).stderr).toMatch(/--target must be one of uno, esp32, generic/);
  });
});
