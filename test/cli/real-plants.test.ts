/**
 * A user plant with unbounded states through every command: the unstable
 * aircraft in examples/aircraft-pitch.json (null bounds on speed, pitch rate
 * and pitch; an operating domain declared for them). A small network and few
 * samples keep it quick; the full-size runs are `npm run bench -- plants`.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ultro } from '../helpers/cli.js';

const PLANT = 'examples/aircraft-pitch.json';

describe('a plant file with null state bounds (examples/aircraft-pitch.json)', () => {
  it('ultro mpc runs it from the default start inside the declared domain', () => {
    const r = ultro(['mpc', '--plant', PLANT, '--steps', '60']);
    expect(r.code).toBe(0);
    // 80 % of the speed's domain (±30): the unbounded first state starts inside its domain, not at 0
    expect(r.stdout).toMatch(/from x0 = \[24, 0, 0, 0\]/);
    expect(r.stdout).toMatch(/state violations\s+0 /);
    expect(r.stdout).toMatch(/steps needing slack\s+0/);
  });

  it('train → eval → codegen → build → hil', { timeout: 600_000 }, () => {
    const dir = mkdtempSync(join(tmpdir(), 'ultro-real-'));
    const model = join(dir, 'model.json');
    const t = ultro(['train', '--plant', PLANT, '--hidden', '8', '--samples', '300', '--dagger', '0', '--refine', '1', '--eval-held-out', '500', '--eval-runs', '5', '--out', model], {
      timeout: 600_000,
    });
    expect(t.stderr).toBe('');
    expect(t.code).toBe(0);
    expect(t.stdout).toMatch(/time per phase: sampling .* total/);
    const saved = JSON.parse(readFileSync(model, 'utf8'));
    expect(saved.network.sizes).toEqual([4, 8, 2]);
    // the declared domain, not ±∞, is the network's input domain
    expect(saved.input.domain).toEqual({ min: [-30, -0.5, -12, -5], max: [30, 0.5, 12, 5] });
    expect(saved.plant.xMax).toEqual([null, 0.5, null, null]);

    // ultro eval with the seed train used reports the same numbers
    const seed = /evaluation seed\s+(\d+)/.exec(t.stdout)![1];
    const e = ultro(['eval', model, '--held-out', '500', '--runs', '5', '--seed', seed]);
    expect(e.code).toBe(0);
    const block = (s: string) => s.slice(s.indexOf('evaluation seed')).split('\n').slice(0, 11).join('\n');
    expect(block(e.stdout)).toBe(block(t.stdout));

    const gen = join(dir, 'gen');
    // a tiny network may miss the fixed-point tolerance: --force writes it anyway, and says so
    const c = ultro(['codegen', model, '--mpc', '--force', '--out', gen]);
    expect(c.code).toBe(0);
    expect(c.stdout.split('\n')[0]).toMatch(/^codegen: fixed point vs float \(int(8|16), .*\): RMS [0-9.]+ % of the actuator range/);
    const report = JSON.parse(readFileSync(join(gen, 'report.json'), 'utf8'));
    expect(report.error.grid.rmsOfRange).toHaveLength(2);

    const b = ultro(['build', '--model', model, '--target', 'uno', '--out', join(dir, 'build')]);
    expect(b.code).toBe(0);
    expect(b.stdout).toMatch(/flash \d+ B/);

    const h = ultro(['hil', '--model', model, '--runs', '2', '--steps', '20', '--parallel', '1', '--out', join(dir, 'hil')], { timeout: 300_000 });
    expect(h.code).toBe(0);
    expect(h.stdout).toMatch(/network \(board\)/);
    expect(h.stdout).toMatch(/MPC \(board\)/);
    expect(h.stdout).toMatch(/cost ratios are against the host MPC with the teacher's horizon \(20\)/);
    const hil = JSON.parse(readFileSync(join(dir, 'hil', 'report.json'), 'utf8'));
    // state violations are counted only against the one real bound (α)
    const net = hil.summary.controllers.find((x: { name: string }) => x.name === 'network (board)');
    expect(net.stateViolations.max).toBeLessThan(1);
  });
});
