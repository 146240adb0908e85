import { describe, expect, it } from 'vitest';
import { Rng } from '../../sim/index.js';
import { FrameDecoder, MSG, cobsDecode, cobsEncode, crc16, decodeHello, decodeStepReply, encodeFrame, encodeStep, type DecodeEvent } from '../../firmware-host/index.js';
import { readRuntime } from '../../codegen/emit-c.js';
import { compileHost, runLines, writeFiles } from '../helpers/c.js';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const frames = (evs: DecodeEvent[]) => evs.filter((e) => e.kind === 'frame').map((e) => (e as { frame: { type: number; seq: number; body: Uint8Array } }).frame);

describe('CRC-16/CCITT-FALSE and COBS', () => {
  it('CRC of "123456789" is the standard check value 0x29B1', () => {
    expect(crc16(new TextEncoder().encode('123456789'))).toBe(0x29b1);
  });
  it('COBS round-trips any bytes and never emits 0x00', () => {
    const rng = new Rng(1);
    for (let t = 0; t < 500; t++) {
      const n = rng.int(600);
      const data = Uint8Array.from({ length: n }, () => (rng.next() < 0.3 ? 0 : rng.int(256)));
      const enc = cobsEncode(data);
      expect(enc.includes(0)).toBe(false);
      expect(Array.from(cobsDecode(enc)!)).toEqual(Array.from(data));
    }
    // the classic examples (Cheshire & Baker)
    expect(hex(cobsEncode(Uint8Array.of(0x00)))).toBe('0101');
    expect(hex(cobsEncode(Uint8Array.of(0x11, 0x22, 0x00, 0x33)))).toBe('03112202' + '33');
    expect(cobsEncode(Uint8Array.from({ length: 254 }, (_, i) => i + 1))[0]).toBe(0xff);
  });
});

describe('frames', () => {
  const samples = () => [
    encodeFrame(MSG.HELLO_REQ, 1),
    encodeFrame(MSG.STEP, 200, encodeStep('policy', [1.5, -0.25])),
    encodeFrame(MSG.STEP, 7, encodeStep('mpc', [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0])),
    encodeFrame(MSG.PING, 0, Uint8Array.of(0, 0, 0, 0)),
  ];
  it('round-trip through the streaming decoder, also one byte at a time', () => {
    const all = samples();
    const d = new FrameDecoder();
    const got = frames(all.flatMap((f) => [...f].flatMap((b) => d.push(Uint8Array.of(b)))));
    expect(got.map((f) => [f.type, f.seq])).toEqual([
      [MSG.HELLO_REQ, 1],
      [MSG.STEP, 200],
      [MSG.STEP, 7],
      [MSG.PING, 0],
    ]);
    expect(Array.from(got[1].body)).toEqual(Array.from(encodeStep('policy', [1.5, -0.25])));
  });
  it('every single-bit flip of a sample frame is detected (never a wrong frame)', () => {
    let checked = 0;
    for (const f of samples()) {
      const want = frames(new FrameDecoder().push(f))[0];
      for (let i = 0; i < f.length; i++)
        for (let bit = 0; bit < 8; bit++) {
          const g = Uint8Array.from(f);
          g[i] ^= 1 << bit;
          // A flipped frame, then two clean ones. The flip must be reported and must never
          // produce a wrong frame. (A flipped delimiter merges the next frame into the bad one,
          // so only the frame after that is guaranteed to decode.)
          const evs = new FrameDecoder().push(Uint8Array.from([...g, ...f, ...f]));
          const fr = frames(evs);
          const bad = fr.filter((x) => !(x.type === want.type && x.seq === want.seq && hex(x.body) === hex(want.body)));
          expect(bad).toEqual([]);
          expect(evs[0].kind).toBe('error');
          expect(evs[evs.length - 1].kind).toBe('frame');
          checked++;
        }
    }
    expect(checked).toBeGreaterThan(500);
  });
  it('every truncation of a sample frame is detected', () => {
    for (const f of samples())
      for (let cut = 1; cut < f.length - 1; cut++) {
        const truncated = Uint8Array.from([...f.slice(0, cut), 0]);
        const evs = new FrameDecoder().push(truncated);
        expect(frames(evs)).toEqual([]);
        expect(evs.filter((e) => e.kind === 'error')).toHaveLength(1);
      }
  });
  it('random garbage between frames is skipped and the decoder resynchronises', () => {
    const rng = new Rng(5);
    const d = new FrameDecoder();
    let good = 0;
    let n = 0;
    for (let t = 0; t < 300; t++) {
      const garbage = Uint8Array.from({ length: rng.int(40) }, () => rng.int(256));
      const f = encodeFrame(MSG.PING, t & 0xff, Uint8Array.of(1, 2, 3, t & 0xff));
      // the garbage may swallow the frame's start only if it contains no 0x00; add one to delimit it
      const evs = d.push(Uint8Array.from([...garbage, 0, ...f]));
      const fr = frames(evs);
      n++;
      if (fr.some((x) => x.type === MSG.PING && x.seq === (t & 0xff))) good++;
      expect(fr.every((x) => x.type === MSG.PING && x.seq === (t & 0xff))).toBe(true);
    }
    expect(good).toBe(n);
  });
  it('bodies are validated with the field named', () => {
    expect(() => decodeHello(Uint8Array.of(1, 2))).toThrow(/HELLO: truncated at field firmware version/);
    expect(() => decodeStepReply(new Uint8Array(5), 2)).toThrow(/STEP reply: unknown controller 0/);
  });
});

describe('the firmware C agrees with the host implementation byte for byte', () => {
  it('encodes the same frames and decodes host frames, flips and truncations alike', () => {
    const dir = writeFiles({ 'ultro_wire.c': readRuntime('ultro_wire.c'), 'ultro_wire.h': readRuntime('ultro_wire.h') });
    const exe = compileHost(dir, ['ultro_wire.c'], [`${process.cwd()}/test/c/wire_harness.c`]);
    const rng = new Rng(9);
    const cases = Array.from({ length: 200 }, () => ({ type: rng.int(256), seq: rng.int(256), body: Uint8Array.from({ length: rng.int(80) }, () => (rng.next() < 0.2 ? 0 : rng.int(256))) }));
    const out = runLines(
      exe,
      cases.map((c) => `E ${c.type} ${c.seq} ${hex(c.body) || '-'}`),
    );
    cases.forEach((c, i) => expect(out[i]).toBe(hex(encodeFrame(c.type, c.seq, c.body))));
    // decode: a good frame, a flipped one, a truncated one, garbage
    const f = encodeFrame(MSG.STEP, 3, encodeStep('policy', [1, 2]));
    const flipped = Uint8Array.from(f);
    flipped[4] ^= 0x10;
    const stream = Uint8Array.from([...f, ...flipped, ...f.slice(0, 6), 0, 9, 9, 9, 0, ...f]);
    const dec = runLines(exe, [`D ${hex(stream)}`]);
    expect(dec[0]).toBe(`F ${hex(Uint8Array.from([MSG.STEP, 3, ...encodeStep('policy', [1, 2])]))}`);
    expect(dec.slice(1, -2).every((l) => l.startsWith('X '))).toBe(true);
    expect(dec.slice(1, -2)).toHaveLength(3);
    expect(dec[dec.length - 2]).toBe(dec[0]);
  });
});
