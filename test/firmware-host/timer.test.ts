/**
 * The on-chip cycle counter as the firmware uses it (Timer1 at prescaler 1
 * with overflow counting, minus the calibrated read overhead), measured
 * against delays of exactly N cycles (__builtin_avr_delay_cycles) in
 * test/c/timer_check.c, on the emulated Uno with both Timer1 models.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { packageRoot } from '../../sim/index.js';
import { UnoEmulator, programFromHex } from '../../firmware-host/index.js';
import { compileAndLink, getBoard, toHex } from '../../targets/index.js';
import { HAVE_AVR } from '../helpers/firmware.js';

function run(timer: 'lazy' | 'avr8js'): Map<number, number> {
  const board = getBoard('uno');
  const dir = mkdtempSync(join(tmpdir(), 'ultro-timer-'));
  try {
    const rt = join(packageRoot(), 'codegen', 'runtime');
    compileAndLink(board, [join(packageRoot(), 'test', 'c', 'timer_check.c'), join(rt, 'ultro_hal_avr.c')], [rt], join(dir, 't.elf'));
    toHex(board, join(dir, 't.elf'), join(dir, 't.hex'));
    const emu = new UnoEmulator(programFromHex(readFileSync(join(dir, 't.hex'), 'utf8')), { timer });
    let out = '';
    while (!out.includes('DONE') && emu.cycles < 50_000_000) {
      emu.runUntil(emu.cycles + 1_000_000);
      out += Buffer.from(emu.drainTx()).toString('latin1');
    }
    const m = new Map<number, number>();
    for (const line of out.split('\n')) {
      const [n, c] = line.trim().split(' ').map(Number);
      if (Number.isFinite(n) && Number.isFinite(c)) m.set(n, c);
    }
    return m;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe.skipIf(!HAVE_AVR)('cycle counter on the emulated Uno', () => {
  it('is exact below one Timer1 period; each overflow adds its interrupt’s cost; both Timer1 models agree', () => {
    const lazy = run('lazy');
    const stock = run('avr8js');
    expect([...lazy.keys()]).toEqual([10, 1000, 60000, 70000, 300000]);
    expect(lazy).toEqual(stock);
    for (const n of [10, 1000, 60000]) expect(lazy.get(n)).toBe(n);
    // Longer windows include floor(n / 65536) overflow interrupts of a fixed cost.
    const per = (lazy.get(70000)! - 70000) / Math.floor(70000 / 65536);
    expect(per).toBeGreaterThan(0);
    expect(Number.isInteger(per)).toBe(true);
    expect(lazy.get(300000)! - 300000).toBe(per * Math.floor(300000 / 65536));
    console.log(`Timer1 overflow interrupt: ${per} cycles per overflow inside a measurement`);
  }, 60_000);
});
