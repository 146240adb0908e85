/**
 * Bad input, as a hostile or careless user gives it: every user error is one
 * line naming the option, the file or the field, with exit code 2, and
 * nothing is destroyed or left half-written (docs/limits.md).
 */
import { chmodSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT, ultro } from '../helpers/cli.js';

const fixture = join(ROOT, 'test/fixtures/models/double-integrator.json');
const dir = mkdtempSync(join(tmpdir(), 'ultro-errors-'));

/** The first line of stderr, and that it is the only line but a usage hint. */
function userError(args: string[]): string {
  const r = ultro(args, { timeout: 120_000 });
  expect(r.code, `${args.join(' ')}\n${r.stderr}`).toBe(2);
  const lines = r.stderr
    .trim()
    .split('\n')
    .filter((l) => !l.startsWith('(ultro <command> --help'));
  expect(lines, args.join(' ')).toHaveLength(1);
  return lines[0];
}

const plantFile = (name: string, patch: Record<string, unknown>) => {
  const base = {
    format: 'ultro-plant/1',
    name: 't',
    time: 'discrete',
    dt: 0.1,
    A: [
      [1, 0.1],
      [0, 1],
    ],
    B: [[0], [0.1]],
    xMin: [-1, -1],
    xMax: [1, 1],
    uMin: [-1],
    uMax: [1],
    Q: [1, 1],
    R: [1],
  };
  const f = join(dir, `${name}.json`);
  writeFileSync(f, JSON.stringify({ ...base, ...patch }));
  return f;
};

describe('every user error exits 2 with one line naming what is wrong', () => {
  const cases: [string, string[], RegExp][] = [
    ['too few samples', ['train', '--samples', '0'], /--samples must be an integer ≥ 10/],
    ['an unknown plant', ['train', '--plant', 'nope'], /--plant: "nope" is neither a registry plant/],
    ['an unknown target', ['codegen', fixture, '--target', 'teensy'], /--target must be one of uno, esp32, generic/],
    ['a missing --port', ['flash', '--target', 'uno'], /required option '--port <path>'/],
    ['a horizon above the limit', ['train', '--horizon', '100000'], /--horizon must be at most 200/],
    ['an on-board horizon above the limit', ['codegen', fixture, '--mpc', '--mpc-horizon', '10000'], /--mpc-horizon must be at most 200/],
    [
      'an on-board MPC that cannot fit the board',
      ['build', '--model', fixture, '--mpc-horizon', '150', '--out', join(dir, 'b150')],
      /--mpc-horizon: an on-board MPC with horizon 150 needs 6008 B of RAM .* the uno has 1792 B/,
    ],
    ['an iteration cap above the limit', ['build', '--model', fixture, '--mpc-iters', '1e6'], /--mpc-iters must be at most 10000/],
    ['more emulated boards than cores', ['hil', '--model', fixture, '--parallel', '1000', '--runs', '2'], /--parallel must be at most \d+/],
    ['negative noise', ['hil', '--model', fixture, '--noise', '-1'], /--noise: entry 0 \(-1\) must be ≥ 0/],
    ['too wide a network', ['train', '--hidden', '16,100000'], /--hidden: entry 1 \(100000\) must be at most 256/],
    ['a missing model file', ['eval', join(dir, 'none.json')], /none\.json: cannot read file/],
  ];
  for (const [what, args, re] of cases) it(what, () => expect(userError(args)).toMatch(re));
});

