/** `ultro codegen`: fixed-point C for a model's policy, and optionally an on-board MPC. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { InputError, LIMITS, ULTRO_VERSION, checkOutputDir, packageRoot, toJson, writeDirAtomic, writeFileAtomic } from '../sim/index.js';
import { FIXED_POINT_TOLERANCE, buildReport, emitMpc, emitPolicy, reportMarkdown } from '../codegen/index.js';
import type { VariantChoice } from '../trainer/index.js';
import { boardNames, formatSize, getBoard, measureSize } from '../targets/index.js';
import { checkMpcFits, modelArtifact, type ModelArtifact } from '../pipeline/index.js';
import { MODEL_OPTION, VARIANT_OPTION, choice, modelFileArg, parseFloatArg, parseIntArg } from './args.js';

export interface CodegenOptions {
  target: string;
  out: string;
  /** int8, int16, or auto: the width the model was refitted for, else int8 unless only int16 meets the tolerance. */
  variant: VariantChoice;
  perNeuron: 'auto' | 'on' | 'off';
  mpc?: boolean;
  mpcHorizon?: number;
  mpcIters: number;
  mpcTol: number;
  /** Write the C even when its fixed-point error exceeds the tolerance. */
  force?: boolean;
}

const pct = (v: number) => `${(100 * v).toFixed(v < 0.01 ? 2 : 1)} %`;

