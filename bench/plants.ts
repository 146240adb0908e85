/**
 * Real plants, end to end with the defaults of `ultro train`: the unstable
 * aircraft (4 states, two unbounded, ±25° surfaces) and the 12-state
 * quadrotor, each through train → eval → codegen → build → HIL on the
 * emulated Uno. Prints, per plant: the whole `ultro train` wall time (info:
 * absolute minutes on this machine), validation MSE, held-out violations,
 * closed-loop cost against the MPC, the fixed-point error of the width codegen
 * picks (as a share of the actuator range), what fits on the Uno, and the HIL
 * rows.
 *
 * The aircraft's first network is too steep for int8 (about 12 % of the range),
 * so `--qat auto` trains it again with bounded weight norms to deploy int8
 * (trainer/int8-bound.ts); a second aircraft row with `--qat int16` keeps the
 * unbounded network in int16, for the trade.
 *
 * ULTRO_BENCH_PLANTS=aircraft-pitch runs one plant (about 3 minutes here;
 * `plant:int16` gives --qat int16, `plant:8` --max-weight-norm 8); all three
 * rows take about 20 minutes (the quadrotor's training is most of it).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getPlant } from '../sim/index.js';
import { formatProgress, trainPolicy } from '../trainer/index.js';
import { deployedPolicy } from '../codegen/index.js';
import { rowOf } from '../firmware-host/index.js';
import { FirmwareTooLargeError, getBoard } from '../targets/index.js';
import { buildModelFirmware, modelArtifact, runSession, type ModelArtifact, type ModelFirmware } from '../pipeline/index.js';
import { fmt, table, type BenchSection, type Figure } from './harness.js';

/** Plant names, each optionally with `:int16` (--qat int16) or `:c` (a bound c on every layer's Frobenius weight norm). */
const PLANTS = (process.env.ULTRO_BENCH_PLANTS ?? 'aircraft-pitch,aircraft-pitch:int16,quadrotor-hover').split(',').map((entry) => {
  const [plantName, opt] = entry.split(':');
  const maxWeightNorm = opt && opt !== 'int16' ? Number(opt) : undefined;
  if (maxWeightNorm !== undefined && !(maxWeightNorm > 0)) throw new Error(`ULTRO_BENCH_PLANTS: "${entry}": after the colon comes int16 or a weight-norm bound > 0, got "${opt}"`);
  const flags = opt === 'int16' ? '--qat int16' : maxWeightNorm ? `--max-weight-norm ${maxWeightNorm}` : '';
  return { entry, plantName, qat: opt === 'int16' ? ('int16' as const) : ('auto' as const), maxWeightNorm, flags };
});

/** Firmware for the Uno: policy and MPC in one image, else each alone, else the policy alone (said why). */
function firmwareFor(art: ModelArtifact, dir: string): { images: ModelFirmware[]; note: string } {
  const board = getBoard('uno');
  const build = (controllers: ('policy' | 'mpc')[], sub: string) => buildModelFirmware(board, art, join(dir, sub), { controllers });
  try {
    return { images: [build(['policy', 'mpc'], 'both')], note: 'policy + MPC in one image' };
  } catch (e) {
    if (!(e instanceof FirmwareTooLargeError)) throw e;
    const policy = build(['policy'], 'policy');
    try {
      return { images: [policy, build(['mpc'], 'mpc')], note: 'policy and MPC in separate images (together they do not fit)' };
    } catch (e2) {
      if (!(e2 instanceof FirmwareTooLargeError)) throw e2;
      return { images: [policy], note: `policy alone: the on-board MPC does not fit (${(e2 as Error).message.split('\n')[0]})` };
    }
  }
}

