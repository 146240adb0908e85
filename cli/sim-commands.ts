/** `ultro plants` and `ultro mpc`. */
import { Option, type Command } from 'commander';
import {
  DEFAULT_PLANT,
  DYNAMICS,
  InputError,
  LIMITS,
  LinearMPC,
  checkOutputFile,
  listPlants,
  plantToJson,
  resolvePlant,
  simulateClosedLoop,
  toJson,
  writeFileAtomic,
  type Dynamics,
} from '../sim/index.js';
import { choice, parseIntArg, parseVectorArg } from './args.js';

const fmtBound = (lo: number, hi: number) => `[${Number.isFinite(lo) ? lo : '-∞'}, ${Number.isFinite(hi) ? hi : '∞'}]`;

export function registerSimCommands(program: Command): void {
  program
    .command('plants')
    .description('List the plant registry (any command that takes --plant also accepts a plant JSON file).')
    .option('--export <name>', 'print one plant in the plant-file format (a starting point for your own)')
    .addHelpText('after', '\nExamples:\n  $ ultro plants\n  $ ultro plants --export dc-motor > my-motor.json')
    .action((opts: { export?: string }) => {
      if (opts.export) {
        process.stdout.write(toJson(plantToJson(resolvePlant(opts.export))));
        return;
      }
      for (const p of listPlants()) {
        console.log(`${p.name}${p.name === DEFAULT_PLANT ? ' (default)' : ''}`);
        console.log(`  ${p.description}`);
        console.log(`  nx=${p.nx} nu=${p.nu} dt=${p.dt}s${p.nonlinear ? ' nonlinear model available' : ''}`);
        console.log(`  states: ${p.stateNames.map((s, i) => `${s} ${fmtBound(p.xBounds.min[i], p.xBounds.max[i])}`).join(', ')}`);
        console.log(`  inputs: ${p.inputNames.map((s, i) => `${s} ${fmtBound(p.uBounds.min[i], p.uBounds.max[i])}`).join(', ')}`);
        console.log(`  source: ${p.source}\n`);
      }
    });

  program
    .command('mpc')
    .description('Run the host MPC in closed loop on a plant and summarise it.')
    .option('--plant <name|file>', 'registry name or plant JSON file', DEFAULT_PLANT)
    .option('--x0 <vector>', 'initial state, comma separated (default: 80% of the first state’s upper bound, or of its operating domain)', parseVectorArg('--x0'))
    .option('--steps <T>', 'closed-loop steps', parseIntArg('--steps', 1, 1_000_000), 100)
    .option('--horizon <N>', 'MPC horizon', parseIntArg('--horizon', 1, LIMITS.maxHorizon), 20)
    .option('--dynamics <d>', 'simulate the plant with its linear or nonlinear dynamics (plants with a nonlinear model)', choice('--dynamics', DYNAMICS), 'linear')
    .addOption(new Option('--nonlinear', 'old form of --dynamics nonlinear').hideHelp())
    .option('--out <file>', 'write the JSON trace here')
    .addHelpText(
      'after',
      '\nExamples:\n  $ ultro mpc --x0 4,0 --steps 80\n  $ ultro mpc --plant cartpole --x0 0,0,0.15,0 --nonlinear --out trace.json\n  $ ultro mpc --plant ./my-plant.json --steps 200',
    )
    .action((opts: { plant: string; x0?: number[]; steps: number; horizon: number; dynamics: Dynamics; nonlinear?: boolean; out?: string }) => {
      if (opts.out) checkOutputFile(opts.out);
      const plant = resolvePlant(opts.plant);
      // Default start: 80 % of the first state's upper bound (or of its operating domain when it is unbounded).
      const first = (plant.domain ?? plant.xBounds).max[0];
      if (!opts.x0 && !Number.isFinite(first))
        throw new InputError(`--x0: state ${plant.stateNames[0]} of plant ${plant.name} is unbounded and the plant declares no operating domain, so there is no default start; give --x0`);
      const x0 = opts.x0 ?? plant.xBounds.min.map((_, i) => (i === 0 ? 0.8 * first : 0));
      if (x0.length !== plant.nx) throw new InputError(`--x0: has ${x0.length} entries, plant ${plant.name} has ${plant.nx} states`);
      const dynamics: Dynamics = opts.nonlinear ? 'nonlinear' : opts.dynamics;
      if (dynamics === 'nonlinear' && !plant.nonlinear) throw new InputError(`--dynamics nonlinear: plant ${plant.name} has no nonlinear model`);
      const mpc = new LinearMPC(plant, { horizon: opts.horizon });
      const trace = simulateClosedLoop(plant, mpc.controller(), x0, opts.steps, { dynamics });
      const times = trace.computeMs.slice().sort((a, b) => a - b);
      const infos = trace.info as { status: string; iterations: number; needsSlack: boolean }[];
      const notSolved = infos.filter((i) => i.status !== 'solved').length;
      console.log(`plant ${plant.name}, horizon ${opts.horizon}, ${opts.steps} steps from x0 = [${x0.join(', ')}]`);
      console.log(`  closed-loop cost        ${trace.cost.toPrecision(6)}`);
      console.log(`  final state             [${trace.x[trace.x.length - 1].map((v) => v.toPrecision(4)).join(', ')}]`);
      console.log(`  state violations        ${trace.stateViolations.count} (max ${trace.stateViolations.max.toExponential(2)})`);
      console.log(`  input violations        ${trace.inputViolations.count} (max ${trace.inputViolations.max.toExponential(2)})`);
      console.log(`  steps needing slack     ${infos.filter((i) => i.needsSlack).length}`);
      console.log(`  QP status not solved    ${notSolved}`);
      console.log(`  solve time (ms)         median ${times[Math.floor(times.length / 2)].toFixed(3)}, max ${times[times.length - 1].toFixed(3)}`);
      if (opts.out) {
        writeFileAtomic(
          opts.out,
          toJson({ ...trace, plant: plant.name, horizon: opts.horizon, x0, info: infos.map((i) => ({ status: i.status, iterations: i.iterations, needsSlack: i.needsSlack })) }),
        );
        console.log(`  trace written to ${opts.out}`);
      }
    });
}
