/** `ultro train` and `ultro eval`. */
import type { Command } from 'commander';
import { DEFAULT_PLANT, InputError, LIMITS, checkOutputFile, resolvePlant } from '../sim/index.js';
import {
  ACTIVATIONS,
  ACTUATOR_BOUNDS,
  DEFAULT_MARGIN,
  DEFAULT_REFINE_ROUNDS,
  EVAL_SEED,
  METHODS,
  VARIANTS,
  evaluatePolicy,
  formatMetrics,
  formatProgress,
  loadModel,
  modelHash,
  modelPlant,
  saveModel,
  trainPolicy,
  type Activation,
  type ActuatorBounds,
  type Method,
  type VariantChoice,
} from '../trainer/index.js';
import { deployedPolicy } from '../codegen/index.js';
import { MODEL_OPTION, choice, modelFileArg, parseFloatArg, parseIntArg, parseIntListArg, parseVectorArg } from './args.js';

const fail = (m: string): never => {
  throw new InputError(m);
};

/**
 * Defaults of `ultro train`, shared with `ultro demo` so the two train the same
 * policy. Hidden widths and sample counts follow the plant's size
 * (defaultHidden, defaultSamples).
 */
export const TRAIN_DEFAULTS = { method: 'al-lm', horizon: 20, qat: 'auto' } as const satisfies {
  method: Method;
  horizon: number;
  qat: VariantChoice | 'none';
};

export interface TrainCliOptions {
  plant: string;
  hidden?: number[];
  act?: Activation;
  method: Method;
  horizon: number;
  samples?: number;
  dagger: number;
  refine: number;
  evalHeldOut: number;
  evalRuns: number;
  seed: number;
  evalSeed: number;
  margin: number;
  maxWeightNorm?: number;
  threads: 'auto' | '1' | '2';
  domainMin?: number[];
  domainMax?: number[];
  qat: VariantChoice | 'none';
  safetyFilter: boolean;
  actuatorBounds: ActuatorBounds;
  out: string;
}

