/**
 * Drives a board's C toolchain: compile and link, size report, Intel HEX.
 * Everything it needs comes from the Board description.
 */
import { spawnSync } from 'node:child_process';

import type { Board } from './boards.js';

export class ToolchainError extends Error {}

/** A program that builds but exceeds the board's flash or RAM: callers may split it (one controller per image). */
export class FirmwareTooLargeError extends ToolchainError {
  constructor(
    message: string,
    readonly size: SizeReport,
    readonly board: string,
  ) {
    super(message);
  }
}

export function hasCommand(cmd: string): boolean {
  // the name is a positional parameter of the shell, never part of its script
  return spawnSync('sh', ['-c', 'command -v "$1" >/dev/null', 'sh', cmd]).status === 0;
}

export interface SizeReport {
  /** Bytes in flash: .text + .data (initialised data is stored in flash too). */
  flash: number;
  /** Static RAM: .data + .bss (+ .noinit). */
  ram: number;
  text: number;
  data: number;
  bss: number;
}

function run(cmd: string, args: string[], what: string): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.error) throw new ToolchainError(`${what}: cannot run ${cmd} (${(r.error as NodeJS.ErrnoException).code ?? r.error.message})`);
  if (r.status !== 0) throw new ToolchainError(`${what} failed:\n${r.stderr || r.stdout}`);
  return r.stdout;
}

/** Compile and link `sources` (paths) for the board into `outElf`. */
export function compileAndLink(board: Board, sources: string[], includeDirs: string[], outElf: string, extraFlags: string[] = []): void {
  const tc = board.toolchain;
  if (tc.kind === 'arduino-esp32') throw new ToolchainError(`${board.name}: built by PlatformIO / arduino-cli, not by Ultro directly`);
  if (!hasCommand(tc.cc)) throw new ToolchainError(`${board.name}: ${tc.cc} not found (on Debian: apt-get install ${tc.kind === 'avr-gcc' ? 'gcc-avr avr-libc' : 'gcc'})`);
  run(tc.cc, [...tc.cflags, ...extraFlags, ...includeDirs.map((d) => `-I${d}`), ...sources, ...tc.ldflags, '-lm', '-o', outElf], `${tc.cc} (${board.name})`);
}

/** Section sizes of an ELF, from `size -A`. */
export function sizeOf(board: Board, elf: string): SizeReport {
  const tool = board.toolchain.size;
  if (!tool) throw new ToolchainError(`${board.name}: no size tool configured`);
  const out = run(tool, ['-A', elf], `${tool}`);
  const sec = (name: string) => {
    const m = out.match(new RegExp(`^\\${name}\\s+(\\d+)`, 'm'));
    return m ? Number(m[1]) : 0;
  };
  const text = sec('.text'),
    data = sec('.data'),
    bss = sec('.bss') + sec('.noinit');
  return { text, data, bss, flash: text + data, ram: data + bss };
}

/** Intel HEX of an ELF's flash image (.text and .data). */
export function toHex(board: Board, elf: string, outHex: string): void {
  const tool = board.toolchain.objcopy;
  if (!tool) throw new ToolchainError(`${board.name}: no objcopy configured`);
  run(tool, ['-O', 'ihex', '-R', '.eeprom', elf, outHex], tool);
}

/** Check a size report against the board; throws a clear error when it does not fit. */
export function checkFits(board: Board, s: SizeReport, what: string): void {
  if (s.flash > board.flashBytes) throw new FirmwareTooLargeError(`${what} does not fit ${board.name}: flash ${s.flash} B > ${board.flashBytes} B available`, s, board.name);
  if (s.ram + board.ramReserveBytes > board.ramBytes)
    throw new FirmwareTooLargeError(`${what} does not fit ${board.name}: static RAM ${s.ram} B + ${board.ramReserveBytes} B reserved for stack and buffers > ${board.ramBytes} B`, s, board.name);
}

export function formatSize(board: Board, s: SizeReport): string {
  const pct = (a: number, b: number) => (Number.isFinite(b) && b < Number.MAX_SAFE_INTEGER ? ` (${((100 * a) / b).toFixed(1)}% of ${b} B)` : '');
  return `flash ${s.flash} B${pct(s.flash, board.flashBytes)}, RAM ${s.ram} B${pct(s.ram, board.ramBytes)}`;
}

/**
 * Size of a program built from `sources` for the board (into a temp ELF), or
 * the reason it could not be measured (toolchain missing, not driven by Ultro).
 */
export function measureSize(board: Board, sources: string[], includeDirs: string[], extraFlags: string[], tmpDir: string): SizeReport | { skipped: string } {
  if (board.toolchain.kind === 'arduino-esp32') return { skipped: 'built by PlatformIO (ultro build --target esp32)' };
  if (!hasCommand(board.toolchain.cc)) return { skipped: `${board.toolchain.cc} not installed` };
  const elf = `${tmpDir}/size-probe-${Math.random().toString(36).slice(2)}.elf`;
  compileAndLink(board, sources, includeDirs, elf, extraFlags);
  return sizeOf(board, elf);
}
