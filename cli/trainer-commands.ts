/** `ultro train` and `ultro eval`. */
import type { Command } from 'commander';
import { DEFAULT_PLANT, InputError, resolvePlant } from '../sim/index.js';
import { ACTIVATIONS, METHODS, evaluatePolicy, formatMetrics, formatProgress, loadModel, modelHash, modelPlant, saveModel, trainPolicy, type Activation, type Method } from '../trainer/index.js';
import { choice, parseFloatArg, parseIntArg, parseIntListArg, parseVectorArg } from './args.js';

/** Defaults of `ultro train`, shared with `ultro demo` so the two train the same policy. */
export const TRAIN_DEFAULTS = { hidden: [16, 16], activation: 'tanh', method: 'al-lm', horizon: 20, qat: 'int8' } as const satisfies {
  hidden: readonly number[];
  activation: Activation;
  method: Method;
  horizon: number;
  qat: 'none' | 'int8' | 'int16';
};

export interface TrainCliOptions {
  plant: string;
  hidden: number[];
  act: Activation;
  method: Method;
  horizon: number;
  samples: number;
  dagger: number;
  seed: number;
  margin: number;
  maxWeightNorm?: number;
  threads: 'auto' | '1' | '2';
  domainMin?: number[];
  domainMax?: number[];
  qat: 'none' | 'int8' | 'int16';
  out: string;
}

export function registerTrainerCommands(program: Command): void {
  program
    .command('train')
    .description('Train a policy network to imitate the MPC, with actuator and one-step safety limits as constraints.')
    .option('--plant <name|file>', 'registry name or plant JSON file', DEFAULT_PLANT)
    .option('--hidden <sizes>', 'hidden layer widths', parseIntListArg('--hidden'), [...TRAIN_DEFAULTS.hidden])
    .option('--act <activation>', `hidden activation: ${ACTIVATIONS.join(', ')}`, choice('--act', ACTIVATIONS), TRAIN_DEFAULTS.activation)
    .option('--method <method>', `optimiser: ${METHODS.join(', ')}`, choice('--method', METHODS), TRAIN_DEFAULTS.method)
    .option('--horizon <N>', 'MPC (teacher) horizon', parseIntArg('--horizon'), TRAIN_DEFAULTS.horizon)
    .option('--samples <K>', 'uniform MPC-feasible samples', parseIntArg('--samples', 10), 2000)
    .option('--dagger <rounds>', 'DAgger rounds after the first fit', parseIntArg('--dagger', 0), 1)
    .option('--seed <s>', 'seed for data, initialisation and splits', parseIntArg('--seed', 0), 1)
    .option('--margin <m>', 'constraint tightening of the final polish, normalised output units', parseFloatArg('--margin', { min: 0 }), 2e-3)
    .option('--max-weight-norm <c>', 'bound every layer’s Frobenius weight norm (al-lm)', parseFloatArg('--max-weight-norm', { positive: true }))
    .option('--threads <n>', 'worker threads for the Gauss–Newton assembly: auto, 1 or 2', choice('--threads', ['auto', '1', '2'] as const), 'auto')
    .option('--domain-min <vector>', 'input domain lower corner (default: the state box)', parseVectorArg('--domain-min'))
    .option('--domain-max <vector>', 'input domain upper corner', parseVectorArg('--domain-max'))
    .option('--qat <variant>', 'quantisation-aware refit for the code generator: none, int8 or int16', choice('--qat', ['none', 'int8', 'int16'] as const), TRAIN_DEFAULTS.qat)
    .option('--out <file>', 'model file to write', 'model.json')
    .addHelpText('after', '\nExamples:\n  $ ultro train --out model.json\n  $ ultro train --plant cartpole --hidden 32,32 --method ip --out cartpole.json\n  $ ultro train --plant ./my-plant.json --samples 5000 --dagger 2')
    .action(async (opts: TrainCliOptions) => {
      const plant = resolvePlant(opts.plant);
      const domain = opts.domainMin || opts.domainMax ? { min: opts.domainMin ?? plant.xBounds.min, max: opts.domainMax ?? plant.xBounds.max } : undefined;
      if (domain && (domain.min.length !== plant.nx || domain.max.length !== plant.nx)) throw new InputError(`--domain-min/--domain-max: need ${plant.nx} entries each`);
      const t0 = performance.now();
      const out = await trainPolicy({
        plant,
        plantRef: opts.plant,
        hidden: opts.hidden,
        activation: opts.act,
        method: opts.method,
        horizon: opts.horizon,
        seed: opts.seed,
        samples: opts.samples,
        daggerRounds: opts.dagger,
        margin: opts.margin,
        maxWeightNorm: opts.maxWeightNorm,
        threads: opts.threads === 'auto' ? 'auto' : (Number(opts.threads) as 1 | 2),
        domain,
        qat: opts.qat === 'none' ? undefined : opts.qat,
        onProgress: (p) => console.log(formatProgress(p)),
        log: (m) => console.log(m),
      });
      saveModel(opts.out, out.model);
      console.log(`\n${formatMetrics(out.metrics)}`);
      console.log(`\nwrote ${opts.out} (model ${modelHash(out.model).slice(0, 16)}…) in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    });

  program
    .command('eval')
    .description('Evaluate a model file: MSE against the MPC, held-out constraint violations, closed loop against the MPC.')
    .argument('<model>', 'model.json written by ultro train')
    .option('--held-out <n>', 'held-out states', parseIntArg('--held-out', 100), 10_000)
    .option('--runs <n>', 'closed-loop runs', parseIntArg('--runs'), 50)
    .option('--steps <n>', 'steps per closed-loop run', parseIntArg('--steps'), 100)
    .option('--seed <s>', 'seed for held-out states and initial states', parseIntArg('--seed', 0), 4242)
    .addHelpText('after', '\nExample:\n  $ ultro eval model.json --runs 100')
    .action(async (file: string, opts: { heldOut: number; runs: number; steps: number; seed: number }) => {
      const model = loadModel(file);
      const plant = modelPlant(model);
      const horizon = model.mpc?.horizon ?? 20;
      const m = await evaluatePolicy(model, plant, { horizon, polytope: model.mpc?.polytope }, { heldOut: opts.heldOut, runs: opts.runs, steps: opts.steps, seed: opts.seed });
      const prov = model.provenance as { metrics?: { trainMse?: number; valMse?: number }; method?: string; plant?: string } | undefined;
      if (prov?.metrics) {
        m.trainMse = prov.metrics.trainMse ?? NaN;
        m.valMse = prov.metrics.valMse ?? NaN;
      }
      console.log(`model ${file} (${modelHash(model).slice(0, 16)}…): ${model.network.sizes.join('-')} ${model.network.activation}, plant ${prov?.plant ?? plant.name}, method ${prov?.method ?? '?'}`);
      console.log(formatMetrics(m));
    });
}
