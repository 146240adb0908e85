/**
 * An emulated Arduino Uno (ATmega328P, 16 MHz) running a real firmware image
 * on avr8js: CPU, USART0 (bytes paced at the configured baud), GPIO ports
 * B/C/D, and Timer1. Exact cycle counts: cpu.cycles is the emulated clock.
 */
import { AVRIOPort, AVRTimer, AVRUSART, CPU, avrInstruction, portBConfig, portCConfig, portDConfig, timer1Config, usart0Config } from 'avr8js';
import intelHex from 'intel-hex';
import { LazyTimer1 } from './timer1.js';

export const UNO_CPU_HZ = 16_000_000;
const FLASH_BYTES = 32 * 1024;
const SLEEP = 0x9588;
const SEI = 0x9478;

/** Flash image (words) from Intel HEX text; throws with the problem named. */
export function programFromHex(hex: string, source = 'firmware.hex'): Uint16Array {
  let data: Buffer;
  try {
    data = intelHex.parse(hex, FLASH_BYTES).data;
  } catch (e) {
    throw new Error(`${source}: not a valid Intel HEX image (${(e as Error).message})`);
  }
  if (data.length > FLASH_BYTES) throw new Error(`${source}: image of ${data.length} bytes does not fit the 32 KB flash`);
  if (data.length === 0) throw new Error(`${source}: empty image`);
  const bytes = new Uint8Array(FLASH_BYTES);
  bytes.set(data);
  return new Uint16Array(bytes.buffer);
}

export interface UnoOptions {
  /** 'lazy' (default): fast Timer1 model; 'avr8js': the stock AVRTimer (slower, for cross-checks). */
  timer?: 'lazy' | 'avr8js';
}

export class UnoEmulator {
  cpu!: CPU;
  private usart!: AVRUSART;
  private rxQueue: number[] = [];
  /** Bytes the firmware transmitted, collected until drained. */
  private txBytes: number[] = [];
  /** Cycle of the most recent UART activity (either direction). */
  lastActivity = 0;
  private readonly program: Uint16Array;

  constructor(
    program: Uint16Array,
    private readonly opts: UnoOptions = {},
  ) {
    this.program = program;
    this.boot();
  }

  /** Power-on / reset: fresh CPU and peripherals, same flash. */
  boot(): void {
    const cpu = new CPU(Uint16Array.from(this.program));
    new AVRIOPort(cpu, portBConfig);
    new AVRIOPort(cpu, portCConfig);
    new AVRIOPort(cpu, portDConfig);
    if (this.opts.timer === 'avr8js') new AVRTimer(cpu, timer1Config);
    else new LazyTimer1(cpu);
    const usart = new AVRUSART(cpu, usart0Config, UNO_CPU_HZ);
    usart.onByteTransmit = (b) => {
      this.txBytes.push(b);
      this.lastActivity = cpu.cycles;
    };
    // One byte at a time: the next is fed once the previous one has arrived (the UART has no FIFO).
    usart.onRxComplete = () => this.feed();
    this.cpu = cpu;
    this.usart = usart;
    this.rxQueue = [];
    this.lastActivity = 0;
  }

  get cycles(): number {
    return this.cpu.cycles;
  }

  /** Queue bytes for the firmware's receiver; they arrive at the configured baud rate. */
  receive(bytes: ArrayLike<number>): void {
    for (let i = 0; i < bytes.length; i++) this.rxQueue.push(bytes[i]);
    this.lastActivity = this.cpu.cycles;
    this.feed();
  }

  get rxPending(): number {
    return this.rxQueue.length;
  }

  private feed(): void {
    if (this.rxQueue.length === 0) return;
    if (this.usart.writeByte(this.rxQueue[0])) {
      this.rxQueue.shift();
      this.lastActivity = this.cpu.cycles;
    }
  }

  /** Whether the last instruction run was SLEEP with nothing left to do (see runUntil). */
  sleeping = false;

  /** Nothing queued or arriving, and no interrupt pending. */
  private get quiet(): boolean {
    return this.rxQueue.length === 0 && !this.usart.rxBusy && this.cpu.nextInterrupt === -1;
  }

  /** The firmware is asleep with nothing to do. */
  get idle(): boolean {
    return this.sleeping && this.quiet;
  }

  /**
   * Run until cpu.cycles reaches `until`, or (with stopWhenIdle) until the
   * firmware executes SLEEP with nothing to do; it resumes after the SLEEP,
   * as a real AVR does when an interrupt wakes it.
   *
   * Two details make this faithful to the hardware: the instruction after
   * SEI runs before any pending interrupt is taken (avr8js alone takes it at
   * once, which would let the UART interrupt slip in between `sei` and
   * `sleep` and strand a received byte), and a pending interrupt keeps the
   * CPU awake. Returns true if it stopped idle.
   */
  runUntil(until: number, stopWhenIdle = false): boolean {
    const cpu = this.cpu;
    const prog = cpu.progMem;
    let nextFeedCheck = cpu.cycles + 2000;
    this.sleeping = false;
    while (cpu.cycles < until) {
      let op = prog[cpu.pc];
      avrInstruction(cpu);
      if (op === SEI) {
        op = prog[cpu.pc];
        avrInstruction(cpu);
      }
      cpu.tick();
      if (op === SLEEP && this.quiet) {
        this.sleeping = true;
        if (stopWhenIdle) return true;
      } else this.sleeping = false;
      if (cpu.cycles >= nextFeedCheck) {
        if (this.rxQueue.length && !this.usart.rxBusy) this.feed();
        nextFeedCheck = cpu.cycles + 2000;
      }
    }
    return false;
  }

  /** Bytes transmitted since the last drain. */
  drainTx(): Uint8Array {
    const out = Uint8Array.from(this.txBytes);
    this.txBytes = [];
    return out;
  }
}
