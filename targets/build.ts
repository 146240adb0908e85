/**
 * Builds a firmware source set (from codegen) for a board:
 *  - bare-metal toolchains (avr-gcc, host gcc): firmware.elf (+ firmware.hex
 *    for AVR) and a size report checked against the board's limits;
 *  - Arduino-framework boards (ESP32): a PlatformIO project and an Arduino
 *    sketch folder, built when `pio` is installed and skipped otherwise.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { writeDirAtomic, writeFileAtomic } from '../sim/index.js';
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

/**
 * Build into `outDir` as a whole: sources, ELF, hex and size check happen in a
 * temp directory that replaces `outDir` only when everything succeeded, so a
 * failed or killed build (or a program that does not fit) never leaves a new
 * hex beside old sources, or the other way round.
 */
export function buildFirmware(board: Board, files: Record<string, string>, outDir: string, extraFlags: string[] = []): BuildResult {
  return writeDirAtomic(outDir, (tmp) => {
    const built = board.firmware.framework === 'arduino' ? buildArduino(board, files, tmp) : buildBareMetal(board, files, tmp, extraFlags);
    // the paths the caller uses are those of the final directory
    const moved = (p: string | undefined) => (p === undefined ? undefined : join(outDir, relative(tmp, p)));
    return {
      ...built,
      dir: outDir,
      src: moved(built.src)!,
      elf: moved(built.elf),
      hex: moved(built.hex),
      platformio: moved(built.platformio),
      sketch: moved(built.sketch),
      note: built.note?.split(tmp).join(outDir),
    };
  });
}

function buildBareMetal(board: Board, files: Record<string, string>, outDir: string, extraFlags: string[]): BuildResult {
  const src = join(outDir, 'src');
  mkdirSync(src, { recursive: true });
  for (const [name, text] of Object.entries(files)) writeFileAtomic(join(src, name), text);
  const sources = Object.keys(files)
    .filter((f) => f.endsWith('.c'))
    .map((f) => join(src, f));
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
