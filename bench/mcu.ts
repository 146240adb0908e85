/**
 * On-chip figures, all exact cycle counts from the emulated ATmega328P (or
 * ratios of them), plus the emulator's own speed:
 *   cycles   — cycles per forward pass and per MAC of the generated policy, int8 and
 *              int16, three widths, against the instruction floor (a ratio);
 *   hil      — the network/MPC latency ratio on the Uno, from a HIL session
 *              (with and without sensor noise), and MPC cycles per ADMM iteration;
 *   emulator — emulated cycles per wall second, lazy Timer1 against avr8js's
 *              stock timer in the same run (ratio), absolute rate for orientation.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { packageRoot } from '../sim/index.js';
import { loadModel, randomPolicyModel as randomModel, type PolicyModel } from '../trainer/index.js';
import { kernelWidth, quantizeModel, type QuantizedModel } from '../codegen/index.js';
import { Device, EmulatedUnoLink, UNO_CPU_HZ, rowOf } from '../firmware-host/index.js';
import { getBoard } from '../targets/index.js';
import { buildModelFirmware, measurePolicyCycles, runSession, type SessionResult } from '../pipeline/index.js';
import { median, table, type BenchSection, type Figure } from './harness.js';

const fixture = () => loadModel(join(packageRoot(), 'test/fixtures/models/double-integrator.json'));
const STATES = [
  [1, 0.5],
  [-3, 1.2],
  [4.9, -1.9],
  [0, 0],
  [-0.2, 0.05],
];

/** The DI's bench states; for other plants five points along the domain's diagonal. */
function benchStates(m: PolicyModel): number[][] {
  const { min, max } = m.input.domain;
  if (min.length === 2) return STATES;
  return [0.5, 0.3, 0.7, 0.1, 0.9].map((t) => min.map((lo, i) => lo + t * (max[i] - lo)));
}

/**
 * The instruction floor of a forward pass on the AVR: per MAC, weights in
 * flash and a 16-bit accumulator cost LPM 3 + LD 2 + MULS 2 + ADD/ADC 2 = 9
 * cycles (int8); int16 with the inputs in registers, four unsigned MULs into
 * one 32-bit sum: LPM 2×3 + MUL 4×2 + ADD/ADC 12 = 26 cycles (the AVR201
 * signed multiply–accumulate with its loads from RAM is 32); plus about 30
 * cycles per neuron (bias, shift, activation, store).
 */
function instructionFloor(q: QuantizedModel): number {
  const perMac = q.actBits === 8 ? 9 : 26;
  return q.layers.reduce((s, L) => s + L.nin * L.nout * perMac + 30 * L.nout, 0);
}

export async function benchCycles(): Promise<BenchSection> {
  const figures: Figure[] = [];
  const details: unknown[] = [];
  const models = [
    ['DI 2-16-16-1', fixture()],
    ['2-32-32-1', randomModel('double-integrator', [32, 32], 'tanh', 1, 0.5)],
    ['2-64-64-1', randomModel('double-integrator', [64, 64], 'tanh', 1, 0.3)],
    // the 12-state plant's shape: hard-tanh rows (a clamp) and the safety filter's twelve states
    ['quadrotor 12-28-28-4 hard tanh (its default shape)', randomModel('quadrotor-hover', [28, 28], 'hardtanh', 4, 0.5)],
  ] as const;
  const rows: (string | number)[][] = [];
  for (const [name, m] of models)
    for (const variant of ['int8', 'int16'] as const) {
      const q = quantizeModel(m, { variant });
      const r = measurePolicyCycles(q, benchStates(m));
      const core = median(r.core);
      const floor = instructionFloor(q);
      figures.push({ name: `${name} ${variant}: cycles per MAC (integer core)`, value: core / r.macs, unit: 'cycles/MAC', kind: 'cycles' });
      figures.push({ name: `${name} ${variant}: integer core / instruction floor`, value: core / floor, unit: '×', kind: 'ratio', note: 'exact cycles' });
      const filter = r.filter.length ? median(r.filter) : NaN;
      // The policy without its safety filter: quantise, core, dequantise (the float wrapper timed alone).
      const noFilter = median(r.core.map((c, k) => c + r.wrap[k]));
      figures.push({ name: `${name} ${variant}: quantise + core + dequantise (no safety filter)`, value: noFilter, unit: 'cycles', kind: 'cycles' });
      figures.push({ name: `${name} ${variant}: whole policy (quantise, core, dequantise${r.filter.length ? ', safety filter' : ''})`, value: median(r.full), unit: 'cycles', kind: 'cycles' });
      if (r.filter.length) figures.push({ name: `${name} ${variant}: the safety filter alone`, value: filter, unit: 'cycles', kind: 'cycles' });
      details.push({
        name,
        variant,
        macs: r.macs,
        widths: q.layers.map((L) => kernelWidth(q, L)),
        floor,
        core: r.core,
        full: r.full,
        filter: r.filter,
        wrap: r.wrap,
        flash: r.size.flash,
        ram: r.size.ram,
      });
      rows.push([
        `${name} ${variant}`,
        String(r.macs),
        String(core),
        (core / r.macs).toFixed(1),
        String(floor),
        (core / floor).toFixed(2),
        String(noFilter),
        String(median(r.full)),
        r.filter.length ? String(filter) : '–',
        String(r.size.flash),
      ]);
      console.log(
        `cycles: ${name} ${variant}: ${r.macs} MACs, core ${core} cycles (${(core / r.macs).toFixed(1)}/MAC, floor ${floor}, ×${(core / floor).toFixed(2)}), whole ${median(r.full)}${r.filter.length ? ` (safety filter ${filter})` : ''}`,
      );
    }
  console.log(table(['network', 'MACs', 'core cycles', 'per MAC', 'floor', 'core/floor', 'with float wrapper', 'whole policy', 'of it safety filter', 'bench flash B'], rows));
  return { section: 'cycles', figures, details };
}

