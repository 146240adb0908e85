/**
 * Ultro against PyTorch, side by side: the same dataset (exported to a JSON
 * file), the same architecture and initial weights, one thread each, equal
 * CPU seconds, validation MSE scored the same way (normalised outputs).
 *
 * The problem is `ultro train`'s default form (bench/recipe.ts defaultForm):
 * the network trained as the clamped policy, a saturated label met by any
 * output between its bound and SAT_REACH (gn-kernel.ts), the state bounds one
 * input moves kept by the safety filter and the rest as AL constraints.
 * PyTorch minimises the same objective without the constraints (its loss is
 * the same band residual), and both are scored on the clamped output.
 *
 * Ultro runs al-lm with no DAgger, no refinement and no refit and sets the
 * budget: its own CPU time. PyTorch then
 * gets that many CPU seconds per method (bench/torch_train.py): Adam full
 * batch and minibatch 64, each the best of lr ∈ {3e-3, 1e-2, 3e-2} with cosine
 * decay, and L-BFGS (strong Wolfe). Two PyTorch runs go at a time, one per
 * core, each with one thread, so CPU time stays comparable.
 *
 * Installs nothing: without `python3 -c 'import torch'` (Debian:
 * apt-get install python3-torch) the section is skipped with that message.
 * A last row runs al-lm's unconstrained LM fit on (to a stall, at most 6× the
 * budget or 5 minutes): how far this network gets on these samples given
 * time. Its training MSE, against the validation MSE a 10× lead over PyTorch
 * would need, tells whether that lead is within the network's reach on this
 * data at all.
 *
 * ULTRO_BENCH_TORCH_PLANTS=double-integrator,… picks plants; the 12-state
 * quadrotor is included (hard tanh, its default activation).
 * ULTRO_BENCH_TORCH_SAMPLES=n draws n feasible states instead of 2,000 (the
 * small plants' validation MSE is limited by how far 2,000 generalise, not by
 * the optimiser: see the train-MSE column).
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Heartbeat, packageRoot, resolvePlant } from '../sim/index.js';
import {
  Assembler,
  MLP,
  SAT_REACH,
  SAT_TOL,
  buildKernelData,
  datasetMse,
  datasetSize,
  defaultActivation,
  heldOutChecks,
  heldOutLabels,
  trainAugmentedLagrangian,
  type Dataset,
} from '../trainer/index.js';
import { fmt, table, type BenchSection, type Figure } from './harness.js';
import { benchData, benchModel, defaultForm } from './recipe.js';

const PLANTS = (process.env.ULTRO_BENCH_TORCH_PLANTS ?? 'double-integrator,examples/two-carts.json,cartpole,quadrotor-hover').split(',');
const LRS = [3e-3, 1e-2, 3e-2];
const SAMPLES = Number(process.env.ULTRO_BENCH_TORCH_SAMPLES ?? 2000);
if (!Number.isInteger(SAMPLES) || SAMPLES < 100) throw new Error(`ULTRO_BENCH_TORCH_SAMPLES must be an integer ≥ 100, got "${process.env.ULTRO_BENCH_TORCH_SAMPLES}"`);

/** A python3 that has torch, or null. */
function torchPython(): string | null {
  for (const py of ['python3', '/usr/bin/python3']) if (spawnSync(py, ['-c', 'import torch'], { encoding: 'utf8' }).status === 0) return py;
  return null;
}

