/** `ultro hil`: hardware-in-the-loop, the network against the on-board MPC. */
import { availableParallelism } from 'node:os';
import { Option, type Command } from 'commander';
import { DYNAMICS, InputError, LIMITS, checkOutputDir, type Dynamics } from '../sim/index.js';
import type { VariantChoice } from '../trainer/index.js';
import { formatSummary } from '../firmware-host/index.js';
import { boardNames } from '../targets/index.js';
import { modelArtifact, runSession, type ModelArtifact, type ModelFirmware, type SessionResult } from '../pipeline/index.js';
import { MODEL_OPTION, VARIANT_OPTION, choice, controllersArg, parseIntArg, parseVectorArg, vectorOfLength } from './args.js';

export interface HilCliOptions {
  /** A model file (the CLI), or the artifact `ultro demo` built once. */
  model: string | ModelArtifact;
  target: string;
  port?: string;
  emulate?: boolean;
  steps: number;
  runs: number;
  out: string;
  seed: number;
  noise?: number[];
  disturbance?: number[];
  dynamics: Dynamics;
  /** Old name of --dynamics (hidden alias for one release). */
  plantModel?: Dynamics;
  controllers: ('policy' | 'mpc')[];
  mpcHorizon?: number;
  mpcIters?: number;
  variant: VariantChoice;
  parallel: number;
  progress?: boolean;
  /** Firmware built already (ultro demo). */
  firmware?: ModelFirmware;
}

/** Run a HIL session from CLI-style options (also used by `ultro demo`). */
export async function runHilCommand(o: HilCliOptions, log: (s: string) => void = console.log): Promise<SessionResult> {
  if (o.port !== undefined && o.emulate) throw new InputError('--port and --emulate: give one, not both');
  checkOutputDir(o.out);
  if (o.port !== undefined && !o.port.trim()) throw new InputError('--port: empty path');
  const art = modelArtifact(o.firmware?.artifact ?? o.model, { variant: o.variant });
  const { plant } = art;
  const dynamics = o.plantModel ?? o.dynamics;
  if (dynamics === 'nonlinear' && !plant.nonlinear) throw new InputError(`--dynamics nonlinear: plant ${plant.name} has no nonlinear model`);
  const r = await runSession({
    model: art,
    target: o.target,
    port: o.port,
    out: o.out,
    steps: o.steps,
    runs: o.runs,
    seed: o.seed,
    controllers: o.controllers,
    dynamics,
    noiseStd: vectorOfLength('--noise', o.noise, plant.nx),
    disturbanceStd: vectorOfLength('--disturbance', o.disturbance, plant.nx),
    mpcHorizon: o.mpcHorizon,
    mpcIters: o.mpcIters,
    variant: o.variant,
    // more boards than runs would idle
    parallel: Math.min(o.parallel, o.runs),
    progress: o.progress,
    firmware: o.firmware,
    log,
  });
  log('');
  log(formatSummary(r.summary));
  log('');
  log(`report: ${r.report.html}`);
  log(`        ${r.report.json}`);
  return r;
}

export function registerHilCommands(program: Command): void {
  program
    .command('hil')
    .description(
      'Hardware-in-the-loop: the host simulates the plant, the board (emulated Uno by default, or a flashed board on --port) computes the control; network against on-board MPC, with a report.',
    )
    .requiredOption(MODEL_OPTION.flags, MODEL_OPTION.help)
    .option('--target <board>', `board: ${boardNames().join(', ')}`, choice('--target', boardNames()), 'uno')
    .option('--port <path>', 'serial port of a board flashed with `ultro build` + `ultro flash` (default: emulate the Uno)')
    .option('--emulate', 'run the firmware on an emulated ATmega328P (the default when no --port is given)')
    .option('--steps <n>', 'steps per initial state', parseIntArg('--steps'), 100)
    .option('--runs <n>', 'initial states (drawn from the MPC-feasible region)', parseIntArg('--runs'), 20)
    .option('--seed <s>', 'seed for initial states, noise and disturbances', parseIntArg('--seed', 0), 1)
    .option('--noise <std>', 'measurement noise std: one value, or one per state "0.01,0.02"', parseVectorArg('--noise', { min: 0 }))
    .option('--disturbance <std>', 'process disturbance std added to the state each step (one, or one per state)', parseVectorArg('--disturbance', { min: 0 }))
    .option('--dynamics <d>', 'simulate the plant with its linear or nonlinear dynamics (plants with a nonlinear model)', choice('--dynamics', DYNAMICS), 'linear')
    .addOption(new Option('--plant-model <d>', 'old name of --dynamics').hideHelp().argParser(choice('--plant-model', DYNAMICS)))
    .option('--controllers <list>', 'on-board controllers: policy, mpc or policy,mpc', controllersArg, ['policy', 'mpc'])
    .option('--mpc-horizon <N>', 'on-board MPC horizon (default: the teacher’s, shortened to fit 1 KB of workspace)', parseIntArg('--mpc-horizon', 1, LIMITS.maxHorizon))
    .option('--mpc-iters <k>', 'on-board ADMM iteration cap', parseIntArg('--mpc-iters', 1, LIMITS.maxMpcIterations), 50)
    .option(VARIANT_OPTION.flags, VARIANT_OPTION.help, VARIANT_OPTION.parse, 'auto')
    .option(
      '--parallel <n>',
      `emulated boards to spread the runs over, each on its own thread (at most the runs and the ${availableParallelism()} cores)`,
      parseIntArg('--parallel', 1, availableParallelism()),
      Math.min(2, availableParallelism()),
    )
    .option('--out <dir>', 'report directory (report.json, report.html, firmware)', 'hil-report')
    .addHelpText(
      'after',
      '\nExamples:\n  $ ultro hil --model model.json --target uno --steps 100 --runs 20 --out report/\n  $ ultro hil --model model.json --noise 0.01 --disturbance 0.005 --out report-noisy/\n  $ ultro hil --model model.json --port /dev/ttyACM0 --steps 200   # a flashed Uno',
    )
    .action(async (o: HilCliOptions) => {
      await runHilCommand(o);
    });
}
