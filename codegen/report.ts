/**
 * The codegen report: formats, ranges, proven accumulator bounds, tanh and
 * fixed-point error, MPC settings and (when a toolchain is present) sizes.
 * Written as report.json and report.md next to the generated C.
 */
import { Rng, escapeMarkdown, type Plant } from '../sim/index.js';
import { heldOutStates, type PolicyModel } from '../trainer/index.js';
import { macCount } from './emit-c.js';
import { kernelWidth } from './emit-nn.js';
import type { AdmmData } from './mpc-admm.js';
import { mpcWorkspaceBytes } from './emit-mpc.js';
import type { QuantizedModel } from './quantize.js';
import { fixedPointError, type ErrorStats } from './reference.js';
import { tanhTableError } from './tanh.js';

export interface CodegenReport {
  generator: string;
  modelHash: string;
  quantHash: string;
  target: string;
  network: { sizes: number[]; activation: string; macs: number };
  quantisation: {
    variant: string;
    perNeuronScales: boolean;
    /** How the weights were rounded onto their grids. */
    weightRounding: 'feedback' | 'nearest';
    input: { bits: number; frac: number };
    output: { bits: 16; frac: number; lsbActuatorUnits: number[] };
    layers: {
      index: number;
      act: string;
      weightBits: number;
      weightFrac: [number, number];
      inputFrac: number;
      outputFrac: number;
      accumulatorBits: number;
      /** Width of the generated AVR kernel's sums (the exact final range fits it; partial sums wrap). */
      avrKernelBits: number;
      provenPartialSumBound: number;
      headroomBits: number;
    }[];
  };
  ranges: { method: string; boxes: number; layers: { pre: [number, number]; post: [number, number] }[]; output: [number, number][] };
  tanh: { maxAbsError: number; atZ: number } | null;
  error: { grid: ErrorStats; random: ErrorStats };
  /** The one-step safety filter after the network: the state bounds it keeps, per input. */
  safetyFilter: { input: string; bounds: string[] }[] | null;
  mpc?: { horizon: number; rho: number; maxIterations: number; tolerance: number; workspaceBytes: number };
  sizes?: Record<string, { flash: number; ram: number; board: string } | { skipped: string }>;
}

export function buildReport(model: PolicyModel, q: QuantizedModel, target: string, generator: string, mpc?: AdmmData): CodegenReport {
  const nx = q.nx;
  const grid = heldOutStates(model, 10_000, 1).X;
  const rng = new Rng(77);
  const random = new Float64Array(10_000 * nx);
  for (let k = 0; k < 10_000; k++) for (let i = 0; i < nx; i++) random[k * nx + i] = rng.uniform(model.input.domain.min[i], model.input.domain.max[i]);
  const accMax = (bits: number) => Math.pow(2, bits - 1) - 1;
  const t = q.tanh ? tanhTableError(q.tanh) : null;
  return {
    generator,
    modelHash: q.modelHash,
    quantHash: q.quantHash,
    target,
    network: { sizes: model.network.sizes, activation: model.network.activation, macs: macCount(q) },
    quantisation: {
      variant: q.variant,
      perNeuronScales: q.perNeuron,
      weightRounding: q.rounding,
      input: { bits: q.actBits, frac: q.inFrac },
      output: { bits: 16, frac: q.outFrac, lsbActuatorUnits: model.output.scale.map((s, j) => s * q.outLsb[j]) },
      layers: q.layers.map((L, index) => ({
        index,
        act: L.act,
        weightBits: q.wBits,
        weightFrac: [Math.min(...L.wFrac), Math.max(...L.wFrac)],
        inputFrac: L.inFrac,
        outputFrac: L.outFrac,
        accumulatorBits: L.accBits,
        avrKernelBits: kernelWidth(q, L),
        provenPartialSumBound: L.accBound,
        headroomBits: Math.floor(Math.log2(accMax(L.accBits) / Math.max(1, L.accBound))),
      })),
    },
    ranges: {
      method: q.ranges.method,
      boxes: q.ranges.boxes,
      layers: q.ranges.layers.map((L) => ({
        pre: [Math.min(...L.pre.map((p) => p[0])), Math.max(...L.pre.map((p) => p[1]))],
        post: [Math.min(...L.post.map((p) => p[0])), Math.max(...L.post.map((p) => p[1]))],
      })),
      output: q.ranges.output,
    },
    tanh: t ? { maxAbsError: t.maxAbs, atZ: t.atZ } : null,
    error: { grid: fixedPointError(q, model, grid, nx), random: fixedPointError(q, model, random, nx) },
    safetyFilter: q.filter
      ? model.output.names.flatMap((input, j) => {
          const bounds = q.filter!.rows.filter((r) => r.input === j).flatMap((r) => r.bounds.map((b) => b.what));
          return bounds.length ? [{ input, bounds }] : [];
        })
      : null,
    mpc: mpc ? { horizon: mpc.N, rho: mpc.rho, maxIterations: mpc.maxIter, tolerance: mpc.tol, workspaceBytes: mpcWorkspaceBytes(mpc) } : undefined,
  };
}

