import { existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT, ultro } from '../helpers/cli.js';
import { randomModel } from '../helpers/models.js';

const fixture = join(ROOT, 'test/fixtures/models/double-integrator.json');

describe('ultro codegen', () => {
  it('writes the C, the on-board MPC and a report with formats, errors and sizes', () => {
    const out = mkdtempSync(join(tmpdir(), 'ultro-gen-'));
    const r = ultro(['codegen', '--model', fixture, '--target', 'uno', '--mpc', '--out', out]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/layer 1: tanh, int8 weights/);
    expect(readdirSync(out).sort()).toEqual(
      [
        'report.json',
        'report.md',
        'ultro_config.h',
        'ultro_kernels.h',
        'ultro_mpc.c',
        'ultro_mpc.h',
        'ultro_mpc_data.c',
        'ultro_mpc_data.h',
        'ultro_nn.c',
        'ultro_nn.h',
        'ultro_policy.c',
        'ultro_policy.h',
        'ultro_rom.h',
      ].sort(),
    );
    const rep = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8'));
    expect(rep.quantisation.layers).toHaveLength(3);
    expect(rep.error.grid.states).toBe(10000);
    expect(rep.tanh.maxAbsError).toBeGreaterThan(0);
    // the fixture is trained with the safety filter: both double-integrator states' bounds, on its one input
    expect(rep.safetyFilter).toEqual([{ input: 'force', bounds: ['next position ≥ -5', 'next position ≤ 5', 'next velocity ≥ -2', 'next velocity ≤ 2'] }]);
    expect(readFileSync(join(out, 'report.md'), 'utf8')).toContain('## Safety filter');
    if ('flash' in rep.sizes.policy) expect(rep.sizes.policy.board).toBe('uno');
    // deterministic: a second run writes identical files (the model given the old way, as a positional argument)
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
  it('refuses C whose fixed-point error exceeds the tolerance (exit 2, nothing written) unless --force', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ultro-gen-'));
    const scaled = (gain: number, layer: number) => {
      const m = randomModel('double-integrator', [16, 16], 'tanh', 1);
      m.network.layers[layer].W = m.network.layers[layer].W.map((row) => row.map((w) => w * gain));
      return m;
    };
    // huge output weights (over 700 % RMS of the range in int8), a 20-layer network (11 %)
    const cases: [string, ReturnType<typeof randomModel>][] = [
      ['out1e4', scaled(1e4, 2)],
      ['deep20', randomModel('double-integrator', new Array(19).fill(16), 'tanh', 2, 3)],
    ];
    for (const [name, m] of cases) {
      const file = join(dir, `${name}.json`);
      writeFileSync(file, JSON.stringify(m));
      const out = join(dir, `out-${name}`);
      const r = ultro(['codegen', file, '--variant', 'int8', '--out', out]);
      expect(r.code, name).toBe(2);
      expect(r.stderr.trim(), name).toMatch(/fixed-point error \(RMS [0-9.]+ % of the range of force\) exceeds the 2\.0 % tolerance; .* --force/);
      expect(r.stdout.split('\n')[0], name).toMatch(/^codegen: fixed point vs float \(int8, --variant int8\): RMS/);
      expect(existsSync(out), name).toBe(false);
    }
    const forced = ultro(['codegen', join(dir, 'out1e4.json'), '--variant', 'int8', '--force', '--out', join(dir, 'forced')]);
    expect(forced.code).toBe(0);
    expect(forced.stdout).toMatch(/warning: .* \(--force\)/);
    // Huge first-layer weights (×1e6) used to err by 7.8 % (weight bits given up to fit a left shift); with
    // saturating shifts the int8 C is within the tolerance, so it is written.
    writeFileSync(join(dir, 'w1e6.json'), JSON.stringify(scaled(1e6, 0)));
    const big = ultro(['codegen', join(dir, 'w1e6.json'), '--variant', 'int8', '--out', join(dir, 'out-w1e6')]);
    expect(big.code, big.stderr).toBe(0);
    expect(Number(/RMS ([0-9.]+) % of the actuator range/.exec(big.stdout)![1])).toBeLessThan(2);
  });
  it('replaces the output directory as a whole: a failed run leaves the old one exactly as it was', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ultro-gen-'));
    const out = join(dir, 'gen');
    expect(ultro(['codegen', fixture, '--out', out]).code).toBe(0);
    const before = Object.fromEntries(readdirSync(out).map((f) => [f, readFileSync(join(out, f), 'utf8')]));
    const bad = randomModel('double-integrator', [16, 16], 'tanh', 1);
    bad.network.layers[2].W = bad.network.layers[2].W.map((row) => row.map((w) => w * 1e4));
    writeFileSync(join(dir, 'bad.json'), JSON.stringify(bad));
    expect(ultro(['codegen', join(dir, 'bad.json'), '--variant', 'int8', '--out', out]).code).toBe(2);
    expect(Object.fromEntries(readdirSync(out).map((f) => [f, readFileSync(join(out, f), 'utf8')]))).toEqual(before);
    // a new model replaces every file: no old report beside new C
    const other = randomModel('double-integrator', [8], 'tanh', 3, 0.5);
    writeFileSync(join(dir, 'other.json'), JSON.stringify(other));
    expect(ultro(['codegen', join(dir, 'other.json'), '--variant', 'int16', '--force', '--out', out]).code).toBe(0);
    const rep = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8'));
    expect(rep.network.sizes).toEqual([2, 8, 1]);
    expect(readFileSync(join(out, 'ultro_policy.c'), 'utf8')).toContain(rep.modelHash);
    expect(readdirSync(dir).filter((f) => f.startsWith('.gen'))).toEqual([]);
  });
  it('the model file: --model, or the old positional form, once', () => {
    expect(ultro(['codegen', '--out', join(tmpdir(), 'ultro-gen-none')])).toMatchObject({ code: 2, stderr: expect.stringMatching(/--model: missing/) });
    expect(ultro(['codegen', fixture, '--model', '/elsewhere/m.json'])).toMatchObject({ code: 2, stderr: expect.stringMatching(/--model: given twice/) });
  });
  it('rejects an unknown target', () => {
    expect(ultro(['codegen', fixture, '--target', 'pic16']).stderr).toMatch(/--target must be one of uno, esp32, generic/);
  });
});
