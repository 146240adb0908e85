/**
 * The emulated Uno on its own thread: the EmulatedUnoLink sends received
 * bytes and control messages; this thread runs the CPU until the firmware is
 * idle and posts transmitted bytes back. Two emulated boards then use two cores.
 */
import { parentPort } from 'node:worker_threads';
import { UnoEmulator, type UnoOptions } from './uno.js';

type Msg = { init: { program: Uint16Array; opts: UnoOptions; slice: number } } | { rx: Uint8Array } | { pause: true } | { resume: true } | { reset: true } | { stop: true };

let emu: UnoEmulator | null = null;
let slice = 200_000;
let paused = false;
let running = false;
let scheduled = false;

function kick(): void {
  if (scheduled || paused || !running || !emu) return;
  scheduled = true;
  setImmediate(step);
}

function step(): void {
  scheduled = false;
  if (!emu || paused || !running) return;
  const idle = emu.runUntil(emu.cycles + slice, true);
  const tx = emu.drainTx();
  if (tx.length) parentPort!.postMessage({ tx, cycles: emu.cycles }, [tx.buffer as ArrayBuffer]);
  if (idle) {
    running = false;
    parentPort!.postMessage({ idle: true, cycles: emu.cycles });
    return;
  }
  kick();
}

parentPort!.on('message', (m: Msg) => {
  if ('init' in m) {
    slice = m.init.slice;
    emu = new UnoEmulator(m.init.program, m.init.opts);
    running = true;
  } else if ('rx' in m) {
    emu?.receive(m.rx);
    running = true;
  } else if ('pause' in m) paused = true;
  else if ('resume' in m) paused = false;
  else if ('reset' in m) {
    emu?.boot();
    running = true;
  } else if ('stop' in m) {
    emu = null;
    running = false;
    return;
  }
  kick();
});
