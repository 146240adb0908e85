/**
 * `ultro hil` end to end, through the CLI, on the emulated Uno: the
 * double-integrator network alone over 20 initial states × 100 steps (every
 * step checked bit for bit against the TS reference), and network against the
 * on-board MPC on short runs (the MPC takes ~99 % of the emulated cycles). The
 * report is read back and checked independently of the metrics code
 * (violations recomputed from the logged trajectories), and the HTML opened
 * in headless Chromium.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ultro, ROOT } from '../helpers/cli.js';
import { CHROMIUM, openInChromium } from '../helpers/browser.js';
import { HAVE_AVR } from '../helpers/firmware.js';

interface RunJson {
  name: string;
  episodes: { x0: number[]; x: number[][]; u: number[][]; cycles?: number[]; bitExact?: boolean }[];
}
interface ReportJson {
  modelHash: string;
  scenario: { steps: number; initialStates: number[][]; plant: { xBounds: { min: (number | null)[]; max: (number | null)[] }; uBounds: { min: number[]; max: number[] } } };
  summary: { speedup: number; controllers: { name: string; bitExact?: { checked: number; mismatches: number }; inputViolations: { count: number }; stateViolations: { count: number } }[] };
  runs: RunJson[];
}

/** Excursions beyond the box, recomputed from the logged trajectories (x after each step). */
function excursions(xs: number[][], min: (number | null)[], max: (number | null)[], tol = 1e-9): number {
  let n = 0;
  for (const x of xs) x.forEach((v, i) => ((min[i] !== null && v < min[i]! - tol) || (max[i] !== null && v > max[i]! + tol)) && n++);
  return n;
}

function checkHilReport(r: ReportJson) {
  const { xBounds, uBounds } = r.scenario.plant;
  const run = (name: string) => r.runs.find((x) => x.name === name)!;
  const net = run('network (board)');
  const mpc = r.runs.find((x) => x.name === 'MPC (board)');
  const steps = net.episodes.reduce((s, e) => s + e.u.length, 0);
  const inputViol = (x: RunJson | undefined) => (x ? x.episodes.reduce((s, e) => s + excursions(e.u, uBounds.min, uBounds.max), 0) : NaN);
  // State violations of the network on episodes where the on-board MPC had none.
  let netWhereMpcClean = 0;
  if (mpc)
    net.episodes.forEach((e, k) => {
      if (excursions(mpc.episodes[k].x, xBounds.min, xBounds.max) === 0) netWhereMpcClean += excursions(e.x, xBounds.min, xBounds.max);
    });
  const median = (v: number[]) => {
    const s = v.slice().sort((a, b) => a - b);
    return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
  };
  const cyc = (x: RunJson) => median(x.episodes.flatMap((e) => e.cycles!));
  return {
    steps,
    states: net.episodes.length,
    netInput: inputViol(net),
    mpcInput: inputViol(mpc),
    netWhereMpcClean,
    ratio: mpc ? cyc(mpc) / cyc(net) : NaN,
    bitExact: net.episodes.every((e) => e.bitExact === true),
  };
}

/** Run `ultro hil` on a fixture model into a temporary directory (removed after the suite); read its report.json. */
function hilSuite(fixture: string, args: string[]) {
  const run = { dir: '', out: { code: -1, stdout: '', stderr: '' }, report: undefined as unknown as ReportJson };
  beforeAll(() => {
    run.dir = mkdtempSync(join(tmpdir(), 'ultro-hil-'));
    run.out = ultro(['hil', '--model', join(ROOT, 'test/fixtures/models', fixture), ...args, '--out', run.dir], { timeout: 400_000 });
    if (run.out.code === 0) run.report = JSON.parse(readFileSync(join(run.dir, 'report.json'), 'utf8'));
  }, 420_000);
  afterAll(() => rmSync(run.dir, { recursive: true, force: true }));
  return run;
}