export async function benchHil(): Promise<BenchSection> {
  const figures: Figure[] = [];
  const out = mkdtempSync(join(tmpdir(), 'ultro-bench-hil-'));
  try {
    const model = fixture();
    const fw = buildModelFirmware(getBoard('uno'), model, join(out, 'fw'), { controllers: ['policy', 'mpc'] });
    for (const noise of [0, 0.01]) {
      const t0 = performance.now();
      const r: SessionResult = await runSession({
        model,
        target: 'uno',
        out: join(out, `n${noise}`),
        steps: 100,
        runs: 20,
        seed: 1,
        noiseStd: noise ? [noise, noise] : undefined,
        firmware: fw,
        progress: false,
      });
      const wall = (performance.now() - t0) / 1000;
      const net = rowOf(r.summary.controllers, 'board', 'policy')!;
      const mpc = rowOf(r.summary.controllers, 'board', 'mpc')!;
      const tag = noise ? `DI, sensor noise ${noise}` : 'DI, no noise';
      figures.push({ name: `${tag}: MPC / network median cycles`, value: r.summary.speedup!, unit: '×', kind: 'ratio', note: 'exact cycles, same run' });
      figures.push({ name: `${tag}: network median`, value: net.latency!.cycles.median, unit: 'cycles', kind: 'cycles' });
      figures.push({ name: `${tag}: MPC median (N=${fw.mpc!.N})`, value: mpc.latency!.cycles.median, unit: 'cycles', kind: 'cycles' });
      figures.push({ name: `${tag}: MPC median ADMM iterations`, value: mpc.solver!.iterations.median, unit: 'iterations', kind: 'count' });
      figures.push({ name: `${tag}: MPC steps over the sample time`, value: mpc.latency!.deadlineMisses, unit: 'of 2000', kind: 'count' });
      // Cycles per ADMM iteration: from the per-step logs (cycles / iterations), median.
      const run = rowOf(r.result.runs, 'board', 'mpc')!;
      const perIt = run.episodes.flatMap((e) => e.steps.filter((s) => s.iterations && s.iterations > 2).map((s) => s.cycles! / s.iterations!));
      if (!noise) figures.push({ name: `MPC N=${fw.mpc!.N}: cycles per ADMM iteration (median over steps with > 2 iterations)`, value: median(perIt), unit: 'cycles', kind: 'cycles' });
      figures.push({ name: `${tag}: HIL wall time, 2000 steps × 4 controllers, 2 threads`, value: wall, unit: 's', kind: 'info' });
      console.log(`hil: ${tag}: ratio ${r.summary.speedup!.toFixed(1)}×, ${wall.toFixed(1)} s`);
    }
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
  return { section: 'hil', figures };
}

export async function benchEmulator(): Promise<BenchSection> {
  const out = mkdtempSync(join(tmpdir(), 'ultro-bench-emu-'));
  try {
    // Workload: the HIL firmware answering MPC STEPs (soft-float ADMM), in this thread.
    const fw = buildModelFirmware(getBoard('uno'), fixture(), join(out, 'fw'), { controllers: ['policy', 'mpc'] });
    const rate = async (timer: 'lazy' | 'avr8js') => {
      const link = new EmulatedUnoLink(fw.build.hex!, { timer });
      const dev = await Device.connect(link, { modelHash32: fw.artifact.hash32 });
      const c0 = link.cycles;
      const t0 = performance.now();
      for (let k = 0; k < 40; k++) await dev.step('mpc', [3 * Math.cos(k), 1.5 * Math.sin(k)]);
      const r = (link.cycles - c0) / ((performance.now() - t0) / 1000);
      await dev.close();
      return r;
    };
    const lazy: number[] = [],
      stock: number[] = [];
    for (let r = 0; r < 3; r++) {
      lazy.push(await rate('lazy'));
      stock.push(await rate('avr8js'));
    }
    const l = median(lazy),
      s = median(stock);
    console.log(`emulator: lazy Timer1 ${(l / 1e6).toFixed(1)} MHz, stock ${(s / 1e6).toFixed(1)} MHz`);
    return {
      section: 'emulator',
      figures: [
        { name: 'lazy Timer1 / avr8js stock timer, emulated cycles per second', value: l / s, unit: '×', kind: 'ratio' },
        { name: 'emulated ATmega328P speed (lazy Timer1) / real 16 MHz chip', value: l / UNO_CPU_HZ, unit: '× real time', kind: 'info' },
      ],
    };
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}
