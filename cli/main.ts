/** `ultro`: the command-line entry point. Each capability registers its subcommands. */
import { Command, CommanderError } from 'commander';
import { InputError } from '../sim/index.js';
import { registerSimCommands } from './sim-commands.js';
import { registerTrainerCommands } from './trainer-commands.js';
import { registerCodegenCommands } from './codegen-commands.js';
import { registerBuildCommands } from './build-commands.js';
import { registerHilCommands } from './hil-commands.js';
import { registerRigCommands } from './rig-commands.js';
import { registerDemoCommands } from './demo-commands.js';
import { VERSION } from './version.js';

const program = new Command();
program
  .name('ultro')
  .description('Train small policy networks to imitate MPC under constraints, emit fixed-point C, and run them hardware-in-the-loop.')
  .version(VERSION)
  .showHelpAfterError('(ultro <command> --help shows the options and examples)')
  .exitOverride();

registerSimCommands(program);
registerTrainerCommands(program);
registerCodegenCommands(program);
registerBuildCommands(program);
registerHilCommands(program);
registerRigCommands(program);
registerDemoCommands(program);

// Exit codes: 0 done, 2 a user error (an option, a file, a frame, a limit: one line naming it), 1 anything else.
try {
  await program.parseAsync(process.argv);
} catch (e) {
  if (e instanceof CommanderError) process.exit(e.exitCode === 0 ? 0 : 2);
  if (e instanceof InputError) {
    console.error(`ultro: ${e.message}`);
    process.exit(2);
  }
  console.error(`ultro: ${(e as Error).message}`);
  if (process.env.ULTRO_DEBUG) console.error((e as Error).stack);
  process.exit(1);
}
