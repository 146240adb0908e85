/**
 * Exact cycle counts of a generated policy on the emulated ATmega328P: builds
 * ultro_bench.c with the policy for the Uno, runs it on avr8js, and reads the
 * counts it prints. The method is the firmware's (Timer1, calibrated), so the
 * counts equal what a STEP reports for the same state.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { packageRoot } from '../sim/index.js';
import { UnoEmulator, programFromHex } from '../firmware-host/index.js';
import { compileAndLink, getBoard, sizeOf, toHex, type SizeReport } from '../targets/index.js';
import { cFloatTensor, emitPolicy, macCount, readRuntime, type QuantizedModel } from '../codegen/index.js';

export interface PolicyCycles {
  macs: number;
  /** Integer core (ultro_policy_q) per state. */
  core: number[];
  /** Whole float policy (quantise, core, dequantise, clamp, safety filter) per state. */
  full: number[];
  /** The safety filter alone per state (empty without one). */
  filter: number[];
  /** The float wrapper alone (quantise and dequantise) per state. */
  wrap: number[];
  uq: number[];
  size: SizeReport;
}

export function measurePolicyCycles(q: QuantizedModel, states: number[][]): PolicyCycles {
  const board = getBoard('uno');
  const dir = mkdtempSync(join(tmpdir(), 'ultro-cycles-'));
  try {
    const files: Record<string, string> = { ...emitPolicy(q), 'ultro_hal.h': readRuntime('ultro_hal.h'), 'ultro_hal_avr.c': readRuntime('ultro_hal_avr.c') };
    files['ultro_bench_inputs.h'] = ['#include "ultro_rom.h"', `#define ULTRO_BENCH_N ${states.length}`, cFloatTensor('ULTRO_BENCH_X', [states.length, q.nx], states.flat(), 'static'), ''].join('\n');
    for (const [n, t] of Object.entries(files)) writeFileSync(join(dir, n), t);
    const elf = join(dir, 'bench.elf');
    const hex = join(dir, 'bench.hex');
    compileAndLink(board, [join(dir, 'ultro_policy.c'), join(dir, 'ultro_nn.c'), join(dir, 'ultro_hal_avr.c'), join(packageRoot(), 'codegen', 'runtime', 'ultro_bench.c')], [dir], elf);
    toHex(board, elf, hex);
    const emu = new UnoEmulator(programFromHex(readFileSync(hex, 'utf8'), hex));
    let out = '';
    while (!out.includes('DONE') && emu.cycles < 2e9) {
      emu.runUntil(emu.cycles + 1_000_000);
      out += Buffer.from(emu.drainTx()).toString('latin1');
    }
    const core: number[] = [],
      full: number[] = [],
      filter: number[] = [],
      wrap: number[] = [],
      uq: number[] = [];
    for (const line of out.split('\n')) {
      const p = line.trim().split(' ');
      if (p[0] === 'core') {
        core.push(Number(p[1]));
        uq.push(Number(p[2]));
      } else if (p[0] === 'full') full.push(Number(p[1]));
      else if (p[0] === 'filter') filter.push(Number(p[1]));
      else if (p[0] === 'wrap') wrap.push(Number(p[1]));
    }
    if (core.length !== states.length) throw new Error(`cycle bench: expected ${states.length} results, got ${core.length}: ${out.slice(0, 200)}`);
    return { macs: macCount(q), core, full, filter, wrap, uq, size: sizeOf(board, elf) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