describe.skipIf(!HAVE_AVR)('ultro hil on the emulated Uno (double integrator): the network, 20 × 100 steps', () => {
  // A sensor with 1 cm / 1 cm/s noise: the closed loop never sits exactly at rest.
  const run = hilSuite('double-integrator.json', ['--controllers', 'policy', '--steps', '100', '--runs', '20', '--noise', '0.01']);

  it('runs ≥ 2,000 steps from ≥ 10 initial states and prints the summary and the report path', () => {
    expect(run.out.code, run.out.stderr).toBe(0);
    expect(run.out.stdout).toMatch(/network \(board\)/);
    expect(run.out.stdout).toContain(join(run.dir, 'report.html'));
    const c = checkHilReport(run.report);
    expect(c.steps).toBeGreaterThanOrEqual(2000);
    expect(c.states).toBeGreaterThanOrEqual(10);
  });

  it('zero input violations; on-board network controls equal the TS integer reference bit for bit', () => {
    const c = checkHilReport(run.report);
    expect(c.netInput).toBe(0);
    const s = run.report.summary.controllers.find((x) => x.name === 'network (board)')!;
    expect(s.bitExact).toEqual({ checked: 2000, mismatches: 0 });
    expect(c.bitExact).toBe(true);
  });

  it.skipIf(!CHROMIUM)(
    'report.html opens in headless Chromium without errors and is self-contained',
    async () => {
      const page = await openInChromium(join(run.dir, 'report.html'));
      expect(page.errors).toEqual([]);
      expect(page.external).toEqual([]);
      expect(page.title).toBe('Ultro HIL report');
      expect(page.svgCount).toBeGreaterThan(5); // trajectories, controls, histograms
      expect(page.text).toMatch(/network \(board\)/);
    },
    60_000,
  );
});

describe.skipIf(!HAVE_AVR)('ultro hil on the emulated Uno (double integrator): network against the on-board MPC, 4 × 50 steps', () => {
  const run = hilSuite('double-integrator.json', ['--steps', '50', '--runs', '4', '--noise', '0.01']);

  it('network ≥ 50× faster than the on-board MPC in median cycles (exact emulated cycle counts)', () => {
    expect(run.out.code, run.out.stderr).toBe(0);
    expect(run.out.stdout).toMatch(/faster than the on-board MPC/);
    const c = checkHilReport(run.report);
    expect(c.steps).toBe(200);
    expect(c.ratio).toBeGreaterThanOrEqual(50);
    expect(run.report.summary.speedup).toBeCloseTo(c.ratio, 6);
  });

  it('zero input violations for both; no network state violation where the MPC has none; bit-exact', () => {
    const c = checkHilReport(run.report);
    expect(c.netInput).toBe(0);
    expect(c.mpcInput).toBe(0);
    expect(c.netWhereMpcClean).toBe(0);
    expect(c.bitExact).toBe(true);
  });
});

describe('ultro hil: bad arguments name the option', () => {
  const model = join(ROOT, 'test/fixtures/models/double-integrator.json');
  it.each([
    [['--noise', '0.1,0.2,0.3'], /--noise: need 1 or 2 entries/],
    [['--noise', 'abc'], /--noise: entry 0/],
    [['--steps', '0'], /--steps must be an integer ≥ 1/],
    [['--port', '/dev/null', '--emulate'], /--port and --emulate/],
    [['--controllers', 'policy,lqr'], /--controllers: "lqr"/],
    [['--dynamics', 'nonlinear'], /has no nonlinear model/],
    [['--plant-model', 'nonlinear'], /has no nonlinear model/], // the old name, a hidden alias
    [['--target', 'teensy'], /--target must be one of/],
  ])('%j', (args, re) => {
    const r = ultro(['hil', '--model', model, '--out', join(tmpdir(), 'ultro-hil-bad'), ...(args as string[])]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(re as RegExp);
  });
  it('a missing model file is named', () => {
    const r = ultro(['hil', '--model', '/nonexistent/model.json']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/\/nonexistent\/model.json/);
  });
});

describe.skipIf(!HAVE_AVR)('ultro hil on a user plant file (two carts: 4 states, 2 inputs)', () => {
  const net = hilSuite('two-carts.json', ['--controllers', 'policy', '--steps', '200', '--runs', '10']);
  const both = hilSuite('two-carts.json', ['--steps', '40', '--runs', '2']);

  it('runs the network 2,000 steps from 10 initial states of the plant from examples/two-carts.json, bit-exact, no input violation', () => {
    expect(net.out.code, net.out.stderr).toBe(0);
    const p = (net.report.scenario as unknown as { plant: { name: string; nx: number; nu: number } }).plant;
    expect(p).toMatchObject({ name: 'two-carts', nx: 4, nu: 2 });
    const c = checkHilReport(net.report);
    expect(c.steps).toBe(2000);
    expect(c.states).toBe(10);
    expect(c.netInput).toBe(0);
    expect(c.bitExact).toBe(true);
    expect(net.report.summary.controllers.find((x) => x.name === 'network (board)')!.bitExact).toEqual({ checked: 2000, mismatches: 0 });
  });

  it('against the on-board MPC: zero input violations for both, no network state violation where the MPC has none', () => {
    expect(both.out.code, both.out.stderr).toBe(0);
    const c = checkHilReport(both.report);
    expect(c.mpcInput).toBe(0);
    expect(c.netInput).toBe(0);
    expect(c.netWhereMpcClean).toBe(0);
    console.log(`two carts: network ${c.ratio.toFixed(1)}× faster than the on-board MPC (median cycles)`);
  });
});
