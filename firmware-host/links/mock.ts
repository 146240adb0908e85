/**
 * An in-memory link for unit tests: whatever is written goes to a
 * `respond` function (a virtual board, or a script), whose answers come back
 * as received data on a later tick.
 */
import { Listeners, LinkError, type Link } from './link.js';

export type Responder = (written: Uint8Array, reply: (bytes: Uint8Array) => void) => void;

export class MockLink implements Link {
  readonly name: string;
  readonly timeoutScale = 1;
  private open_ = false;
  private readonly listeners = new Listeners();
  /** Everything written, for assertions. */
  readonly written: Uint8Array[] = [];

  constructor(
    private readonly respond: Responder,
    name = 'mock',
  ) {
    this.name = name;
  }

  get isOpen(): boolean {
    return this.open_;
  }

  async open(): Promise<void> {
    if (this.open_) throw new LinkError(`${this.name}: already open`);
    this.open_ = true;
  }

  async write(data: Uint8Array): Promise<void> {
    if (!this.open_) throw new LinkError(`${this.name}: not open`);
    this.written.push(Uint8Array.from(data));
    this.respond(Uint8Array.from(data), (bytes) => {
      setImmediate(() => {
        if (this.open_) this.listeners.emit(Uint8Array.from(bytes));
      });
    });
  }

  /** Inject bytes as if the board had sent them (e.g. garbage, or a BOOT frame). */
  inject(bytes: Uint8Array): void {
    setImmediate(() => {
      if (this.open_) this.listeners.emit(Uint8Array.from(bytes));
    });
  }

  onData(listener: (chunk: Uint8Array) => void): () => void {
    return this.listeners.add(listener);
  }

  async close(): Promise<void> {
    this.open_ = false;
    this.listeners.clear();
  }
}
