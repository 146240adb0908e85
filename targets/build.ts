/**
 * Builds a firmware source set (from codegen) for a board:
 *  - bare-metal toolchains (avr-gcc, host gcc): firmware.elf (+ firmware.hex
 *    for AVR) and a size report checked against the board's limits;
 *  - Arduino-framework boards (ESP32): a PlatformIO project and an Arduino
 *    sketch folder, built when `pio` is installed and skipped otherwise.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../sim/index.js';
import type { Board } from './boards.js';
import { ToolchainError, checkFits, compileAndLink, hasCommand, sizeOf, toHex, type SizeReport } from './toolchain.js';

export interface BuildResult {
  board: string;
  dir: string;
  /** Source directory that was compiled. */
  src: string;
  elf?: string;
  hex?: string;
  size?: SizeReport;
  /** Arduino boards: where the projects are, and whether they were built. */
  platformio?: string;
  sketch?: string;
  built: boolean;
  note?: string;
}

export function buildFirmware(board: Board, files: Record<string, string>, outDir: string, extraFlags: string[] = []): BuildResult {
  if (board.firmware.framework === 'arduino') return buildArduino(board, files, outDir);
  const src = join(outDir, 'src');
  rmSync(src, { recursive: true, force: true });
  mkdirSync(src, { recursive: true });
  for (const [name, text] of Object.entries(files)) writeFileAtomic(join(src, name), text);
  const sources = Object.keys(files).filter((f) => f.endsWith('.c')).map((f) => join(src, f));
  const elf = join(outDir, 'firmware.elf');
  compileAndLink(board, sources, [src], elf, extraFlags);
  const result: BuildResult = { board: board.name, dir: outDir, src, elf, built: true };
  if (board.toolchain.objcopy) {
    result.hex = join(outDir, 'firmware.hex');
    toHex(board, elf, result.hex);
  }
  if (board.toolchain.size && board.toolchain.kind === 'avr-gcc') {
    result.size = sizeOf(board, elf);
    checkFits(board, result.size, `firmware for ${board.name}`);
  }
  return result;
}

function buildArduino(board: Board, files: Record<string, string>, outDir: string): BuildResult {
  const pio = join(outDir, 'platformio');
  const sketch = join(outDir, 'sketch', 'ultro_fw');
  rmSync(pio, { recursive: true, force: true });
  rmSync(join(outDir, 'sketch'), { recursive: true, force: true });
  for (const [name, text] of Object.entries(files)) {
    if (name === 'platformio.ini') writeFileAtomic(join(pio, name), text);
    else {
      writeFileAtomic(join(pio, 'src', name), text);
      writeFileAtomic(join(sketch, name), text);
    }
  }
  const result: BuildResult = { board: board.name, dir: outDir, src: join(pio, 'src'), platformio: pio, sketch, built: false };
  if (!hasCommand(board.toolchain.cc)) {
    result.note = `${board.toolchain.cc} (PlatformIO) is not installed: the project was written but not built. Build it with \`pio run -d ${pio}\`.`;
    return result;
  }
  const r = spawnSync(board.toolchain.cc, ['run', '-d', pio], { encoding: 'utf8' });
  if (r.status !== 0) throw new ToolchainError(`PlatformIO build for ${board.name} failed:\n${r.stdout}\n${r.stderr}`);
  result.built = true;
  return result;
}
