/**
 * Trainer bench: the same network on the same data, trained by Ultro (AL-LM,
 * and IP) and by the Adam baseline (full batch and minibatch, fixed penalty),
 * each for the same wall time: AL-LM runs first, and every other method then
 * gets exactly the time AL-LM used. Reported per plant:
 *  - validation MSE of each method at equal time, and its ratio to AL-LM;
 *  - the time each needed to reach a target training MSE (from its history);
 *  - the largest held-out constraint violation (actuator, and one-step state
 *    constraints at MPC-feasible held-out states), in output-normalised units.
 * Plants: the double integrator (2-16-16-1 tanh) and the cart-pole.
 */
import { boxViolation, getPlant, plantStep } from '../sim/index.js';
import {
  Assembler,
  MLP,
  buildKernelData,
  datasetMse,
  heldOutStates,
  labelStates,
  policyFunction,
  trainAdam,
  trainAugmentedLagrangian,
  trainInteriorPoint,
  type TrainResult,
} from '../trainer/index.js';
import { table, type BenchSection, type Figure } from './harness.js';
import { benchData, benchModel } from './recipe.js';

const TARGET_MSE = 1e-4;

export async function benchTrain(): Promise<BenchSection> {
  const figures: Figure[] = [];
  const rows: (string | number)[][] = [];
  const budgetCap = Number(process.env.ULTRO_BENCH_TRAIN_SECONDS ?? 90) * 1000;
  for (const [name, hidden] of [
    ['double-integrator', [16, 16]],
    ['cartpole', [16, 16]],
  ] as const) {
    const plant = getPlant(name);
    const settings = { horizon: 20 };
    const data = await benchData(plant, settings);
    const { train, val, scaling: s } = data;
    const asModel = (theta: Float64Array) => benchModel(plant, sizes, 'tanh', theta, data);
    const sizes = [plant.nx, ...hidden, plant.nu];
    const net = { sizes, activation: 'tanh' as const };
    const kd = buildKernelData(plant, train, s, net);
    const theta0 = new MLP(net).init(1);
    const ho = heldOutStates(asModel(theta0), 10_000, 99);
    const lab = await labelStates(plant, settings, ho.X, { progress: false });

    const heldOutViolation = (theta: Float64Array) => {
      const model = asModel(theta);
      const raw = policyFunction(model, { clampOutput: false });
      const dep = policyFunction(model, { clampOutput: true });
      let act = 0,
        safe = 0;
      for (let k = 0; k < ho.X.length / plant.nx; k++) {
        const x = ho.X.subarray(k * plant.nx, (k + 1) * plant.nx);
        act = Math.max(act, boxViolation(raw(x), plant.uBounds) / Math.min(...s.outScale));
        if (lab.ok[k]) safe = Math.max(safe, boxViolation(plantStep(plant, x, dep(x)), plant.xBounds));
      }
      return { act, safe };
    };
    const run = async (label: string, fn: (asm: Assembler, budget: number | undefined) => Promise<TrainResult>, budget: number | undefined) => {
      const asm = await Assembler.create(kd, { threads: 'auto' });
      try {
        const r = await fn(asm, budget);
        const vm = datasetMse(asModel(r.theta), val);
        const hit = r.history.find((h) => h.mse <= TARGET_MSE);
        return { label, r, valMse: vm, reachMs: hit ? hit.timeMs : NaN, viol: heldOutViolation(r.theta) };
      } finally {
        await asm.close();
      }
    };
    const al = await run('al-lm', (a, b) => trainAugmentedLagrangian(a, theta0, { timeBudgetMs: b }), budgetCap);
    const T = al.r.timeMs;
    const results = [
      al,
      await run('ip', (a) => trainInteriorPoint(a, theta0, { timeBudgetMs: T }), T),
      await run('adam (full batch)', (a) => trainAdam(a, theta0, { batch: 'full', timeBudgetMs: T }), T),
      await run('adam (minibatch 64)', (a) => trainAdam(a, theta0, { batch: 64, timeBudgetMs: T, seed: 1 }), T),
    ];
    for (const r of results) {
      rows.push([name, r.label, (r.r.timeMs / 1000).toFixed(1), r.valMse, r.valMse / al.valMse, Number.isFinite(r.reachMs) ? (r.reachMs / 1000).toFixed(1) : 'never', r.viol.act, r.viol.safe]);
      figures.push({ name: `${name}: ${r.label} validation MSE / al-lm at equal time`, value: r.valMse / al.valMse, unit: '×', kind: 'ratio' });
      figures.push({ name: `${name}: ${r.label} max held-out actuator violation (normalised)`, value: r.viol.act, unit: '', kind: 'info' });
      if (r !== al) figures.push({ name: `${name}: ${r.label} time to MSE ${TARGET_MSE} / al-lm`, value: r.reachMs / al.reachMs, unit: '×', kind: 'ratio' });
    }
  }
  console.log(`\nTrainer: equal wall time per plant (al-lm's), same data and initialisation; target training MSE ${TARGET_MSE}`);
  console.log(table(['plant', 'method', 'time s', 'val MSE', 'MSE / al-lm', `time to ${TARGET_MSE} s`, 'held-out actuator viol', 'held-out state viol'], rows));
  return { section: 'train', figures };
}