describe('numeric trouble is caught at load time and named', () => {
  it('an entry of 1e300', () =>
    expect(
      userError([
        'mpc',
        '--plant',
        plantFile('huge', {
          A: [
            [1e300, 0],
            [0, 1],
          ],
        }),
      ]),
    ).toMatch(/huge\.json: A\[0\]\[0\] = 1e\+300: entries up to 1e\+9 in size are supported; rescale the units/));
  it('an unstable mode the input cannot reach', () =>
    expect(
      userError([
        'mpc',
        '--plant',
        plantFile('unstab', {
          A: [
            [2, 0],
            [0, 1],
          ],
          B: [[0], [1]],
        }),
      ]),
    ).toMatch(/unstab\.json: no stabilising LQR solution .* not stabilisable/));
  it('a plant too unstable for the horizon', () =>
    expect(
      userError([
        'mpc',
        '--plant',
        plantFile('wild', {
          A: [
            [1000, 0],
            [0, 1],
          ],
          B: [[1], [0.1]],
        }),
      ]),
    ).toMatch(/free response grows by 1\.0e\+60 over the 20-step horizon.*shorten --horizon or the sample time/));
  it('300 states', () => {
    const n = 300;
    const eye = Array.from({ length: n }, (_, i) => Array.from({ length: n }, (_, j) => (i === j ? 1 : 0)));
    expect(userError(['mpc', '--plant', plantFile('big', { A: eye, B: eye.map(() => [1]), xMin: new Array(n).fill(-1), xMax: new Array(n).fill(1), Q: new Array(n).fill(1) })])).toMatch(
      /big\.json: A: 300 states; at most 32 are supported/,
    );
  });
  it('a model file whose MPC record does not fit its network', () => {
    const m = JSON.parse(readFileSync(fixture, 'utf8'));
    m.mpc.P = [[1]];
    const f = join(dir, 'badmpc.json');
    writeFileSync(f, JSON.stringify(m));
    expect(userError(['eval', f])).toMatch(/badmpc\.json: mpc\.P: has 1 rows, expected 2/);
    m.mpc.P = [
      [1, 0],
      [0, 1],
    ];
    m.mpc.horizon = 20000000000;
    writeFileSync(f, JSON.stringify(m));
    expect(userError(['eval', f])).toMatch(/badmpc\.json: mpc\.horizon: is 20000000000; at most 200 is supported/);
  });
});

describe('--out never destroys what is not a regular file, and fails up front', () => {
  it('a device node, a symbolic link, a directory, a path under a file', () => {
    const link = join(dir, 'link.json');
    const target = join(dir, 'target.json');
    writeFileSync(target, 'keep me');
    symlinkSync(target, link);
    const file = join(dir, 'afile');
    writeFileSync(file, 'x');
    mkdirSync(join(dir, 'adir'), { recursive: true });
    const mpc = (out: string) => userError(['mpc', '--steps', '5', '--out', out]);
    expect(mpc('/dev/null')).toMatch(/--out \/dev\/null: is a device; refusing to replace it with a file/);
    expect(lstatSync('/dev/null').isCharacterDevice()).toBe(true);
    expect(mpc(link)).toMatch(/link\.json: is a symbolic link .*refusing/);
    expect(readFileSync(target, 'utf8')).toBe('keep me');
    expect(lstatSync(link).isSymbolicLink()).toBe(true);
    expect(mpc(join(dir, 'adir'))).toMatch(/adir: is a directory; refusing/);
    expect(mpc(join(file, 'trace.json'))).toMatch(/afile\/trace\.json: cannot write there \(.*afile: a part of the path is a file, not a directory\)/);
    // train checks before it trains
    expect(userError(['train', '--out', '/dev/null'])).toMatch(/--out \/dev\/null: is a device/);
    expect(userError(['codegen', fixture, '--out', file])).toMatch(/--out .*afile: is a file, not a directory/);
    expect(existsSync(join(dir, 'adir'))).toBe(true);
  });
  it.skipIf(process.getuid?.() === 0)('a read-only directory (not as root, who may write anywhere)', () => {
    const ro = join(dir, 'ro');
    mkdirSync(ro);
    chmodSync(ro, 0o555);
    expect(userError(['mpc', '--steps', '5', '--out', join(ro, 'x.json')])).toMatch(/cannot write there \(.*ro: permission denied\)/);
  });
});
