import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkPlant, getPlant, listPlants, loadPlantFile, plantFromJson, plantNames, plantStep, plantToJson, resolvePlant, rk4Step } from '../../sim/index.js';

describe('plant registry', () => {
  it('holds the four documented plants, each consistent', () => {
    expect(plantNames()).toEqual(expect.arrayContaining(['double-integrator', 'dc-motor', 'cartpole', 'quadrotor-hover']));
    for (const p of listPlants()) {
      checkPlant(p);
      expect(p.source.length).toBeGreaterThan(10);
    }
    expect(getPlant('quadrotor-hover').nx).toBe(12);
  });
  it('unknown names list the known ones', () => {
    expect(() => getPlant('nope')).toThrow(/double-integrator/);
  });
  it('cartpole: analytic Jacobians match central differences of f', () => {
    const p = getPlant('cartpole');
    const nl = p.nonlinear!;
    for (const x of [
      [0, 0, 0, 0],
      [0.3, -0.5, 0.15, 0.7],
      [-1, 1, -0.3, -1.2],
    ]) {
      const u = [2.5];
      const { A, B } = nl.jacobian(x, u);
      const h = 1e-6;
      for (let j = 0; j < 4; j++) {
        const xp = x.slice(),
          xm = x.slice();
        xp[j] += h;
        xm[j] -= h;
        const fp = nl.f(xp, u),
          fm = nl.f(xm, u);
        // central differences: O(h²) ≈ 1e-12 truncation, plus ~1e-10 rounding
        for (let i = 0; i < 4; i++) expect(Math.abs(A[i][j] - (fp[i] - fm[i]) / (2 * h))).toBeLessThan(1e-7);
      }
      const fp = nl.f(x, [u[0] + h]),
        fm = nl.f(x, [u[0] - h]);
      for (let i = 0; i < 4; i++) expect(Math.abs(B[i][0] - (fp[i] - fm[i]) / (2 * h))).toBeLessThan(1e-7);
    }
  });
  it('cartpole: the nonlinear step agrees with the linear model near upright', () => {
    const p = getPlant('cartpole');
    const x = [0.01, 0, 0.002, 0];
    const lin = plantStep(p, x, [0.1], 'linear');
    const non = plantStep(p, x, [0.1], 'nonlinear');
    for (let i = 0; i < 4; i++) expect(Math.abs(lin[i] - non[i])).toBeLessThan(1e-6);
  });
  it('RK4 is fourth order: halving h cuts the error 16×', () => {
    const f = (x: ArrayLike<number>) => Float64Array.of(-2 * x[0]);
    const err = (h: number) => {
      let x: Float64Array = Float64Array.of(1);
      for (let t = 0; t < Math.round(1 / h); t++) x = rk4Step(f, x, [], h);
      return Math.abs(x[0] - Math.exp(-2));
    };
    const ratio = err(0.1) / err(0.05);
    expect(ratio).toBeGreaterThan(14);
    expect(ratio).toBeLessThan(18);
  });
});

