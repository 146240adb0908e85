/**
 * The Ultro wire protocol, host side (spec: docs/wire-protocol.md; firmware
 * side: codegen/runtime/ultro_wire.c).
 *
 * Frame = COBS(payload) 0x00; payload = type u8 | seq u8 | body | crc16 u16 LE,
 * CRC-16/CCITT-FALSE over type, seq and body. Little endian; floats binary32.
 * A corrupted, truncated or unexpected frame is detected and reported, never
 * acted on; the decoder resynchronises at the next 0x00.
 */
export const WIRE_VERSION = 2;
export const MAX_PAYLOAD = 96;

export const MSG = {
  HELLO_REQ: 0x01,
  PING: 0x02,
  STEP: 0x03,
  RESET_MPC: 0x04,
  STATS_REQ: 0x05,
  BOOT: 0x80,
  HELLO: 0x81,
  PONG: 0x82,
  STEP_REPLY: 0x83,
  ACK: 0x84,
  STATS: 0x85,
  ERROR: 0xee,
} as const;

export const ERR = { CRC: 1, LENGTH: 2, TYPE: 3, CONTROLLER: 4, OVERFLOW: 5, COBS: 6, NONFINITE_STATE: 7, NONFINITE_RESULT: 8 } as const;
export const ERR_NAMES: Record<number, string> = {
  1: 'bad CRC',
  2: 'bad length',
  3: 'unknown type',
  4: 'controller not in this firmware',
  5: 'frame too long',
  6: 'bad COBS encoding',
  7: 'non-finite state (NaN or ±Inf): nothing was run',
  8: 'non-finite controller result: no control sent, MPC warm start cleared',
};
/** Error codes the firmware counts in STATS (1 … ERR_COUNT − 1). */
export const ERR_COUNT = 9;

/**
 * STEP reply status: the controller's status in the low nibble, flags above.
 * ITER_CAP: the MPC stopped at its iteration cap (the control is its last
 * iterate). CLAMPED: the state was outside the policy's trained domain (the
 * control is for the state clamped to it). FILTERED: the policy's one-step
 * safety filter moved the network's control.
 */
export const STATUS = { OK: 0, ITER_CAP: 1, CLAMPED: 0x10, FILTERED: 0x20 } as const;

/** The status byte in words ("ok", "iteration cap", "state outside the domain, clamped"). */
export function describeStatus(s: number): string {
  const parts: string[] = [];
  const code = s & 0x0f;
  parts.push(code === STATUS.OK ? 'ok' : code === STATUS.ITER_CAP ? 'iteration cap' : `status ${code}`);
  if (s & STATUS.CLAMPED) parts.push('state outside the domain, clamped');
  if (s & STATUS.FILTERED) parts.push('moved by the safety filter');
  if (s & 0xc0) parts.push(`unknown flags 0x${(s & 0xc0).toString(16)}`);
  return parts.join(', ');
}

export const CONTROLLER = { policy: 1, mpc: 2 } as const;
export type ControllerKind = keyof typeof CONTROLLER;

export class ProtocolError extends Error {}

