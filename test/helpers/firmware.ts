/** Firmware builds and link wrappers for the firmware-host tests. */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SerialPortMock } from 'serialport';
import { getBoard, hasCommand } from '../../targets/index.js';
import { buildModelFirmware, type ModelFirmware } from '../../pipeline/index.js';
import { Listeners, SerialLink, VirtualBoard, type Link } from '../../firmware-host/index.js';
import { fixtureModel } from './models.js';

export const HAVE_AVR = hasCommand('avr-gcc');

/** The real Uno firmware (policy + MPC) for the double-integrator fixture. */
export function buildUnoFirmware(controllers: ('policy' | 'mpc')[] = ['policy', 'mpc']): ModelFirmware {
  const dir = mkdtempSync(join(tmpdir(), 'ultro-fw-'));
  return buildModelFirmware(getBoard('uno'), fixtureModel(), dir, { controllers });
}

/**
 * Wraps a link and corrupts chosen frames: `corruptTx(n)` flips a bit in the
 * n-th frame written from now on, `corruptRx(n)` in the n-th chunk received.
 */
export class CorruptingLink implements Link {
  private readonly listeners = new Listeners();
  private txCountdown = -1;
  private rxCountdown = -1;
  corruptedTx = 0;
  corruptedRx = 0;
  constructor(readonly inner: Link) {
    inner.onData((c) => {
      if (this.rxCountdown >= 0 && this.rxCountdown-- === 0 && c.length > 2) {
        c = Uint8Array.from(c);
        c[1] ^= 0x04;
        this.corruptedRx++;
      }
      this.listeners.emit(c);
    });
  }
  get name() {
    return `corrupting(${this.inner.name})`;
  }
  get isOpen() {
    return this.inner.isOpen;
  }
  get timeoutScale() {
    return this.inner.timeoutScale;
  }
  corruptTx(n = 0) {
    this.txCountdown = n;
  }
  corruptRx(n = 0) {
    this.rxCountdown = n;
  }
  open() {
    return this.inner.open();
  }
  async write(data: Uint8Array) {
    if (this.txCountdown >= 0 && this.txCountdown-- === 0 && data.length > 2) {
      data = Uint8Array.from(data);
      data[2] ^= 0x20;
      this.corruptedTx++;
    }
    return this.inner.write(data);
  }
  onData(l: (c: Uint8Array) => void) {
    return this.listeners.add(l);
  }
  close() {
    return this.inner.close();
  }
}

/**
 * A SerialLink on a @serialport/binding-mock port with a VirtualBoard behind
 * it (writes are answered through the mock port's emitData). Per HIL-NOTES, the
 * mock binding must come from SerialPortMock, not a direct import.
 */
export function mockSerialLink(board: VirtualBoard, path = `/dev/ULTRO_MOCK_${Math.random().toString(36).slice(2)}`): SerialLink {
  SerialPortMock.binding.createPort(path, { echo: false, record: false });
  const link = new SerialLink(path, { baudRate: 115200, binding: SerialPortMock.binding });
  const open = link.open.bind(link);
  link.open = async () => {
    await open();
    // the binding's port object behind the stream
    const bp = (link as unknown as { port: { port: { isOpen: boolean; write(b: Buffer): Promise<void>; emitData(b: Buffer): void } } }).port.port;
    const write = bp.write.bind(bp);
    bp.write = async (b: Buffer) => {
      await write(b);
      const out = board.receive(new Uint8Array(b));
      if (out.length) setImmediate(() => bp.isOpen && bp.emitData(Buffer.from(out)));
    };
  };
  return link;
}