/** Generate into `out`; returns what was written and the report (used by `ultro demo` too, with the artifact it built). */
export function runCodegen(src: string | ModelArtifact, o: CodegenOptions, log: (s: string) => void = console.log) {
  const board = getBoard(o.target);
  const art = modelArtifact(src, { variant: o.variant, perNeuron: o.perNeuron === 'auto' ? 'auto' : o.perNeuron === 'on' });
  const { model, plant } = art;
  const modelPath = art.source;
  const { q, verdict, why, error: err } = art.deployed;
  const errLine = `fixed point vs float (${q.variant}, ${why}): RMS ${pct(verdict.worst)} of the actuator range (worst output ${model.output.names[verdict.output] ?? verdict.output}), max ${err.maxOfRange.map(pct).join(' / ')}; tolerance ${pct(FIXED_POINT_TOLERANCE)} RMS`;
  log(`codegen: ${errLine}`);
  if (!verdict.ok) {
    const msg = `${modelPath}: the ${q.variant} policy's fixed-point error (RMS ${pct(verdict.worst)} of the range of ${model.output.names[verdict.output] ?? `output ${verdict.output}`}) exceeds the ${pct(FIXED_POINT_TOLERANCE)} tolerance; retrain with --qat ${q.variant === 'int8' ? 'int16 or --qat auto' : 'int16'}, try --variant int16, or pass --force to write it anyway`;
    if (!o.force) throw new InputError(msg);
    log(`codegen: warning: ${msg.split(': ').slice(1).join(': ')} (--force)`);
  }
  const files = { ...emitPolicy(q) };
  const mpcHorizon = art.onboardHorizon(o.mpcHorizon);
  if (o.mpc) checkMpcFits(board, { nx: plant.nx, nu: plant.nu, N: mpcHorizon });
  const mpc = o.mpc ? emitMpc(plant, { horizon: mpcHorizon, maxIter: o.mpcIters, tol: o.mpcTol }, q.modelHash) : null;
  if (mpc) Object.assign(files, mpc.files);
  const report = buildReport(model, q, board.name, `ultro ${ULTRO_VERSION}`, mpc?.data);
  // Everything goes into a temp directory that then replaces `out`: a failed or killed run never leaves new C beside an old report.
  writeDirAtomic(o.out, (dir) => {
    for (const [name, text] of Object.entries(files)) writeFileAtomic(join(dir, name), text);
    // Sizes with the board's toolchain, soft-float library included (ultro_size_probe.c).
    const tmp = mkdtempSync(join(tmpdir(), 'ultro-size-'));
    try {
      const probe = join(packageRoot(), 'codegen', 'runtime', 'ultro_size_probe.c');
      const out = resolve(dir);
      report.sizes = {
        policy: withBoard(measureSize(board, [join(out, 'ultro_policy.c'), join(out, 'ultro_nn.c'), probe], [out], ['-DULTRO_SIZE_POLICY', '-Os'], tmp), board.name),
      };
      if (mpc) report.sizes.mpc = withBoard(measureSize(board, [join(out, 'ultro_mpc.c'), join(out, 'ultro_mpc_data.c'), probe], [out], ['-Os'], tmp), board.name);
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
    writeFileAtomic(join(dir, 'report.json'), toJson(report));
    writeFileAtomic(join(dir, 'report.md'), reportMarkdown(report, plant));
  });
  log(`codegen: ${Object.keys(files).length} C files in ${o.out}/ (${q.variant}, ${report.network.macs} MACs, model ${q.modelHash.slice(0, 12)}…)`);
  for (const L of report.quantisation.layers)
    log(
      `  layer ${L.index}: ${L.act}, int${L.weightBits} weights Q${L.weightFrac[0]}..Q${L.weightFrac[1]}, int${L.accumulatorBits} accumulator (bound ${L.provenPartialSumBound}, ${L.headroomBits} bits headroom; ${L.avrKernelBits}-bit sums in the AVR kernel)`,
    );
  log(`  fixed point vs float: max ${report.error.grid.maxActuator.toExponential(2)}, RMS ${report.error.grid.rmsActuator.toExponential(2)} actuator units on a 10,000-state grid`);
  if (report.tanh) log(`  tanh table error ≤ ${report.tanh.maxAbsError.toExponential(2)}`);
  if (mpc) log(`  on-board MPC: N=${mpc.data.N}, ≤ ${mpc.data.maxIter} ADMM iterations, ${report.mpc!.workspaceBytes} B workspace`);
  for (const [k, v] of Object.entries(report.sizes ?? {})) log(`  size (${k}): ${'flash' in v ? formatSize(board, v as never) : v.skipped}`);
  log(`  report: ${join(o.out, 'report.md')}`);
  return { files, report, quant: q, mpc };
}

function withBoard(s: ReturnType<typeof measureSize>, board: string) {
  return 'skipped' in s ? s : { flash: s.flash, ram: s.ram, board };
}

export function registerCodegenCommands(program: Command): void {
  program
    .command('codegen')
    .description('Generate fixed-point C for a model’s policy (and an on-board MPC with --mpc), with a report of formats, ranges, errors and sizes.')
    .argument('[model]', 'the model file (old form of --model)')
    .option(MODEL_OPTION.flags, MODEL_OPTION.help)
    .option('--target <board>', `board: ${boardNames().join(', ')}`, choice('--target', boardNames()), 'uno')
    .option('--out <dir>', 'output directory', 'generated')
    .option(VARIANT_OPTION.flags, VARIANT_OPTION.help, VARIANT_OPTION.parse, 'auto')
    .option('--force', `write the C even when its fixed-point error exceeds ${pct(FIXED_POINT_TOLERANCE)} of an actuator's range (RMS)`)
    .option('--per-neuron <mode>', 'per-neuron weight scales: auto, on, off', choice('--per-neuron', ['auto', 'on', 'off'] as const), 'auto')
    .option('--mpc', 'also emit the on-board MPC for the model’s plant')
    .option('--mpc-horizon <N>', 'on-board MPC horizon (default: the teacher’s, shortened to fit 1 KB of workspace)', parseIntArg('--mpc-horizon', 1, LIMITS.maxHorizon))
    .option('--mpc-iters <k>', 'ADMM iteration cap per solve', parseIntArg('--mpc-iters', 1, LIMITS.maxMpcIterations), 50)
    .option('--mpc-tol <t>', 'ADMM residual tolerance (normalised units)', parseFloatArg('--mpc-tol', { positive: true }), 1e-3)
    .addHelpText('after', '\nExamples:\n  $ ultro codegen --model model.json --target uno --out gen/\n  $ ultro codegen --model model.json --variant int16 --mpc --mpc-horizon 10 --out gen16/')
    .action((positional: string | undefined, opts: CodegenOptions & { model?: string }) => {
      const modelPath = modelFileArg(positional, opts.model);
      checkOutputDir(opts.out);
      runCodegen(modelPath, opts);
    });
}
