/**
 * `ultro demo`: the whole pipeline on the embedded default, no board needed.
 * train → codegen (int8 policy + on-board MPC) → build for the Uno → HIL on
 * the emulated Uno → summary and report. Re-runnable: a model trained with
 * the same settings by the same Ultro version and trainer revision is reused
 * unless --fresh.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { DEFAULT_PLANT, ULTRO_VERSION, checkOutputDir, resolvePlant, toJson, writeFileAtomic } from '../sim/index.js';
import { TRAINER_REVISION, defaultActivation, defaultHidden, formatMetrics, formatProgress, saveModel, trainPolicy, type PolicyModel } from '../trainer/index.js';
import { deployedPolicy } from '../codegen/index.js';
import { FirmwareTooLargeError, formatSize, getBoard } from '../targets/index.js';
import { buildModelFirmware, modelArtifact } from '../pipeline/index.js';
import { runCodegen } from './codegen-commands.js';
import { runHilCommand } from './hil-commands.js';
import { TRAIN_DEFAULTS } from './trainer-commands.js';
import { parseFloatArg, parseIntArg } from './args.js';

interface DemoOptions {
  plant: string;
  out: string;
  seed: number;
  steps: number;
  runs: number;
  noise: number;
  fresh?: boolean;
}

export function registerDemoCommands(program: Command): void {
  program
    .command('demo')
    .description('The whole pipeline on an emulated Arduino Uno (no board needed): train → codegen → build → HIL, network against the on-board MPC.')
    .option('--plant <name|file>', 'registry name or plant JSON file', DEFAULT_PLANT)
    .option('--out <dir>', 'output directory (model, C, firmware, report)', 'ultro-demo')
    .option('--seed <s>', 'seed for training and the HIL scenario', parseIntArg('--seed', 0), 1)
    .option('--runs <n>', 'HIL initial states', parseIntArg('--runs'), 20)
    .option('--steps <n>', 'HIL steps per initial state', parseIntArg('--steps'), 100)
    .option('--noise <std>', 'measurement noise std on every state (a real sensor; 0 for none)', parseFloatArg('--noise', { min: 0 }), 0.01)
    .option('--fresh', 'retrain even if a model trained with the same settings exists in --out')
    .addHelpText('after', '\nExamples:\n  $ npx ultro demo\n  $ npx ultro demo --plant dc-motor --out demo-motor\n  $ npx ultro demo --plant examples/two-carts.json --runs 10 --steps 200')
    .action(async (o: DemoOptions) => {
      const t0 = performance.now();
      const elapsed = () => `${((performance.now() - t0) / 1000).toFixed(0)} s`;
      const stage = (n: number, what: string) => console.log(`\n[${n}/5] ${what}  (${elapsed()})`);
      const out = resolve(o.out);
      checkOutputDir(o.out);
      const plant = resolvePlant(o.plant);
      const board = getBoard('uno');
      const modelPath = join(out, 'model.json');

      stage(
        1,
        `train a ${[plant.nx, ...defaultHidden(plant.nx, plant.nu), plant.nu].join('-')} ${defaultActivation(plant.nx)} policy for ${plant.name} with Ultro (augmented Lagrangian + Levenberg–Marquardt)`,
      );
      const key = { ultro: ULTRO_VERSION, trainer: TRAINER_REVISION, plant: o.plant.endsWith('.json') ? readFileSync(o.plant, 'utf8') : o.plant, seed: o.seed, qat: TRAIN_DEFAULTS.qat };
      const keyPath = join(out, 'model.key.json');
      const cached = !o.fresh && existsSync(modelPath) && existsSync(keyPath) && readFileSync(keyPath, 'utf8') === toJson(key);
      let trained: PolicyModel | undefined;
      if (cached) {
        console.log(`reusing ${modelPath} (same plant, seed, Ultro version and trainer revision; --fresh retrains)`);
      } else {
        const r = await trainPolicy({
          plant,
          plantRef: o.plant,
          method: TRAIN_DEFAULTS.method,
          horizon: TRAIN_DEFAULTS.horizon,
          qat: TRAIN_DEFAULTS.qat,
          deploy: deployedPolicy,
          seed: o.seed,
          threads: 'auto',
          progressBars: process.stderr.isTTY,
          onProgress: (p) => console.log(formatProgress(p)),
          log: (m) => console.log(m),
        });
        saveModel(modelPath, r.model);
        writeFileAtomic(keyPath, toJson(key));
        console.log(`\n${formatMetrics(r.metrics)}`);
        trained = r.model;
      }
      // Loaded (or taken from training) and quantised once; codegen, build and HIL share it.
      const art = trained ? { ...modelArtifact(trained), source: modelPath } : modelArtifact(modelPath);
      console.log(`model: ${modelPath} (${art.hash.slice(0, 16)}…)`);

      stage(2, 'generate fixed-point C (the policy, int8 unless it needs int16) and the on-board MPC');
      runCodegen(art, { target: 'uno', out: join(out, 'codegen'), variant: 'auto', perNeuron: 'auto', mpc: true, mpcIters: 50, mpcTol: 1e-3 });

      stage(3, 'build the firmware for the Arduino Uno (avr-gcc)');
      let firmware;
      try {
        firmware = buildModelFirmware(board, art, join(out, 'firmware'), { controllers: ['policy', 'mpc'] });
        console.log(`firmware: ${firmware.build.hex}\n  ${formatSize(board, firmware.build.size!)}; MPC horizon ${firmware.mpc?.N}`);
      } catch (e) {
        if (!(e instanceof FirmwareTooLargeError)) throw e;
        console.log(`firmware: one image does not fit (${(e as Error).message.split('\n')[0]}); the HIL stage builds one per controller`);
      }

      stage(4, `hardware-in-the-loop on an emulated ATmega328P: ${o.runs} initial states × ${o.steps} steps, sensor noise ${o.noise}`);
      await runHilCommand({
        model: art,
        target: 'uno',
        steps: o.steps,
        runs: o.runs,
        seed: o.seed,
        out: join(out, 'hil'),
        noise: o.noise > 0 ? [o.noise] : undefined,
        dynamics: 'linear',
        controllers: ['policy', 'mpc'],
        variant: art.quant.variant,
        parallel: 2,
        firmware,
      });

      stage(5, 'done');
      console.log(`model ${modelPath}\nC     ${join(out, 'codegen')}/\nhex   ${firmware?.build.hex ?? join(out, 'hil')}\nreport ${join(out, 'hil', 'report.html')}\n(${elapsed()} in all)`);
    });
}
