import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ultro } from '../helpers/cli.js';

describe('ultro plants / mpc', () => {
  it('lists the registry', () => {
    const r = ultro(['plants']);
    expect(r.code).toBe(0);
    for (const n of ['double-integrator (default)', 'dc-motor', 'cartpole', 'quadrotor-hover']) expect(r.stdout).toContain(n);
  });
  it('runs MPC in closed loop and writes a JSON trace', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ultro-cli-'));
    const out = join(dir, 'trace.json');
    const r = ultro(['mpc', '--x0', '3,1', '--steps', '60', '--out', out]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/state violations\s+0/);
    const trace = JSON.parse(readFileSync(out, 'utf8'));
    expect(trace.x).toHaveLength(61);
    expect(trace.u).toHaveLength(60);
    expect(trace.info[0].status).toBe('solved');
  });
  it('takes a plant file, and exports one', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ultro-cli-'));
    const exp = ultro(['plants', '--export', 'dc-motor']);
    expect(exp.code).toBe(0);
    writeFileSync(join(dir, 'motor.json'), exp.stdout);
    const r = ultro(['mpc', '--plant', join(dir, 'motor.json'), '--x0', '2,0,0', '--steps', '40']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('plant dc-motor');
  });
  it('a plant file with a bad field gets a one-line error naming the field', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ultro-cli-'));
    const f = join(dir, 'bad.json');
    writeFileSync(
      f,
      JSON.stringify({
        name: 'b',
        time: 'discrete',
        dt: 0.1,
        A: [
          [1, 'x'],
          [0, 1],
        ],
        B: [[0], [1]],
        xMin: [null, null],
        xMax: [null, null],
        uMin: [-1],
        uMax: [1],
        Q: [1, 1],
        R: [1],
      }),
    );
    const r = ultro(['mpc', '--plant', f]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain('bad.json: A[0][1]: expected a finite number');
  });
  it('rejects bad arguments with the option named', () => {
    const r = ultro(['mpc', '--x0', '1,abc']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('--x0: entry 1 ("abc") is not a finite number');
    const r2 = ultro(['mpc', '--x0', '1,2,3']);
    expect(r2.code).toBe(2);
    expect(r2.stderr).toContain('--x0: has 3 entries');
  });
});
