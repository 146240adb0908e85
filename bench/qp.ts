/**
 * QP bench: median solve time of the condensed MPC QPs (double integrator
 * N = 10, 20, 40; 12-state hover N = 10), cold and warm-started, each as a
 * ratio to one dense Cholesky solve of the same Hessian by ml-matrix, timed
 * interleaved in the same run.
 */
import { CholeskyDecomposition, Matrix } from 'ml-matrix';
import { LinearMPC, Rng, getPlant, simulateClosedLoop, type Plant } from '../sim/index.js';
import { compareInterleaved, median, table, type BenchSection } from './harness.js';

interface Case {
  plant: Plant;
  N: number;
}

/** States the MPC really meets: points along closed-loop runs from random feasible starts. */
function closedLoopStates(plant: Plant, mpc: LinearMPC, count: number, seed: number): number[][] {
  const rng = new Rng(seed);
  const out: number[][] = [];
  while (out.length < count) {
    const x0 = plant.xBounds.max.map((hi, i) => 0.5 * rng.uniform(plant.xBounds.min[i], hi));
    const tr = simulateClosedLoop(plant, mpc.controller(), x0, 40);
    if ((tr.info as { needsSlack: boolean }[]).some((i) => i.needsSlack)) continue;
    out.push(...tr.x.slice(0, 40));
  }
  return out.slice(0, count);
}

export async function benchQP(): Promise<BenchSection> {
  const cases: Case[] = [
    { plant: getPlant('double-integrator'), N: 10 },
    { plant: getPlant('double-integrator'), N: 20 },
    { plant: getPlant('double-integrator'), N: 40 },
    { plant: getPlant('quadrotor-hover'), N: 10 },
  ];
  const rows: (string | number)[][] = [];
  const figures: BenchSection['figures'] = [];
  for (const c of cases) {
    const mpc = new LinearMPC(c.plant, { horizon: c.N });
    const states = closedLoopStates(c.plant, mpc, 200, 17);
    // cold: each state solved from scratch
    let i = 0;
    const cold = () => {
      mpc.solve(states[i++ % states.length]);
    };
    // warm: the closed-loop controller (shifted working set from the previous step)
    let ctl = mpc.controller();
    let j = 0;
    const warm = () => {
      if (j % 40 === 0) ctl = mpc.controller();
      ctl(Float64Array.from(states[j++ % states.length]));
    };
    // baseline: one ml-matrix Cholesky factor+solve of a matrix of the QP's size
    const { n } = mpc.qpSize;
    const rng = new Rng(1);
    const M = Matrix.rand(n, n, { random: () => rng.next() });
    const H = M.mmul(M.transpose()).add(Matrix.eye(n).mul(n));
    const rhs = Matrix.columnVector(Array.from({ length: n }, () => rng.normal()));
    const baseline = () => {
      new CholeskyDecomposition(H).solve(rhs);
    };
    const rc = compareInterleaved(cold, baseline);
    const rw = compareInterleaved(warm, baseline);
    const iters = states.map((s) => mpc.solve(s).iterations);
    const label = `${c.plant.name} N=${c.N}`;
    rows.push([label, `${mpc.qpSize.n}×${mpc.qpSize.m}`, rc.ms * 1000, rw.ms * 1000, rc.baselineMs * 1000, rc.ratio, rw.ratio, median(iters)]);
    figures.push({ name: `${label}: cold solve / Cholesky solve`, value: rc.ratio, unit: '×', kind: 'ratio' });
    figures.push({ name: `${label}: warm solve / Cholesky solve`, value: rw.ratio, unit: '×', kind: 'ratio' });
    figures.push({ name: `${label}: median cold solve`, value: rc.ms * 1000, unit: 'µs', kind: 'info' });
    figures.push({ name: `${label}: median warm solve`, value: rw.ms * 1000, unit: 'µs', kind: 'info' });
  }
  console.log('\nQP: condensed MPC problems, Goldfarb–Idnani (times per solve, this machine)');
  console.log(table(['problem', 'n×m', 'cold µs', 'warm µs', 'ml-matrix chol µs', 'cold/chol', 'warm/chol', 'median iters'], rows));
  return { section: 'qp', figures };
}
