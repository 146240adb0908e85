/**
 * One byte-stream interface to a board, whatever carries the bytes: a real
 * serial port, the emulated Uno, or an in-memory mock. The device and HIL
 * layers cannot tell them apart.
 *
 * Contract (tested by test/firmware-host/link-contract.test.ts against every
 * implementation):
 *  - `open()` resolves once bytes can be written; it rejects with an error
 *    naming the device if it cannot be opened. Opening an open link rejects.
 *  - `write()` before `open()` or after `close()` rejects; bytes written are
 *    delivered to the board in order.
 *  - Bytes from the board reach every `onData` listener in order, in chunks of
 *    any size (a frame may be split across chunks or share one with others).
 *    `onData` returns a function that removes the listener.
 *  - `close()` resolves once the link is released; no listener is called
 *    after it resolves. Closing a closed link is a no-op.
 *  - `timeoutScale` says how much slower than real time the board may run
 *    (1 for real hardware); device-level timeouts are multiplied by it.
 */
export interface Link {
  readonly name: string;
  readonly isOpen: boolean;
  readonly timeoutScale: number;
  open(): Promise<void>;
  write(data: Uint8Array): Promise<void>;
  onData(listener: (chunk: Uint8Array) => void): () => void;
  close(): Promise<void>;
}

export class LinkError extends Error {}

/** Listener bookkeeping shared by the implementations. */
export class Listeners {
  private readonly set = new Set<(chunk: Uint8Array) => void>();
  add(l: (chunk: Uint8Array) => void): () => void {
    this.set.add(l);
    return () => this.set.delete(l);
  }
  emit(chunk: Uint8Array): void {
    if (chunk.length === 0) return;
    for (const l of [...this.set]) l(chunk);
  }
  clear(): void {
    this.set.clear();
  }
}

/** An async iterator over a link's received chunks (ends when the link closes or `stop` is called). */
export function chunks(link: Link): AsyncIterableIterator<Uint8Array> & { stop(): void } {
  const queue: Uint8Array[] = [];
  let wake: (() => void) | null = null;
  let done = false;
  const off = link.onData((c) => {
    queue.push(c);
    wake?.();
  });
  const it = {
    stop() {
      done = true;
      off();
      wake?.();
    },
    async next(): Promise<IteratorResult<Uint8Array>> {
      while (!queue.length && !done && link.isOpen) await new Promise<void>((r) => (wake = r));
      wake = null;
      if (queue.length) return { value: queue.shift()!, done: false };
      return { value: undefined, done: true };
    },
    [Symbol.asyncIterator]() {
      return it;
    },
  };
  return it as AsyncIterableIterator<Uint8Array> & { stop(): void };
}
