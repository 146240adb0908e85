/**
 * The real firmware (.hex from `ultro build --target uno`) running on an
 * emulated ATmega328P (avr8js). Bytes written are fed to USART0 at the
 * configured baud rate in emulated time; bytes the firmware transmits come
 * back as data events.
 *
 * The CPU runs in slices (setImmediate between them) so the event loop stays
 * responsive. When the firmware sleeps with nothing to read (it executes
 * SLEEP in its idle loop, as on the real board), the emulator stops until the
 * next write, so an idle link costs nothing and a long computation is never
 * cut short. `pause()` freezes it (a stalled board) and `resetBoard()`
 * reboots the MCU (the firmware then announces itself with a BOOT frame).
 */
import { readFileSync } from 'node:fs';
import { UNO_CPU_HZ, UnoEmulator, programFromHex, type UnoOptions } from '../emulator/uno.js';
import { Listeners, LinkError, type Link } from './link.js';

export interface EmulatedUnoOptions extends UnoOptions {
  /** Cycles per slice (default 200,000 ≈ 12.5 ms of Uno time). */
  sliceCycles?: number;
}

export class EmulatedUnoLink implements Link {
  readonly name: string;
  /** avr8js runs the Uno at roughly 0.5–2× real time on this machine kind; allow for the slow end. */
  readonly timeoutScale = 4;
  readonly cpuHz = UNO_CPU_HZ;
  private emu: UnoEmulator | null = null;
  private readonly listeners = new Listeners();
  private running = false;
  private paused = false;
  private scheduled = false;
  private readonly program: Uint16Array;

  /** @param hex Intel HEX text, or a path to a .hex file */
  constructor(
    hex: string,
    private readonly opts: EmulatedUnoOptions = {},
  ) {
    const isText = hex.trimStart().startsWith(':');
    const text = isText ? hex : readFileSync(hex, 'utf8');
    this.program = programFromHex(text, isText ? 'firmware image' : hex);
    this.name = `emulated Uno${isText ? '' : ` (${hex})`}`;
  }

  get isOpen(): boolean {
    return this.emu !== null;
  }

  /** Emulated cycles since the last boot. */
  get cycles(): number {
    return this.emu?.cycles ?? 0;
  }

  async open(): Promise<void> {
    if (this.emu) throw new LinkError(`${this.name}: already open`);
    this.emu = new UnoEmulator(this.program, this.opts);
    this.running = true; // run the boot code (it sends BOOT)
    this.kick();
  }

  async write(data: Uint8Array): Promise<void> {
    if (!this.emu) throw new LinkError(`${this.name}: not open`);
    this.emu.receive(data);
    this.running = true;
    this.kick();
  }

  onData(listener: (chunk: Uint8Array) => void): () => void {
    return this.listeners.add(listener);
  }

  async close(): Promise<void> {
    this.emu = null;
    this.running = false;
    this.listeners.clear();
  }

  /** Freeze the CPU (the board stops answering) until resume(). */
  pause(): void {
    this.paused = true;
  }

  resume(): void {
    this.paused = false;
    this.kick();
  }

  /** Reboot the MCU, as a reset button or a brown-out would. */
  resetBoard(): void {
    if (!this.emu) throw new LinkError(`${this.name}: not open`);
    this.emu.boot();
    this.running = true;
    this.kick();
  }

  private kick(): void {
    if (this.scheduled || this.paused || !this.running || !this.emu) return;
    this.scheduled = true;
    setImmediate(() => this.slice());
  }

  private slice(): void {
    this.scheduled = false;
    const emu = this.emu;
    if (!emu || this.paused || !this.running) return;
    const slice = this.opts.sliceCycles ?? 200_000;
    const idle = emu.runUntil(emu.cycles + slice, true);
    const tx = emu.drainTx();
    if (tx.length) this.listeners.emit(tx);
    if (idle) {
      this.running = false;
      return;
    }
    this.kick();
  }
}
