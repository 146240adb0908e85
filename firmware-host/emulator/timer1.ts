/**
 * A lazy Timer1 for the emulated ATmega328P, normal mode only (the mode the
 * firmware's cycle counter uses). TCNT1 is computed from the CPU's cycle
 * count when it is read, and the overflow interrupt is one clock event per
 * overflow, instead of avr8js's AVRTimer rescheduling an event every counted
 * cycle at prescaler 1 (which runs the emulator at roughly a third of its
 * speed). The stock AVRTimer stays selectable, and the tests check both give
 * the same cycle counts.
 */
import type { CPU } from 'avr8js';

const TCCR1A = 0x80,
  TCCR1B = 0x81,
  TCNT1L = 0x84,
  TCNT1H = 0x85,
  TIMSK1 = 0x6f,
  TIFR1 = 0x36;
const OVF = { address: 0x1a, flagRegister: TIFR1, flagMask: 1, enableRegister: TIMSK1, enableMask: 1 };
const DIVIDERS = [0, 1, 8, 64, 256, 1024, 0, 0];

export class LazyTimer1 {
  private divider = 0;
  /** CPU cycle at which TCNT1 was 0 (while running). */
  private base = 0;
  /** TCNT1 while stopped. */
  private held = 0;
  private temp = 0;
  private readonly onOverflow = () => this.overflow();

  constructor(private readonly cpu: CPU) {
    cpu.readHooks[TCNT1L] = () => {
      const t = this.tcnt();
      cpu.data[TCNT1H] = t >> 8; // reading the low byte latches the high byte (TEMP register)
      return (cpu.data[TCNT1L] = t & 0xff);
    };
    cpu.writeHooks[TCNT1H] = (v) => {
      this.temp = v;
      return true;
    };
    cpu.writeHooks[TCNT1L] = (v) => {
      this.setTcnt((this.temp << 8) | v);
      return true;
    };
    cpu.writeHooks[TCCR1A] = (v) => {
      if (v & 0x03) throw new Error('emulated Timer1: only normal mode (WGM = 0) is modelled');
      cpu.data[TCCR1A] = v;
      return true;
    };
    cpu.writeHooks[TCCR1B] = (v) => {
      if (v & 0x18) throw new Error('emulated Timer1: only normal mode (WGM = 0) is modelled');
      const t = this.tcnt();
      cpu.data[TCCR1B] = v;
      this.divider = DIVIDERS[v & 7];
      this.setTcnt(t);
      return true;
    };
    cpu.writeHooks[TIMSK1] = (v) => {
      cpu.data[TIMSK1] = v;
      cpu.updateInterruptEnable(OVF, v);
      return true;
    };
    cpu.writeHooks[TIFR1] = (v) => {
      cpu.clearInterruptByFlag(OVF, v);
      return true;
    };
  }

  tcnt(): number {
    if (!this.divider) return this.held;
    return Math.floor((this.cpu.cycles - this.base) / this.divider) % 65536;
  }

  private setTcnt(t: number): void {
    this.cpu.clearClockEvent(this.onOverflow);
    if (!this.divider) {
      this.held = t;
      return;
    }
    this.base = this.cpu.cycles - t * this.divider;
    this.schedule();
  }

  private schedule(): void {
    const period = 65536 * this.divider;
    const elapsed = (this.cpu.cycles - this.base) % period;
    this.cpu.addClockEvent(this.onOverflow, period - elapsed);
  }

  private overflow(): void {
    this.cpu.setInterruptFlag(OVF);
    this.schedule();
  }
}