describe('plant files', () => {
  const good = {
    format: 'ultro-plant/1',
    name: 'servo',
    time: 'continuous',
    dt: 0.1,
    A: [
      [0, 1],
      [0, -2],
    ],
    B: [[0], [3]],
    xMin: [-1, null],
    xMax: [1, null],
    uMin: [-2],
    uMax: [2],
    Q: [1, 0.1],
    R: [[0.5]],
  };
  it('loads a continuous model, discretises it, and maps null to ±∞', () => {
    const p = plantFromJson(good, 'servo.json');
    expect(p.nx).toBe(2);
    expect(p.A[0][0]).toBe(1);
    expect(p.A[1][1]).toBeCloseTo(Math.exp(-0.2), 14);
    expect(p.xBounds.max[1]).toBe(Infinity);
    expect(p.Q).toEqual([
      [1, 0],
      [0, 0.1],
    ]);
  });
  it('takes the operating domain of unbounded states from domainMin/domainMax (null: the state bound), and round-trips it', () => {
    const p = plantFromJson({ ...good, domainMin: [null, -3], domainMax: [0.5, 3] }, 'servo.json');
    expect(p.domain).toEqual({ min: [-1, -3], max: [0.5, 3] });
    expect(plantFromJson(JSON.parse(JSON.stringify(plantToJson(p))), 'x.json').domain).toEqual(p.domain);
    expect(plantFromJson(good, 'servo.json').domain).toBeUndefined();
  });
  it('round-trips a registry plant through the discrete file format', () => {
    const p = getPlant('dc-motor');
    const back = plantFromJson(JSON.parse(JSON.stringify(plantToJson(p))), 'x.json');
    expect(back.A).toEqual(p.A);
    expect(back.xBounds).toEqual(p.xBounds);
  });
  const cases: [string, (d: any) => void, RegExp][] = [
    ['non-square A', (d) => (d.A = [[0, 1]]), /B: has 2 rows, expected 1|A\[0\]: has 2 entries, expected 1/],
    ['a string in A', (d) => (d.A[1][0] = 'x'), /A\[1\]\[0\]: expected a finite number/],
    ['B with the wrong rows', (d) => (d.B = [[0]]), /B: has 1 rows, expected 2/],
    ['short xMax', (d) => (d.xMax = [1]), /xMax: has 1 entries, expected 2/],
    ['negative dt', (d) => (d.dt = -1), /dt: must be > 0/],
    ['unbounded input', (d) => (d.uMax = [null]), /uMax\[0\]: input bounds must be finite/],
    ['min above max', (d) => (d.xMin = [2, null]), /xMin\[0\]: is greater than xMax\[0\]/],
    ['indefinite R', (d) => (d.R = [[-1]]), /R: must be positive definite/],
    [
      'non-symmetric Q',
      (d) =>
        (d.Q = [
          [1, 2],
          [0, 1],
        ]),
      /Q: must be symmetric/,
    ],
    ['unknown field', (d) => (d.extra = 1), /extra|Unrecognized/i],
    ['bad time', (d) => (d.time = 'sampled'), /time: expected "continuous" or "discrete"/],
    ['domain of an unbounded state left null', (d) => ((d.domainMin = [null, null]), (d.domainMax = [null, 3])), /domainMin\[1\]: state is unbounded below: give a finite domain/],
    ['domain outside a bound', (d) => ((d.domainMin = [-2, -3]), (d.domainMax = [1, 3])), /domainMin\[0\]: is below xMin\[0\]/],
    ['domainMin without domainMax', (d) => (d.domainMin = [null, -3]), /domainMax: give domainMin and domainMax together/],
    ['empty domain', (d) => ((d.domainMin = [null, 3]), (d.domainMax = [null, 3])), /domainMin\[1\]: must be below domainMax\[1\]/],
  ];
  for (const [what, mutate, re] of cases) {
    it(`${what}: one-line error naming the field`, () => {
      const d = structuredClone(good) as any;
      mutate(d);
      let msg = '';
      try {
        plantFromJson(d, 'servo.json');
      } catch (e) {
        msg = (e as Error).message;
      }
      expect(msg).toMatch(/^servo\.json: /);
      expect(msg).toMatch(re);
      expect(msg).not.toContain('\n');
    });
  }
  it('reports a missing file and bad JSON with the path', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ultro-plant-'));
    expect(() => loadPlantFile(join(dir, 'none.json'))).toThrow(/none\.json: cannot read file \(ENOENT\)/);
    writeFileSync(join(dir, 'bad.json'), '{ "name": ');
    expect(() => loadPlantFile(join(dir, 'bad.json'))).toThrow(/bad\.json: not valid JSON/);
    writeFileSync(join(dir, 'ok.json'), JSON.stringify(good));
    expect(resolvePlant(join(dir, 'ok.json')).name).toBe('servo');
    expect(() => resolvePlant('servo')).toThrow(/neither a registry plant/);
  });
});
