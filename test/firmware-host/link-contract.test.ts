/**
 * One contract suite for every Link implementation (see links/link.ts):
 * the mock, a serial port on @serialport/binding-mock, a serial port on a
 * socat pty pair, the emulated Uno running the real firmware, and a real
 * board when ULTRO_PORT names one (reported as skipped otherwise).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EmulatedUnoLink, FrameDecoder, MSG, MockLink, SerialLink, VirtualBoard, encodeFrame, encodeU32, virtualBoardResponder, type Link } from '../../firmware-host/index.js';
import { hasCommand } from '../../targets/index.js';
import { HAVE_AVR, buildUnoFirmware, mockSerialLink } from '../helpers/firmware.js';

const vb = () => new VirtualBoard({ nx: 2, nu: 1, modelHash32: 0x12345678, control: (_k, x) => ({ u: [x[0] - x[1]], cycles: 1000 }) });

/** Send frames and collect decoded replies until `count` arrive (or time runs out). */
async function exchange(link: Link, frames: Uint8Array[], count: number, timeoutMs = 20_000) {
  const dec = new FrameDecoder();
  const got: { type: number; seq: number; body: Uint8Array }[] = [];
  const off = link.onData((c) => {
    for (const e of dec.push(c)) if (e.kind === 'frame' && e.frame.type !== MSG.BOOT) got.push(e.frame);
  });
  const all = Uint8Array.from(frames.flatMap((f) => [...f]));
  await link.write(all);
  const t0 = Date.now();
  while (got.length < count && Date.now() - t0 < timeoutMs) await new Promise((r) => setTimeout(r, 5));
  off();
  return got;
}

let socat: ChildProcess | null = null;
let ptyDir = '';
let firmwareHex = '';
const HAVE_SOCAT = hasCommand('socat');

beforeAll(async () => {
  if (HAVE_AVR) firmwareHex = buildUnoFirmware(['policy']).build.hex!;
  if (HAVE_SOCAT) {
    ptyDir = mkdtempSync(join(tmpdir(), 'ultro-pty-'));
    socat = spawn('socat', ['-d', '-d', `pty,raw,echo=0,link=${ptyDir}/host`, `pty,raw,echo=0,link=${ptyDir}/board`], { stdio: 'ignore' });
    for (let i = 0; i < 100 && !(existsSync(`${ptyDir}/host`) && existsSync(`${ptyDir}/board`)); i++) await new Promise((r) => setTimeout(r, 50));
  }
});
afterAll(() => {
  socat?.kill();
});

interface Case {
  name: string;
  skip: false | string;
  make: () => Promise<{ link: Link; cleanup?: () => Promise<void> }>;
}

const cases: Case[] = [
  { name: 'MockLink', skip: false, make: async () => ({ link: new MockLink(virtualBoardResponder(vb())) }) },
  { name: 'SerialLink on @serialport/binding-mock', skip: false, make: async () => ({ link: mockSerialLink(vb()) }) },
  {
    name: 'SerialLink on a socat pty pair',
    skip: HAVE_SOCAT ? false : 'socat is not installed',
    make: async () => {
      // The board side: the other pty, answered by a virtual board.
      const board = vb();
      const far = new SerialLink(`${ptyDir}/board`, { baudRate: 115200 });
      await far.open();
      far.onData((c) => {
        const out = board.receive(c);
        if (out.length) void far.write(out);
      });
      return { link: new SerialLink(`${ptyDir}/host`, { baudRate: 115200 }), cleanup: () => far.close() };
    },
  },
  { name: 'EmulatedUnoLink (real firmware on avr8js)', skip: HAVE_AVR ? false : 'avr-gcc is not installed', make: async () => ({ link: new EmulatedUnoLink(firmwareHex) }) },
  {
    name: `SerialLink on a real board (${process.env.ULTRO_PORT ?? 'ULTRO_PORT unset'})`,
    skip: process.env.ULTRO_PORT ? false : 'set ULTRO_PORT=/dev/ttyACM0 to run against a board with the Ultro firmware',
    make: async () => ({ link: new SerialLink(process.env.ULTRO_PORT!, { baudRate: 115200 }) }),
  },
];

for (const c of cases) {
  describe.skipIf(c.skip)(`Link contract: ${c.name}`, () => {
    it('delivers written bytes and receives replies in order (PING → PONG)', async () => {
      const { link, cleanup } = await c.make();
      await link.open();
      expect(link.isOpen).toBe(true);
      const got = await exchange(link, [encodeFrame(MSG.PING, 1, encodeU32(0xcafe))], 1);
      expect(got.map((f) => [f.type, f.seq])).toEqual([[MSG.PONG, 1]]);
      await link.close();
      expect(link.isOpen).toBe(false);
      await cleanup?.();
    });
    it('answers 20 back-to-back requests, in order', async () => {
      const { link, cleanup } = await c.make();
      await link.open();
      const frames = Array.from({ length: 20 }, (_, i) => encodeFrame(MSG.PING, 10 + i, encodeU32(i)));
      const got = await exchange(link, frames, 20);
      expect(got.map((f) => f.seq)).toEqual(Array.from({ length: 20 }, (_, i) => 10 + i));
      await link.close();
      await cleanup?.();
    });
    it('rejects writes before open and after close; opening twice rejects; close is idempotent', async () => {
      const { link, cleanup } = await c.make();
      await expect(link.write(Uint8Array.of(0))).rejects.toThrow(/not open/);
      await link.open();
      await expect(link.open()).rejects.toThrow(/already open/);
      await link.close();
      await link.close();
      await expect(link.write(Uint8Array.of(0))).rejects.toThrow(/not open/);
      await cleanup?.();
    });
    it('calls no listener after close, and onData returns an unsubscribe', async () => {
      const { link, cleanup } = await c.make();
      await link.open();
      let afterClose = 0;
      let removed = 0;
      const off = link.onData(() => removed++);
      off();
      await exchange(link, [encodeFrame(MSG.PING, 2, encodeU32(1))], 1);
      expect(removed).toBe(0);
      link.onData(() => afterClose++);
      await link.write(encodeFrame(MSG.PING, 3, encodeU32(2)));
      await link.close();
      const before = afterClose;
      await new Promise((r) => setTimeout(r, 200));
      expect(afterClose).toBe(before);
      await cleanup?.();
    });
  });
}