export async function benchPlants(): Promise<BenchSection> {
  const figures: Figure[] = [];
  const rows: (string | number)[][] = [];
  const details: unknown[] = [];
  const out = mkdtempSync(join(tmpdir(), 'ultro-bench-plants-'));
  try {
    for (const { entry, plantName, qat, maxWeightNorm, flags } of PLANTS) {
      const name = flags ? `${plantName} ${flags}` : plantName;
      const plant = getPlant(plantName);
      console.log(`\nplants: ${name} (${plant.nx} states, ${plant.nu} inputs): ultro train with its defaults${flags ? ` and ${flags}` : ''}`);
      const t0 = performance.now();
      const r = await trainPolicy({
        plant,
        plantRef: plantName,
        method: 'al-lm',
        maxWeightNorm,
        horizon: 20,
        seed: 1,
        qat,
        deploy: deployedPolicy,
        onProgress: (p) => console.log(formatProgress(p)),
        log: (m) => console.log(m),
      });
      const minutes = (performance.now() - t0) / 60_000;
      const m = r.metrics;
      const art = modelArtifact(r.model);
      const chosen = art.deployed;
      const dir = join(out, entry.replace(':', '-'));
      const fw = firmwareFor(art, dir);
      console.log(`plants: ${name}: firmware: ${fw.note}`);
      const hil = await runSession({
        model: art,
        target: 'uno',
        out: join(dir, 'hil'),
        steps: 100,
        runs: 6,
        seed: 1,
        controllers: fw.images.flatMap((f) => f.controllers),
        firmware: fw.images.length === 1 ? fw.images[0] : undefined,
        progress: false,
        log: (s) => console.log(s),
      });
      const net = rowOf(hil.summary.controllers, 'board', 'policy');
      const mpc = rowOf(hil.summary.controllers, 'board', 'mpc');
      const violations = m.heldOut.actuator.count + m.heldOut.safety.count;
      const bound = r.int8Bound;
      rows.push([
        bound ? `${name} (${bound.kept ? `retrained for int8, norms ≤ ${bound.bound}` : `int8 retrain at norms ≤ ${bound.bound} not kept`})` : name,
        `${minutes.toFixed(1)} min`,
        m.valMse,
        m.valMseDeployed,
        `${violations} (${m.heldOut.actuator.count} act, ${m.heldOut.safety.count} state)`,
        m.closedLoop.costRatio,
        `${chosen.q.variant} ${(100 * chosen.verdict.worst).toFixed(2)} %`,
        fw.note,
        net ? `net ${fmt(net.costRatio, 4)}${mpc ? `, MPC ${fmt(mpc.costRatio, 4)}${mpc.flags.length ? ` ⚠ ${mpc.flags.join('; ')}` : ''}` : ''}` : '–',
      ]);
      figures.push(
        { name: `${name}: ultro train wall time (defaults, 2 threads)`, value: minutes, unit: 'min', kind: 'info' },
        { name: `${name}: validation MSE (normalised)`, value: m.valMse, unit: '', kind: 'count' },
        { name: `${name}: validation MSE as deployed (clamp${m.safetyFilter ? ', safety filter' : ''})`, value: m.valMseDeployed, unit: '', kind: 'count' },
        { name: `${name}: closed-loop state violations (50 × 100 steps)`, value: m.closedLoop.network.stateViolations, unit: `network; MPC ${m.closedLoop.mpc.stateViolations}`, kind: 'count' },
        { name: `${name}: held-out violations (actuator + one-step state)`, value: violations, unit: `of ${m.heldOut.states}`, kind: 'count' },
        { name: `${name}: closed-loop cost / MPC (50 runs)`, value: m.closedLoop.costRatio, unit: '×', kind: 'ratio' },
        { name: `${name}: ${chosen.q.variant} fixed-point RMS error / actuator range`, value: chosen.verdict.worst, unit: '', kind: 'ratio' },
      );
      if (net?.latency) figures.push({ name: `${name}: network on the Uno, median`, value: net.latency.cycles.median, unit: 'cycles', kind: 'cycles' });
      details.push({ name, phases: r.phases, metrics: m, qat: r.qat, int8Bound: r.int8Bound, variant: chosen.q.variant, why: chosen.why, firmware: fw.note, hil: hil.summary });
    }
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
  console.log(
    '\n' + table(['plant', 'ultro train', 'val MSE', 'val MSE deployed', 'held-out violations', 'closed-loop cost / MPC', 'fixed-point RMS error / range', 'on the Uno', 'HIL cost / host MPC'], rows),
  );
  return { section: 'plants', figures, details };
}
