/**
 * Boards as typed data. Code reads these fields and never branches on a
 * board's name: a new board is a new entry here.
 */
import { InputError } from '../sim/index.js';

export type ToolchainKind = 'avr-gcc' | 'host-gcc' | 'arduino-esp32';
export type CycleCounterKind = 'avr-timer1' | 'esp32-ccount' | 'cortex-dwt' | 'host-clock';
export type FlashToolKind = 'avrdude' | 'esptool' | 'none';

export interface Board {
  name: string;
  description: string;
  /** MCU as the compiler names it (-mmcu=… for AVR). */
  mcu: string;
  cpuHz: number;
  /** Flash available to the program (total minus bootloader), bytes. */
  flashBytes: number;
  ramBytes: number;
  /** RAM kept free for the stack and serial buffers when checking fit. */
  ramReserveBytes: number;
  toolchain: {
    kind: ToolchainKind;
    /** Compiler, size and objcopy commands (absent for toolchains Ultro does not drive). */
    cc: string;
    size?: string;
    objcopy?: string;
    cflags: string[];
    ldflags: string[];
  };
  /** How firmware counts cycles (each HAL file in codegen/runtime implements its board's kind behind ultro_hal.h). */
  cycleCounter: { kind: CycleCounterKind; note: string };
  serial: { baud: number };
  flashTool: { kind: FlashToolKind; command?: string; args?: string[]; note: string };
  /** Firmware: which HAL file (codegen/runtime) and whether the board runs the Arduino framework. */
  firmware: { hal: string; framework: 'bare' | 'arduino' };
  /** An emulator that runs this board's firmware image (HIL without a board), if there is one. */
  emulator?: 'avr8js-atmega328p';
}

const WARN = ['-std=c99', '-Wall', '-Wextra', '-Werror', '-ffp-contract=off'];

export const BOARDS: Record<string, Board> = {
  uno: {
    name: 'uno',
    description: 'Arduino Uno (ATmega328P, 16 MHz), built with avr-gcc and avr-libc',
    mcu: 'atmega328p',
    cpuHz: 16_000_000,
    flashBytes: 32_768 - 512, // Optiboot takes the top 512 bytes
    ramBytes: 2048,
    ramReserveBytes: 256,
    toolchain: {
      kind: 'avr-gcc',
      cc: 'avr-gcc',
      size: 'avr-size',
      objcopy: 'avr-objcopy',
      cflags: [...WARN, '-mmcu=atmega328p', '-DF_CPU=16000000UL', '-O2', '-ffunction-sections', '-fdata-sections'],
      ldflags: ['-mmcu=atmega328p', '-Wl,--gc-sections'],
    },
    cycleCounter: { kind: 'avr-timer1', note: 'Timer1 at prescaler 1, overflow interrupt extends it to 32 bits' },
    serial: { baud: 115_200 },
    flashTool: { kind: 'avrdude', command: 'avrdude', args: ['-p', 'atmega328p', '-c', 'arduino', '-b', '115200', '-D'], note: 'Optiboot over the USB serial port' },
    firmware: { hal: 'ultro_hal_avr.c', framework: 'bare' },
    emulator: 'avr8js-atmega328p',
  },
  esp32: {
    name: 'esp32',
    description: 'ESP32 (Xtensa LX6, 240 MHz), Arduino-ESP32 sketch and PlatformIO project',
    mcu: 'esp32',
    cpuHz: 240_000_000,
    flashBytes: 1_310_720,
    ramBytes: 327_680,
    ramReserveBytes: 65_536,
    toolchain: { kind: 'arduino-esp32', cc: 'pio', cflags: ['-ffp-contract=off'], ldflags: [] },
    cycleCounter: { kind: 'esp32-ccount', note: 'the CCOUNT special register, one count per CPU cycle' },
    serial: { baud: 115_200 },
    flashTool: { kind: 'esptool', command: 'esptool.py', args: ['--chip', 'esp32', 'write_flash', '0x10000'], note: 'or `pio run -t upload`' },
    firmware: { hal: 'ultro_hal_arduino.cpp', framework: 'arduino' },
  },
  generic: {
    name: 'generic',
    description: 'Plain C99 built for this host with gcc (tests and desk checks)',
    mcu: 'host',
    cpuHz: 1_000_000_000,
    flashBytes: Number.MAX_SAFE_INTEGER,
    ramBytes: Number.MAX_SAFE_INTEGER,
    ramReserveBytes: 0,
    toolchain: { kind: 'host-gcc', cc: 'gcc', size: 'size', cflags: [...WARN, '-O2'], ldflags: [] },
    cycleCounter: { kind: 'host-clock', note: 'clock_gettime(CLOCK_MONOTONIC) in nanoseconds' },
    serial: { baud: 115_200 },
    flashTool: { kind: 'none', note: 'nothing to flash' },
    firmware: { hal: 'ultro_hal_host.c', framework: 'bare' },
  },
};

export function boardNames(): string[] {
  return Object.keys(BOARDS);
}

export function getBoard(name: string): Board {
  const b = BOARDS[name];
  if (!b) throw new InputError(`unknown target "${name}"; known targets: ${boardNames().join(', ')}`);
  return b;
}
