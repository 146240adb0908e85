/**
 * A real serial port through npm `serialport`. The same class drives the
 * @serialport/binding-mock port in tests (pass `binding`).
 */
import { SerialPortStream } from '@serialport/stream';
import { autoDetect } from '@serialport/bindings-cpp';
import { Listeners, LinkError, type Link } from './link.js';

export interface SerialLinkOptions {
  baudRate: number;
  /** A serialport BindingInterface; default: the native binding for this OS. */
  binding?: unknown;
}

export class SerialLink implements Link {
  readonly name: string;
  readonly timeoutScale = 1;
  private port: SerialPortStream | null = null;
  private readonly listeners = new Listeners();

  constructor(
    readonly path: string,
    private readonly opts: SerialLinkOptions,
  ) {
    this.name = `serial ${path} @${opts.baudRate}`;
  }

  get isOpen(): boolean {
    return !!this.port?.isOpen;
  }

  async open(): Promise<void> {
    if (this.port) throw new LinkError(`${this.name}: already open`);
    const binding = this.opts.binding ?? autoDetect();
    const port = new SerialPortStream({ binding, path: this.path, baudRate: this.opts.baudRate, autoOpen: false } as ConstructorParameters<typeof SerialPortStream>[0]);
    await new Promise<void>((resolve, reject) => port.open((err) => (err ? reject(new LinkError(`cannot open ${this.path}: ${err.message}`)) : resolve())));
    port.on('data', (chunk: Buffer) => this.listeners.emit(new Uint8Array(chunk)));
    port.on('error', () => {
      /* surfaced to the device as a timeout; the port closes */
    });
    this.port = port;
  }

  async write(data: Uint8Array): Promise<void> {
    const port = this.port;
    if (!port || !port.isOpen) throw new LinkError(`${this.name}: not open`);
    await new Promise<void>((resolve, reject) => {
      port.write(Buffer.from(data), (err) => (err ? reject(new LinkError(`${this.name}: write failed: ${err.message}`)) : undefined));
      port.drain((err) => (err ? reject(new LinkError(`${this.name}: drain failed: ${err.message}`)) : resolve()));
    });
  }

  onData(listener: (chunk: Uint8Array) => void): () => void {
    return this.listeners.add(listener);
  }

  async close(): Promise<void> {
    const port = this.port;
    this.port = null;
    this.listeners.clear();
    if (port?.isOpen) await new Promise<void>((resolve) => port.close(() => resolve()));
  }
}

/**
 * Serial ports present on this machine. `SerialPort.list()` crashes the process
 * where udevadm is absent (HIL-NOTES), so this catches everything and falls
 * back to the usual device paths.
 */
export async function listSerialPorts(): Promise<string[]> {
  try {
    const ports = await autoDetect().list();
    return ports.map((p) => p.path);
  } catch {
    const { readdirSync } = await import('node:fs');
    try {
      return readdirSync('/dev')
        .filter((f) => /^tty(ACM|USB)\d+$/.test(f))
        .map((f) => `/dev/${f}`);
    } catch {
      return [];
    }
  }
}