export function reportMarkdown(r: CodegenReport, plant: Plant): string {
  const e = (v: number) => v.toExponential(3);
  const lines = [
    `# Ultro codegen report`,
    '',
    `- generator: ${r.generator}`,
    `- model sha256: \`${r.modelHash}\``,
    `- quantised data sha256: \`${r.quantHash}\``,
    `- target: ${escapeMarkdown(r.target)}; plant: ${escapeMarkdown(plant.name)}`,
    `- network: ${r.network.sizes.join('-')} ${r.network.activation}, ${r.network.macs} MACs`,
    '',
    `## Formats (${r.quantisation.variant}, ${r.quantisation.perNeuronScales ? 'per-neuron' : 'per-layer'} weight scales, weights rounded ${r.quantisation.weightRounding === 'feedback' ? 'with error feedback' : 'to nearest'})`,
    '',
    `Input int${r.quantisation.input.bits} Q${r.quantisation.input.frac}; output int16 Q${r.quantisation.output.frac} (1 LSB = ${r.quantisation.output.lsbActuatorUnits.map(e).join(', ')} actuator units).`,
    'Rounding: right shifts round half up; every result saturates to its type; inputs are clamped to the declared domain; the output is clamped to the actuator bounds.',
    '',
    '| layer | act | weights | weight frac | in frac | out frac | accumulator | AVR kernel sums | proven partial-sum bound | headroom |',
    '|---|---|---|---|---|---|---|---|---|---|',
    ...r.quantisation.layers.map(
      (L) =>
        `| ${L.index} | ${L.act} | int${L.weightBits} | ${L.weightFrac[0]}…${L.weightFrac[1]} | ${L.inputFrac} | ${L.outputFrac} | int${L.accumulatorBits} | ${L.avrKernelBits}-bit | ${L.provenPartialSumBound} | ${L.headroomBits} bits |`,
    ),
    '',
    `## Ranges over the declared domain (${r.ranges.method}, ${r.ranges.boxes} boxes, normalised units)`,
    '',
    '| layer | pre-activation | activation |',
    '|---|---|---|',
    ...r.ranges.layers.map((L, i) => `| ${i} | [${L.pre[0].toFixed(3)}, ${L.pre[1].toFixed(3)}] | [${L.post[0].toFixed(3)}, ${L.post[1].toFixed(3)}] |`),
    '',
    `Output bounds: ${r.ranges.output.map(([a, b]) => `[${a.toFixed(3)}, ${b.toFixed(3)}]`).join(', ')}`,
    '',
    '## Error',
    '',
    r.tanh ? `tanh table: max |error| ${e(r.tanh.maxAbsError)} (at z = ${r.tanh.atZ.toFixed(2)}), measured on a dense grid.` : 'No tanh table (ReLU / hard tanh).',
    '',
    '| states | max (output LSB) | RMS (LSB) | max (actuator units) | RMS (actuator units) |',
    '|---|---|---|---|---|',
    ...(['grid', 'random'] as const).map(
      (k) => `| ${k} (${r.error[k].states}) | ${r.error[k].maxLsb.toFixed(1)} | ${r.error[k].rmsLsb.toFixed(2)} | ${e(r.error[k].maxActuator)} | ${e(r.error[k].rmsActuator)} |`,
    ),
    '',
  ];
  lines.push(
    '## Safety filter',
    '',
    r.safetyFilter
      ? `After the network, each input is clamped so that one step of the plant keeps the state bounds it moves, alone or nearly so (ultro_safety_filter, float32; definition in docs/model-file.md): ${r.safetyFilter.map((f) => `${escapeMarkdown(f.input)}: ${f.bounds.map(escapeMarkdown).join(', ')}`).join('; ')}.`
      : 'None: the model was trained without it, or no bounded state is moved by one input alone or nearly so.',
    '',
  );
  if (r.mpc)
    lines.push(
      '## On-board MPC',
      '',
      `ADMM with Riccati primal steps: horizon ${r.mpc.horizon}, ρ = ${r.mpc.rho.toPrecision(4)}, at most ${r.mpc.maxIterations} iterations, tolerance ${r.mpc.tolerance}, workspace ${r.mpc.workspaceBytes} B RAM.`,
      '',
    );
  if (r.sizes) {
    lines.push('## Sizes', '', '| program | flash | RAM |', '|---|---|---|');
    for (const [k, v] of Object.entries(r.sizes)) lines.push('flash' in v ? `| ${k} (${v.board}) | ${v.flash} B | ${v.ram} B |` : `| ${k} | ${v.skipped} | |`);
    lines.push('');
  }
  return lines.join('\n');
}