function runPy(py: string, args: string[]): Promise<{ method: string; lr: number; valMse: number; trainMse: number; cpuSeconds: number; steps: number; torch: string }> {
  return new Promise((resolve, reject) => {
    const p = spawn(py, [join(packageRoot(), 'bench/torch_train.py'), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '',
      err = '';
    p.stdout.on('data', (b) => (out += b));
    p.stderr.on('data', (b) => (err += b));
    p.on('close', (code) => (code === 0 ? resolve(JSON.parse(out.trim().split('\n').pop()!)) : reject(new Error(`torch_train.py ${args.slice(1).join(' ')}: exit ${code}\n${err}`))));
  });
}

/** Longest the LM fit is run on: this many times al-lm's budget but at most LONG_MAX_S seconds, or LONG_STEPS LM steps. */
const LONG_CPU = 6;
const LONG_MAX_S = 300;
const LONG_STEPS = 4000;

/**
 * The unconstrained LM fit run on from where al-lm's fit stopped (on al-lm's
 * assembler), until a step gains less than 1e-6 of the objective, its step
 * budget or LONG_CPU × the budget (at most LONG_MAX_S): how far the network
 * gets on these samples with no time limit that matters. Its training MSE
 * estimates from above the least training MSE the network can reach here,
 * and that least value, in expectation, from below the best it does on
 * states it was not fitted to (the expected minimum of a sample mean is at
 * most the minimum of its expectation). A validation MSE below it is out of
 * reach unless some other start finds a much better minimum.
 */
async function longFit(name: string, asm: Assembler, theta: Float64Array, budget: number, hb: Heartbeat): Promise<{ theta: Float64Array; cpu: number; steps: number; stopped: string }> {
  const cpu0 = process.cpuUsage();
  let out: Float64Array | null = null;
  const capS = Math.min(LONG_MAX_S, LONG_CPU * budget);
  // only the fit (no outer iterations, no polish); one thread, so wall time bounds CPU time
  const r = await trainAugmentedLagrangian(asm, theta, {
    firstInner: LONG_STEPS,
    maxOuter: 0,
    polishOuter: 0,
    timeBudgetMs: capS * 1000,
    onFit: (t) => (out = t),
    onStep: (st) => hb.beat(() => `torch: ${name}: LM fit run on, ${st.steps} steps, mse ${st.mse.toExponential(3)}, ${(st.elapsedMs / 1000).toFixed(0)} of at most ${capS.toFixed(0)} s`),
  });
  const c = process.cpuUsage(cpu0);
  // With nothing to constrain the fit gets twice the steps (ultro.ts: the outer iterations' share).
  const stepCap = asm.ncon === 0 ? 2 * LONG_STEPS : LONG_STEPS;
  const stopped = r.stopped === 'time' ? 'time cap' : r.steps >= stepCap ? 'step cap' : 'stalled';
  return { theta: out!, cpu: (c.user + c.system) / 1e6, steps: r.steps, stopped };
}

/** Labelled samples only, in the network's normalised units. */
function normalised(kd: ReturnType<typeof buildKernelData>): { X: number[]; Y: number[] } {
  const X: number[] = [],
    Y: number[] = [];
  for (let k = 0; k < kd.K; k++) {
    if (kd.sw[k] === 0) continue;
    for (let i = 0; i < kd.nx; i++) X.push(kd.X[k * kd.nx + i]);
    for (let j = 0; j < kd.nu; j++) Y.push(kd.Y[k * kd.nu + j]);
  }
  return { X, Y };
}

export async function benchTorch(): Promise<BenchSection> {
  const py = torchPython();
  if (!py) {
    console.log("torch: skipped: `python3 -c 'import torch'` fails here (Debian: apt-get install python3-torch); the bench installs nothing itself");
    return { section: 'torch', figures: [], details: { skipped: 'python3 cannot import torch' } };
  }
  const figures: Figure[] = [];
  const rows: (string | number)[][] = [];
  const details: unknown[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'ultro-bench-torch-'));
  try {
    // a line at least every 5 s, TTY or not
    const hb = new Heartbeat((line) => console.log(line));
    for (const ref of PLANTS) {
      const plant = resolvePlant(ref);
      const activation = defaultActivation(plant.nx);
      const sizes = [plant.nx, 16, 16, plant.nu];
      const settings = { horizon: 20 };
      const form = defaultForm(plant);
      const data = await benchData(plant, settings, form, SAMPLES);
      const { train, val, scaling: s } = data;
      const net = { sizes, activation };
      const kd = buildKernelData(plant, train, s, net, form);
      const kv = buildKernelData(plant, val, s, net, form);
      const theta0 = new MLP(net).init(1);

      // Ultro: one thread, its CPU time is the budget.
      const asm = await Assembler.create(kd, { threads: 1 });
      const cpu0 = process.cpuUsage();
      // The unconstrained fit al-lm starts from: the problem PyTorch solves (no constraints), at the CPU time it took.
      let fit: { theta: Float64Array; cpu: number } | null = null;
      const al = await trainAugmentedLagrangian(asm, theta0, {
        onFit: (theta) => {
          const c = process.cpuUsage(cpu0);
          fit = { theta, cpu: (c.user + c.system) / 1e6 };
        },
        onStep: (st) => hb.beat(() => `torch: ${plant.name}: al-lm ${st.phase} ${st.outer}, ${st.steps} LM steps, mse ${st.mse.toExponential(2)}, ${(st.elapsedMs / 1000).toFixed(0)} s`),
      });
      const cpu = process.cpuUsage(cpu0);
      const budget = (cpu.user + cpu.system) / 1e6;
      const fitted = fit as { theta: Float64Array; cpu: number } | null;
      if (!fitted) throw new Error(`torch: ${plant.name}: al-lm ran no unconstrained fit`);
      const long = await longFit(plant.name, asm, fitted.theta, budget, hb).finally(() => asm.close());
      const model = benchModel(plant, sizes, activation, al.theta, data, form);
      const alVal = datasetMse(model, val as Dataset);
      const alTrain = datasetMse(model, train as Dataset);
      const hoOpts = { count: 10_000, seed: 99, progress: false, heartbeat: hb, label: 'torch: labelling held-out states' };
      // labelled once: the LM fit's model below has the same domain, so the same held-out states
      const labels = await heldOutLabels(model, plant, settings, hoOpts);
      const ho = await heldOutChecks(model, plant, settings, { ...hoOpts, labels });
      const viol = { act: ho.actuator.count, safe: ho.safety.count, states: ho.states };
      const fitModel = benchModel(plant, sizes, activation, fitted.theta, data, form);
      const fitVal = datasetMse(fitModel, val as Dataset);
      const fitTrain = datasetMse(fitModel, train as Dataset);
      const fho = await heldOutChecks(fitModel, plant, settings, { ...hoOpts, labels });
      const fitViol = { act: fho.actuator.count, safe: fho.safety.count };
      const longModel = benchModel(plant, sizes, activation, long.theta, data, form);
      const longVal = datasetMse(longModel, val as Dataset);
      const longTrain = datasetMse(longModel, train as Dataset);
      console.log(
        `torch: ${plant.name} (${datasetSize(train)} training samples): al-lm val MSE ${alVal.toExponential(3)} in ${budget.toFixed(1)} CPU s (${al.stopped}); held-out violations ${viol.act} actuator, ${viol.safe} one-step state`,
      );

      const file = join(dir, `${plant.name}.json`);
      const t = normalised(kd),
        v = normalised(kv);
      writeFileSync(
        file,
        JSON.stringify({
          plant: plant.name,
          sizes,
          activation,
          theta0: Array.from(theta0),
          Xtrain: t.X,
          Ytrain: t.Y,
          Xval: v.X,
          Yval: v.Y,
          budgetCpuSeconds: budget,
          saturate: { tol: SAT_TOL, reach: SAT_REACH },
        }),
      );
      const jobs: string[][] = [...LRS.map((lr) => [file, 'adam-full', String(lr)]), ...LRS.map((lr) => [file, 'adam-mini', String(lr)]), [file, 'lbfgs']];
      const results: Awaited<ReturnType<typeof runPy>>[] = [];
      // two at a time: one per core, one thread each
      for (let i = 0; i < jobs.length; i += 2) {
        const batch = jobs.slice(i, i + 2);
        const t0 = performance.now();
        const tick = setInterval(
          () =>
            hb.beat(() => `torch: ${plant.name}: PyTorch ${batch.map((j) => j.slice(1).join(' ')).join(', ')} (${((performance.now() - t0) / 1000).toFixed(0)} of ~${budget.toFixed(0)} CPU s each)`),
          1000,
        );
        try {
          results.push(...(await Promise.all(batch.map((j) => runPy(py, j)))));
        } finally {
          clearInterval(tick);
        }
      }
      const best = (m: string) => results.filter((r) => r.method === m).sort((a, b) => a.valMse - b.valMse)[0];
      const byMethod = [best('adam-full'), best('adam-mini'), best('lbfgs')];
      const top = byMethod.slice().sort((a, b) => a.valMse - b.valMse)[0];
      for (const r of byMethod) rows.push([plant.name, `torch ${r.method}${r.method === 'lbfgs' ? '' : ` lr ${r.lr}`}`, r.cpuSeconds.toFixed(1), r.trainMse, r.valMse, r.valMse / alVal, '–']);
      rows.push([plant.name, 'Ultro al-lm', budget.toFixed(1), alTrain, alVal, 1, `${viol.act} / ${viol.safe}`]);
      rows.push([plant.name, 'Ultro LM fit (no constraints)', fitted.cpu.toFixed(1), fitTrain, fitVal, fitVal / alVal, `${fitViol.act} / ${fitViol.safe}`]);
      rows.push([plant.name, `Ultro LM fit run on (${long.steps} steps, ${long.stopped})`, long.cpu.toFixed(1), longTrain, longVal, longVal / alVal, '–']);
      figures.push({
        name: `${plant.name}: best PyTorch val MSE / Ultro's unconstrained LM fit val MSE (the fit had less CPU time)`,
        value: top.valMse / fitVal,
        unit: '×',
        kind: 'ratio',
        note: `fit ${fitted.cpu.toFixed(1)} of ${budget.toFixed(1)} CPU s`,
      });
      figures.push({ name: `${plant.name}: best PyTorch val MSE / al-lm val MSE at equal CPU time`, value: top.valMse / alVal, unit: '×', kind: 'ratio', note: `best: ${top.method}` });
      // What 10x would take, against what the architecture reaches on this data when the fit is run on.
      const target = top.valMse / 10;
      figures.push({
        name: `${plant.name}: best PyTorch val MSE / val MSE of the LM fit run on`,
        value: top.valMse / longVal,
        unit: '×',
        kind: 'ratio',
        note: `${long.steps} LM steps, ${long.cpu.toFixed(0)} CPU s, ${long.stopped}`,
      });
      figures.push({
        name: `${plant.name}: training MSE of the LM fit run on / the val MSE 10× needs (above 1: below what the network reaches on its own samples)`,
        value: longTrain / target,
        unit: '×',
        kind: 'ratio',
        note: `10× needs ${target.toExponential(2)}; fit run on: train ${longTrain.toExponential(2)}, val ${longVal.toExponential(2)}`,
      });
      figures.push({ name: `${plant.name}: al-lm held-out violations (actuator + one-step state)`, value: viol.act + viol.safe, unit: `of ${viol.states}`, kind: 'count' });
      details.push({
        plant: plant.name,
        activation,
        sizes,
        budgetCpuSeconds: budget,
        alLm: { valMse: alVal, trainMse: alTrain, stopped: al.stopped, violations: viol },
        lmFit: { valMse: fitVal, trainMse: fitTrain, cpuSeconds: fitted.cpu, violations: fitViol },
        longFit: { valMse: longVal, trainMse: longTrain, cpuSeconds: long.cpu, steps: long.steps, stopped: long.stopped },
        tenfoldNeeds: target,
        torch: results,
      });
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  console.log(
    "\nUltro al-lm against PyTorch at equal CPU time (one thread each, same data, architecture and initial weights); ratio = method / al-lm (above 1: al-lm better). 'LM fit' is al-lm's unconstrained warm start, the problem PyTorch solves, at the CPU time it took",
  );
  console.log(
    table(
      ['plant', 'method', 'CPU s', 'train MSE', 'val MSE', 'val MSE / al-lm', 'held-out viol (act / state)'],
      rows.map((r) => r.map((c) => (typeof c === 'number' ? fmt(c, 3) : c))),
    ),
  );
  return { section: 'torch', figures, details };
}
