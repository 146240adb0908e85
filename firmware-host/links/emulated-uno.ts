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
import { Worker } from 'node:worker_threads';
import { workerPath } from '../../sim/index.js';
import { UNO_CPU_HZ, UnoEmulator, programFromHex, type UnoOptions } from '../emulator/uno.js';
import { Listeners, LinkError, type Link } from './link.js';

export interface EmulatedUnoOptions extends UnoOptions {
  /** Cycles per slice (default 200,000 ≈ 12.5 ms of Uno time). */
  sliceCycles?: number;
  /** Run the emulator on its own worker thread (so several boards use several cores). Default false. */
  thread?: boolean;
}

export class EmulatedUnoLink implements Link {
  readonly name: string;
  /** avr8js runs the Uno at roughly 0.5–2× real time on this machine kind; allow for the slow end. */
  readonly timeoutScale = 4;
  readonly cpuHz = UNO_CPU_HZ;
  private emu: UnoEmulator | null = null;
  private worker: Worker | null = null;
  private workerCycles = 0;
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
    return this.emu !== null || this.worker !== null;
  }

  /** Emulated cycles since the last boot (on a worker: as of its last message). */
  get cycles(): number {
    return this.worker ? this.workerCycles : (this.emu?.cycles ?? 0);
  }

  async open(): Promise<void> {
    if (this.isOpen) throw new LinkError(`${this.name}: already open`);
    if (this.opts.thread) {
      const w = new Worker(workerPath('uno'));
      w.on('message', (m: { tx?: Uint8Array; cycles?: number }) => {
        if (m.cycles !== undefined) this.workerCycles = m.cycles;
        if (m.tx && this.worker) this.listeners.emit(m.tx);
      });
      w.unref();
      this.worker = w;
      const { timer } = this.opts;
      w.postMessage({ init: { program: this.program, opts: { timer }, slice: this.opts.sliceCycles ?? 200_000 } });
      return;
    }
    this.emu = new UnoEmulator(this.program, this.opts);
    this.running = true; // run the boot code (it sends BOOT)
    this.kick();
  }

  async write(data: Uint8Array): Promise<void> {
    if (!this.isOpen) throw new LinkError(`${this.name}: not open`);
    if (this.worker) {
      this.worker.postMessage({ rx: Uint8Array.from(data) });
      return;
    }
    this.emu!.receive(data);
    this.running = true;
    this.kick();
  }

  onData(listener: (chunk: Uint8Array) => void): () => void {
    return this.listeners.add(listener);
  }

  async close(): Promise<void> {
    const w = this.worker;
    this.worker = null;
    this.emu = null;
    this.running = false;
    this.listeners.clear();
    if (w) await w.terminate();
  }

  /** Freeze the CPU (the board stops answering) until resume(). */
  pause(): void {
    this.paused = true;
    this.worker?.postMessage({ pause: true });
  }

  resume(): void {
    this.paused = false;
    this.worker?.postMessage({ resume: true });
    this.kick();
  }

  /** Reboot the MCU, as a reset button or a brown-out would. */
  resetBoard(): void {
    if (!this.isOpen) throw new LinkError(`${this.name}: not open`);
    if (this.worker) {
      this.worker.postMessage({ reset: true });
      return;
    }
    this.emu!.boot();
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
