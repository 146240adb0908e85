/**
 * The polish's tightening must leave a problem that has a solution. On a
 * plant whose one-step state rows couple with the actuator rows (two carts),
 * some MPC labels keep a state bound only with an input at its limit: pulling
 * both rows in by the whole margin leaves no output that meets them, and the
 * augmented Lagrangian then only raised ρ against a violation of about the
 * margin while the fit got worse (issue 15: "polish rounds raise MSE 4× and
 * still leave violations"). Each row's tightening is now capped by what the
 * label allows (problem.ts, rowCaps).
 *
 * Checked independently of rowCaps' own reasoning: a QP solver (Goldfarb–
 * Idnani) decides for every sample whether some output meets its tightened
 * rows, and the trainer's polish is run on the problem to see that it
 * converges.
 */
import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { loadPlantFile, operatingDomain, solveQP } from '../../sim/index.js';
import { Assembler, MLP, boxScaling, buildKernelData, concatDatasets, mpcTrajectories, sampleFeasible, trainAugmentedLagrangian } from '../../trainer/index.js';
import type { KernelData } from '../../trainer/gn-kernel.js';
import { ROOT } from '../helpers/cli.js';

const margin = 2e-3;

/** Samples whose tightened rows (margin min(m, cap) per row, or m everywhere without caps) no output meets. */
function infeasibleSamples(kd: KernelData, capped: boolean): number {
  const { nu, conPtr, conC, conD, conCap } = kd;
  let bad = 0;
  for (let k = 0; k < kd.K; k++) {
    const rows = conPtr[k + 1] - conPtr[k];
    if (rows === 0) continue;
    const A: number[][] = [];
    const u: number[] = [];
    for (let i = conPtr[k]; i < conPtr[k + 1]; i++) {
      A.push(Array.from(conC.subarray(i * nu, (i + 1) * nu)));
      u.push(-conD[i] - (capped ? Math.min(margin, conCap![i]) : margin));
    }
    const P = Array.from({ length: nu }, (_, a) => Array.from({ length: nu }, (_, b) => (a === b ? 1 : 0)));
    const r = solveQP({ P, q: Array.from(kd.Y.subarray(k * nu, (k + 1) * nu), (v) => -v), A, l: new Array(rows).fill(-Infinity), u });
    if (r.status !== 'solved') bad++;
  }
  return bad;
}

describe('the polish tightens each row only as far as the label allows', () => {
  const plant = loadPlantFile(join(ROOT, 'examples/two-carts.json'));
  const settings = { horizon: 20 };
  const domain = operatingDomain(plant);
  const s = boxScaling(domain, plant.uBounds);
  const net = { sizes: [plant.nx, 8, plant.nu], activation: 'tanh' as const };

  it(
    'two carts: every sample keeps a feasible tightened problem, and the polish converges on it (with the whole margin it stalls at a violation of about the margin, at a higher MSE)',
    { timeout: 120_000 },
    async () => {
      // closed-loop MPC trajectories ride the state bounds: that is where the labels leave no room
      const traj = mpcTrajectories(plant, settings, { count: 20, length: 60, seed: 9, domain });
      const data = concatDatasets(await sampleFeasible(plant, settings, { count: 300, seed: 5, progress: false, domain }), traj);
      const kd = buildKernelData(plant, data, s, net, { margin });
      expect(kd.conCap).toBeDefined();
      expect(infeasibleSamples(kd, true)).toBe(0);
      // rows with room keep the whole margin: the caps bite on few rows
      const capped = Array.from(kd.conCap!).filter((c) => c < margin).length;
      expect(capped).toBeLessThan(0.05 * kd.conD.length);

      // The trainer on it: fit, train phase, tightened polish. With the caps it converges (KKT and
      // feasibility of the tightened problem); with the whole margin it cannot.
      const run = async (d: KernelData) => {
        const asm = await Assembler.create(d, { threads: 1 });
        try {
          return await trainAugmentedLagrangian(asm, new MLP(net).init(3), { polishMargin: margin, polishOuter: 8, firstInner: 150 });
        } finally {
          await asm.close();
        }
      };
      const withCaps = await run(kd);
      expect(withCaps.stopped).toBe('converged');
      expect(withCaps.history.at(-1)!.maxViol).toBeLessThanOrEqual(1e-5);
      const noCaps = await run({ ...kd, conCap: undefined });
      expect(noCaps.stopped).not.toBe('converged');
      expect(noCaps.history.at(-1)!.maxViol).toBeGreaterThan(margin / 4);
      // (measured: MSE 5.8e-3 with the caps, 9.4e-3 without)
      expect(withCaps.history.at(-1)!.mse).toBeLessThan(noCaps.history.at(-1)!.mse);
    },
  );
});