export function registerTrainerCommands(program: Command): void {
  program
    .command('train')
    .description('Train a policy network to imitate the MPC, with actuator and one-step safety limits as constraints.')
    .option('--plant <name|file>', 'registry name or plant JSON file', DEFAULT_PLANT)
    .option(
      '--hidden <sizes>',
      'hidden layer widths (default: from the plant size, 16,16 up to 8 states x 4 inputs, 24,24 for 12 x 4)',
      parseIntListArg('--hidden', 1, LIMITS.maxWidth, LIMITS.maxHiddenLayers),
    )
    .option('--act <activation>', `hidden activation: ${ACTIVATIONS.join(', ')} (default: tanh up to 4 states, hardtanh above)`, choice('--act', ACTIVATIONS))
    .option('--method <method>', `optimiser: ${METHODS.join(', ')}`, choice('--method', METHODS), TRAIN_DEFAULTS.method)
    .option('--horizon <N>', 'MPC (teacher) horizon', parseIntArg('--horizon', 1, LIMITS.maxHorizon), TRAIN_DEFAULTS.horizon)
    .option('--samples <K>', 'MPC-feasible samples (default: 2000, or 2000 per state above 4 states)', parseIntArg('--samples', 10, LIMITS.maxSamples))
    .option('--dagger <rounds>', 'DAgger rounds after the first fit', parseIntArg('--dagger', 0), 1)
    .option('--refine <rounds>', 'constraint-generation rounds after DAgger', parseIntArg('--refine', 0), DEFAULT_REFINE_ROUNDS)
    .option('--eval-held-out <n>', 'held-out states of the final evaluation (as ultro eval --held-out)', parseIntArg('--eval-held-out', 100), 10_000)
    .option('--eval-runs <n>', 'closed-loop runs of the final evaluation (as ultro eval --runs)', parseIntArg('--eval-runs'), 50)
    .option('--seed <s>', 'seed for data, initialisation and splits', parseIntArg('--seed', 0), 1)
    .option('--eval-seed <s>', 'seed of the held-out states and closed-loop starts (as ultro eval --seed)', parseIntArg('--eval-seed', 0), EVAL_SEED)
    .option('--margin <m>', 'constraint tightening of the final polish, normalised output units', parseFloatArg('--margin', { min: 0 }), DEFAULT_MARGIN)
    .option('--max-weight-norm <c>', 'bound every layer’s Frobenius weight norm (al-lm)', parseFloatArg('--max-weight-norm', { positive: true }))
    .option('--threads <n>', 'worker threads for the Gauss–Newton assembly: auto, 1 or 2', choice('--threads', ['auto', '1', '2'] as const), 'auto')
    .option('--domain-min <vector>', 'input domain lower corner (default: the state box)', parseVectorArg('--domain-min'))
    .option('--domain-max <vector>', 'input domain upper corner', parseVectorArg('--domain-max'))
    .option(
      '--qat <variant>',
      'quantisation-aware refit for the code generator: none, int8, int16, or auto (int8, retrained with bounded weight norms when the network is too steep for int8, else int16)',
      choice('--qat', ['none', ...VARIANTS, 'auto'] as const),
      TRAIN_DEFAULTS.qat,
    )
    .option('--no-safety-filter', 'deploy the network without the one-step safety filter (the trainer then constrains every state bound)')
    .option(
      '--actuator-bounds <how>',
      'clamp: train the network as the clamped policy it is deployed as (the bounds hold by the clamp); constraints: keep the raw network inside them as constraints on the samples',
      choice('--actuator-bounds', ACTUATOR_BOUNDS),
      'clamp',
    )
    .option('--out <file>', 'model file to write', 'model.json')
    .addHelpText(
      'after',
      '\nExamples:\n  $ ultro train --out model.json\n  $ ultro train --plant cartpole --hidden 32,32 --method ip --out cartpole.json\n  $ ultro train --plant ./my-plant.json --samples 5000 --dagger 2',
    )
    .action(async (opts: TrainCliOptions) => {
      checkOutputFile(opts.out); // before minutes of training, not after
      const plant = resolvePlant(opts.plant);
      const base = plant.domain ?? plant.xBounds;
      const domain = opts.domainMin || opts.domainMax ? { min: opts.domainMin ?? base.min, max: opts.domainMax ?? base.max } : undefined;
      if (domain && (domain.min.length !== plant.nx || domain.max.length !== plant.nx)) throw new InputError(`--domain-min/--domain-max: need ${plant.nx} entries each`);
      if (domain) domain.min.forEach((lo, i) => !(lo < domain.max[i]) && fail(`--domain-min/--domain-max: entry ${i} (${plant.stateNames[i]}): min ${lo} is not below max ${domain.max[i]}`));
      const t0 = performance.now();
      const out = await trainPolicy({
        plant,
        plantRef: opts.plant,
        hidden: opts.hidden,
        activation: opts.act,
        method: opts.method,
        horizon: opts.horizon,
        seed: opts.seed,
        evalSeed: opts.evalSeed,
        samples: opts.samples,
        daggerRounds: opts.dagger,
        refineRounds: opts.refine,
        evalHeldOut: opts.evalHeldOut,
        evalRuns: opts.evalRuns,
        margin: opts.margin,
        maxWeightNorm: opts.maxWeightNorm,
        threads: opts.threads === 'auto' ? 'auto' : (Number(opts.threads) as 1 | 2),
        domain,
        safetyFilter: opts.safetyFilter,
        actuatorBounds: opts.actuatorBounds,
        qat: opts.qat === 'none' ? undefined : opts.qat,
        deploy: opts.qat === 'none' ? undefined : deployedPolicy,
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
    .argument('[model]', 'the model file (old form of --model)')
    .option(MODEL_OPTION.flags, MODEL_OPTION.help)
    .option('--held-out <n>', 'held-out states', parseIntArg('--held-out', 100), 10_000)
    .option('--runs <n>', 'closed-loop runs', parseIntArg('--runs'), 50)
    .option('--steps <n>', 'steps per closed-loop run', parseIntArg('--steps'), 100)
    .option('--seed <s>', 'seed for held-out states and initial states (ultro train uses the same default)', parseIntArg('--seed', 0), EVAL_SEED)
    .addHelpText('after', '\nExample:\n  $ ultro eval --model model.json --runs 100')
    .action(async (positional: string | undefined, opts: { model?: string; heldOut: number; runs: number; steps: number; seed: number }) => {
      const file = modelFileArg(positional, opts.model);
      const model = loadModel(file);
      const plant = modelPlant(model);
      const horizon = model.mpc?.horizon ?? 20;
      const m = await evaluatePolicy(model, plant, { horizon, polytope: model.mpc?.polytope }, { heldOut: opts.heldOut, runs: opts.runs, steps: opts.steps, seed: opts.seed });
      const prov = model.provenance as { metrics?: { trainMse?: number; valMse?: number; valMseDeployed?: number }; method?: string; plant?: string } | undefined;
      if (prov?.metrics) {
        m.trainMse = prov.metrics.trainMse ?? NaN;
        m.valMse = prov.metrics.valMse ?? NaN;
        m.valMseDeployed = prov.metrics.valMseDeployed ?? NaN;
      }
      console.log(`model ${file} (${modelHash(model).slice(0, 16)}…): ${model.network.sizes.join('-')} ${model.network.activation}, plant ${prov?.plant ?? plant.name}, method ${prov?.method ?? '?'}`);
      console.log(formatMetrics(m));
    });
}