export function crc16(p: Uint8Array, n = p.length): number {
  let crc = 0xffff;
  for (let i = 0; i < n; i++) {
    crc ^= p[i] << 8;
    for (let b = 0; b < 8; b++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
  }
  return crc;
}

export function cobsEncode(input: Uint8Array): Uint8Array {
  const out = new Uint8Array(input.length + Math.ceil(input.length / 254) + 1);
  let write = 1,
    codeAt = 0,
    code = 1;
  for (let read = 0; read < input.length; read++) {
    if (input[read] === 0) {
      out[codeAt] = code;
      code = 1;
      codeAt = write++;
    } else {
      out[write++] = input[read];
      code++;
      if (code === 0xff) {
        out[codeAt] = code;
        code = 1;
        codeAt = write++;
      }
    }
  }
  out[codeAt] = code;
  return out.slice(0, write);
}

/** Decode a COBS block (no delimiter); null when malformed. */
export function cobsDecode(input: Uint8Array): Uint8Array | null {
  const out = new Uint8Array(input.length);
  let read = 0,
    write = 0;
  while (read < input.length) {
    const code = input[read++];
    if (code === 0) return null;
    for (let i = 1; i < code; i++) {
      if (read >= input.length || input[read] === 0) return null;
      out[write++] = input[read++];
    }
    if (code !== 0xff && read < input.length) out[write++] = 0;
  }
  return out.slice(0, write);
}

/** A complete frame on the wire: COBS(type, seq, body, crc) followed by 0x00. */
export function encodeFrame(type: number, seq: number, body: Uint8Array = new Uint8Array(0)): Uint8Array {
  if (body.length + 4 > MAX_PAYLOAD) throw new ProtocolError(`frame body of ${body.length} bytes exceeds the ${MAX_PAYLOAD - 4}-byte limit`);
  const p = new Uint8Array(body.length + 4);
  p[0] = type & 0xff;
  p[1] = seq & 0xff;
  p.set(body, 2);
  const crc = crc16(p, body.length + 2);
  p[body.length + 2] = crc & 0xff;
  p[body.length + 3] = crc >> 8;
  const enc = cobsEncode(p);
  const frame = new Uint8Array(enc.length + 1);
  frame.set(enc);
  return frame;
}

export interface Frame {
  type: number;
  seq: number;
  body: Uint8Array;
}

export type DecodeEvent = { kind: 'frame'; frame: Frame } | { kind: 'error'; error: string; raw: Uint8Array };

/**
 * Streaming decoder: push any chunk of bytes, get frames and errors. Garbage
 * between frames produces an error for the garbage and resynchronises at the
 * next 0x00; an empty frame (0x00 0x00) is ignored.
 */
export class FrameDecoder {
  private buf: number[] = [];
  private overflow = false;

  push(chunk: Uint8Array): DecodeEvent[] {
    const events: DecodeEvent[] = [];
    for (const b of chunk) {
      if (b !== 0) {
        if (this.buf.length < 2 * MAX_PAYLOAD) this.buf.push(b);
        else this.overflow = true;
        continue;
      }
      const raw = Uint8Array.from(this.buf);
      const over = this.overflow;
      this.buf = [];
      this.overflow = false;
      if (over) {
        events.push({ kind: 'error', error: 'frame too long', raw });
        continue;
      }
      if (raw.length === 0) continue;
      const p = cobsDecode(raw);
      if (!p) {
        events.push({ kind: 'error', error: 'bad COBS encoding', raw });
        continue;
      }
      if (p.length < 4) {
        events.push({ kind: 'error', error: `frame of ${p.length} bytes is shorter than the 4-byte minimum`, raw });
        continue;
      }
      if (p.length > MAX_PAYLOAD) {
        events.push({ kind: 'error', error: `frame of ${p.length} bytes exceeds ${MAX_PAYLOAD}`, raw });
        continue;
      }
      const crc = p[p.length - 2] | (p[p.length - 1] << 8);
      if (crc16(p, p.length - 2) !== crc) {
        events.push({ kind: 'error', error: 'bad CRC', raw });
        continue;
      }
      events.push({ kind: 'frame', frame: { type: p[0], seq: p[1], body: p.slice(2, p.length - 2) } });
    }
    return events;
  }
}

// ---- message bodies ------------------------------------------------------

class Reader {
  private o = 0;
  private readonly dv: DataView;
  constructor(
    private readonly b: Uint8Array,
    private readonly what: string,
  ) {
    this.dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  }
  need(n: number, field: string) {
    if (this.o + n > this.b.length) throw new ProtocolError(`${this.what}: truncated at field ${field} (body has ${this.b.length} bytes)`);
  }
  u8(f: string) {
    this.need(1, f);
    return this.b[this.o++];
  }
  i8(f: string) {
    this.need(1, f);
    return this.dv.getInt8(this.o++);
  }
  u16(f: string) {
    this.need(2, f);
    const v = this.dv.getUint16(this.o, true);
    this.o += 2;
    return v;
  }
  i16(f: string) {
    this.need(2, f);
    const v = this.dv.getInt16(this.o, true);
    this.o += 2;
    return v;
  }
  u32(f: string) {
    this.need(4, f);
    const v = this.dv.getUint32(this.o, true);
    this.o += 4;
    return v;
  }
  f32(f: string) {
    this.need(4, f);
    const v = this.dv.getFloat32(this.o, true);
    this.o += 4;
    return v;
  }
  end() {
    if (this.o !== this.b.length) throw new ProtocolError(`${this.what}: ${this.b.length - this.o} unexpected trailing bytes`);
  }
}

export interface Hello {
  wireVersion: number;
  firmwareVersion: number;
  controllers: { policy: boolean; mpc: boolean };
  modelHash32: number;
  cpuHz: number;
  nx: number;
  nu: number;
  actBits: number;
  inFrac: number;
  outFrac: number;
  mpcHorizon: number;
  mpcMaxIterations: number;
  /** Cost of one cycle-counter read, already subtracted from reported cycles. */
  timerOverhead: number;
}

export function decodeHello(body: Uint8Array): Hello {
  const r = new Reader(body, 'HELLO');
  const wireVersion = r.u8('wire version');
  const firmwareVersion = r.u16('firmware version');
  const c = r.u8('controllers');
  const h: Hello = {
    wireVersion,
    firmwareVersion,
    controllers: { policy: (c & 1) !== 0, mpc: (c & 2) !== 0 },
    modelHash32: r.u32('model hash'),
    cpuHz: r.u32('cpu hz'),
    nx: r.u8('nx'),
    nu: r.u8('nu'),
    actBits: r.u8('activation bits'),
    inFrac: r.i8('input frac'),
    outFrac: r.i8('output frac'),
    mpcHorizon: r.u8('mpc horizon'),
    mpcMaxIterations: r.u16('mpc max iterations'),
    timerOverhead: r.u32('timer overhead'),
  };
  r.end();
  return h;
}

export function encodeStep(controller: ControllerKind, x: ArrayLike<number>): Uint8Array {
  const b = new Uint8Array(1 + 4 * x.length);
  const dv = new DataView(b.buffer);
  b[0] = CONTROLLER[controller];
  for (let i = 0; i < x.length; i++) dv.setFloat32(1 + 4 * i, x[i], true);
  return b;
}

export interface StepReply {
  controller: ControllerKind;
  status: number;
  cycles: number;
  coreCycles: number;
  iterations: number;
  stepsSinceBoot: number;
  u: number[];
  /** Policy only: the quantised state and control the board computed. */
  xq?: number[];
  uq?: number[];
}

export function decodeStepReply(body: Uint8Array, nx: number): StepReply {
  const r = new Reader(body, 'STEP reply');
  const c = r.u8('controller');
  const controller: ControllerKind | undefined = c === 1 ? 'policy' : c === 2 ? 'mpc' : undefined;
  if (!controller) throw new ProtocolError(`STEP reply: unknown controller ${c}`);
  const status = r.u8('status');
  const cycles = r.u32('cycles');
  const coreCycles = r.u32('core cycles');
  const iterations = r.u16('iterations');
  const stepsSinceBoot = r.u32('steps');
  const nu = r.u8('nu');
  const u = Array.from({ length: nu }, (_, j) => r.f32(`u[${j}]`));
  let xq: number[] | undefined, uq: number[] | undefined;
  if (controller === 'policy') {
    xq = Array.from({ length: nx }, (_, i) => r.i16(`xq[${i}]`));
    uq = Array.from({ length: nu }, (_, j) => r.i16(`uq[${j}]`));
  }
  r.end();
  return { controller, status, cycles, coreCycles, iterations, stepsSinceBoot, u, xq, uq };
}

export function encodeU32(v: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, v >>> 0, true);
  return b;
}

export function decodeU32Body(body: Uint8Array, what: string): number {
  const r = new Reader(body, what);
  const v = r.u32('value');
  r.end();
  return v;
}

export interface BoardError {
  code: number;
  name: string;
  offendingType: number;
  malformedTotal: number;
}

export function decodeError(body: Uint8Array): BoardError {
  const r = new Reader(body, 'ERROR');
  const code = r.u8('code');
  const offendingType = r.u8('offending type');
  const malformedTotal = r.u32('malformed count');
  r.end();
  return { code, name: ERR_NAMES[code] ?? `error ${code}`, offendingType, malformedTotal };
}

export interface Stats {
  framesOk: number;
  framesBad: number;
  badByCause: Record<string, number>;
  steps: number;
}

export function decodeStats(body: Uint8Array): Stats {
  const r = new Reader(body, 'STATS');
  const framesOk = r.u32('frames ok');
  const framesBad = r.u32('frames bad');
  const badByCause: Record<string, number> = {};
  for (let code = 1; code < ERR_COUNT; code++) badByCause[ERR_NAMES[code]] = r.u16(`count ${code}`);
  const steps = r.u32('steps');
  r.end();
  return { framesOk, framesBad, badByCause, steps };
}
