/** `ultro build` and `ultro flash`. */
import type { Command } from 'commander';
import { InputError, LIMITS, checkOutputDir } from '../sim/index.js';
import type { VariantChoice } from '../trainer/index.js';
import { boardNames, flashFirmware, formatSize, getBoard } from '../targets/index.js';
import { buildModelFirmware } from '../pipeline/index.js';
import { MODEL_OPTION, VARIANT_OPTION, choice, controllersArg, parseFloatArg, parseIntArg } from './args.js';

export function registerBuildCommands(program: Command): void {
  program
    .command('build')
    .description('Build the firmware (policy and/or on-board MPC, wire protocol, main loop) for a board, with a size report.')
    .requiredOption(MODEL_OPTION.flags, MODEL_OPTION.help)
    .option('--target <board>', `board: ${boardNames().join(', ')}`, choice('--target', boardNames()), 'uno')
    .option('--out <dir>', 'build directory', 'build')
    .option('--controllers <list>', 'policy, mpc or policy,mpc', controllersArg, ['policy', 'mpc'])
    .option(VARIANT_OPTION.flags, VARIANT_OPTION.help, VARIANT_OPTION.parse, 'auto')
    .option('--mpc-horizon <N>', 'on-board MPC horizon (default: the teacher’s, shortened to fit 1 KB of workspace)', parseIntArg('--mpc-horizon', 1, LIMITS.maxHorizon))
    .option('--mpc-iters <k>', 'ADMM iteration cap', parseIntArg('--mpc-iters', 1, LIMITS.maxMpcIterations), 50)
    .option('--mpc-tol <t>', 'ADMM tolerance', parseFloatArg('--mpc-tol', { positive: true }), 1e-3)
    .addHelpText(
      'after',
      '\nExamples:\n  $ ultro build --model model.json --target uno --out build/\n  $ ultro build --model model.json --target esp32 --out build-esp32/   # writes a PlatformIO project',
    )
    .action((o: { model: string; target: string; out: string; controllers: ('policy' | 'mpc')[]; variant: VariantChoice; mpcHorizon?: number; mpcIters: number; mpcTol: number }) => {
      checkOutputDir(o.out);
      const board = getBoard(o.target);
      const fw = buildModelFirmware(board, o.model, o.out, { controllers: o.controllers, variant: o.variant, mpcHorizon: o.mpcHorizon, mpcIters: o.mpcIters, mpcTol: o.mpcTol });
      const b = fw.build;
      console.log(`firmware for ${board.description}`);
      console.log(
        `  policy: ${fw.quant.variant}\n  controllers: ${fw.controllers.join(' + ')}${fw.mpc ? ` (MPC horizon ${fw.mpc.N}, ≤ ${fw.mpc.maxIter} iterations)` : ''}; model ${fw.quant.modelHash.slice(0, 12)}…`,
      );
      if (b.size) console.log(`  ${formatSize(board, b.size)} (limits: flash ${board.flashBytes} B, RAM ${board.ramBytes} B with ${board.ramReserveBytes} B kept for stack and buffers)`);
      if (b.elf) console.log(`  elf: ${b.elf}`);
      if (b.hex) console.log(`  hex: ${b.hex}`);
      if (b.platformio) console.log(`  PlatformIO project: ${b.platformio}\n  Arduino sketch: ${b.sketch}`);
      if (b.note) console.log(`  ${b.note}`);
    });

  program
    .command('flash')
    .description('Flash a built firmware to a board on a serial port (avrdude for the Uno, esptool for the ESP32).')
    .option('--target <board>', `board: ${boardNames().join(', ')}`, choice('--target', boardNames()), 'uno')
    .requiredOption('--port <path>', 'serial port of the board, e.g. /dev/ttyACM0')
    .option('--image <file>', 'firmware image (default: build/firmware.hex, or the ESP32 PlatformIO build)', 'build/firmware.hex')
    .addHelpText('after', '\nExample:\n  $ ultro flash --target uno --port /dev/ttyACM0 --image build/firmware.hex')
    .action((o: { target: string; port: string; image: string }) => {
      if (!o.port.trim()) throw new InputError('--port: empty path');
      console.log(flashFirmware(getBoard(o.target), o.port, o.image));
    });
}
