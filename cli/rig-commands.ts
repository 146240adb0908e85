/** `ultro rig`: run a policy on the host against a StandardFirmata rig, through johnny-five. */
import type { Command } from 'commander';
import { InputError, checkOutputFile, toJson, writeFileAtomic } from '../sim/index.js';
import { loadModel, modelPlant } from '../trainer/index.js';
import { Rig, loadRigConfig } from '../firmware-host/index.js';
import { MODEL_OPTION, parseIntArg } from './args.js';

export function registerRigCommands(program: Command): void {
  program
    .command('rig')
    .description('Bench rig with StandardFirmata (no custom firmware): read the sensors, run the policy on the host, write the actuators, through johnny-five.')
    .requiredOption(MODEL_OPTION.flags, MODEL_OPTION.help)
    .requiredOption('--config <file>', 'rig file (ultro-rig/1): sensor and actuator pins and scaling, see docs/flash-a-board.md')
    .option('--port <path>', 'serial port of the board running StandardFirmata (57600 baud)')
    .option('--steps <n>', 'samples to run (at the rig file’s sample time, default the plant’s dt)', parseIntArg('--steps'), 100)
    .option('--log <file>', 'write every sample (raw readings, state, control, pin values) as JSON')
    .addHelpText('after', '\nExample:\n  $ ultro rig --model model.json --config examples/rig-double-integrator.json --port /dev/ttyACM0 --steps 300 --log rig-log.json')
    .action(async (o: { model: string; config: string; port?: string; steps: number; log?: string }) => {
      if (o.log) checkOutputFile(o.log, '--log');
      const model = loadModel(o.model);
      const config = loadRigConfig(o.config, modelPlant(model));
      if (!o.port) throw new InputError('rig: give --port, the serial port of a board running StandardFirmata (e.g. /dev/ttyACM0)');
      const rig = await Rig.connect(model, config, { port: o.port });
      let stop = false;
      const onSigint = () => (stop = true);
      process.once('SIGINT', onSigint);
      console.log(
        `rig: ${o.port}, ${config.sensors.length} sensors, ${config.actuators.length} actuators, ${config.policy ?? 'integer'} policy every ${rig.sampleTime * 1000} ms (Ctrl-C stops and writes the safe inputs)`,
      );
      const log: unknown[] = [];
      try {
        for (let k = 0; k < o.steps && !stop; k++) {
          const [s] = await rig.run(1);
          log.push(s);
          if (k % 10 === 0) console.log(`  ${k}: x = [${s.x.map((v) => v.toFixed(3)).join(', ')}]  u = [${s.u.map((v) => v.toFixed(3)).join(', ')}]  pins ${s.out.join(', ')}`);
        }
      } finally {
        process.off('SIGINT', onSigint);
        await rig.close();
      }
      if (o.log) writeFileAtomic(o.log, toJson({ model: o.model, config: o.config, sampleTime: rig.sampleTime, samples: log }));
      console.log(`rig: ${log.length} samples${o.log ? `, log in ${o.log}` : ''}`);
      process.exit(0); // johnny-five keeps timers alive
    });
}
