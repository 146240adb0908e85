/**
 * A protocol-level model of the firmware in TypeScript, for unit tests over
 * MockLink (and the serial-mock binding): it answers HELLO, PING, STEP,
 * RESET_MPC and STATS like ultro_fw.c, including ERROR frames for malformed
 * input and the cached reply for a retried sequence number. The controller
 * is any function; cycle counts are whatever `cycles` says.
 */
import { CONTROLLER, ERR, FrameDecoder, MSG, WIRE_VERSION, crc16, encodeFrame, type ControllerKind } from '../protocol.js';

export interface VirtualBoardOptions {
  nx: number;
  nu: number;
  modelHash32: number;
  cpuHz?: number;
  controllers?: ControllerKind[];
  control: (kind: ControllerKind, x: number[]) => { u: number[]; cycles: number; iterations?: number; status?: number; xq?: number[]; uq?: number[] };
}

export class VirtualBoard {
  private readonly dec = new FrameDecoder();
  /** The cached reply's request: sequence number, type and a checksum of its body (a retry matches all three). */
  private lastKey = '';
  private lastReply: Uint8Array | null = null;
  steps = 0;
  framesOk = 0;
  framesBad = 0;

  constructor(private readonly o: VirtualBoardOptions) {}

  /** The BOOT frame a freshly started board sends. */
  boot(): Uint8Array {
    this.lastKey = '';
    this.steps = 0;
    return encodeFrame(MSG.BOOT, 0, this.helloBody());
  }

  /** Bytes in from the host; returns the bytes the board sends back. */
  receive(bytes: Uint8Array): Uint8Array {
    const out: Uint8Array[] = [];
    for (const ev of this.dec.push(bytes)) {
      if (ev.kind === 'error') {
        this.framesBad++;
        out.push(this.error(0, ev.error.includes('CRC') ? ERR.CRC : ev.error.includes('COBS') ? ERR.COBS : ERR.LENGTH, 0));
        continue;
      }
      const { type, seq, body } = ev.frame;
      const key = `${seq}:${type}:${crc16(body)}`;
      if (key === this.lastKey && this.lastReply) {
        out.push(this.lastReply);
        continue;
      }
      this.lastKey = key;
      const reply = this.handle(type, seq, body);
      this.lastReply = reply;
      out.push(reply);
    }
    const n = out.reduce((s, b) => s + b.length, 0);
    const all = new Uint8Array(n);
    let o = 0;
    for (const b of out) {
      all.set(b, o);
      o += b.length;
    }
    return all;
  }

  private helloBody(): Uint8Array {
    const b = new Uint8Array(24);
    const dv = new DataView(b.buffer);
    const ctrl = this.o.controllers ?? ['policy', 'mpc'];
    b[0] = WIRE_VERSION;
    dv.setUint16(1, 0x0001, true);
    b[3] = (ctrl.includes('policy') ? 1 : 0) | (ctrl.includes('mpc') ? 2 : 0);
    dv.setUint32(4, this.o.modelHash32 >>> 0, true);
    dv.setUint32(8, this.o.cpuHz ?? 16_000_000, true);
    b[12] = this.o.nx;
    b[13] = this.o.nu;
    b[14] = 8;
    if (ctrl.includes('mpc')) {
      b[17] = 20; // MPC horizon
      dv.setUint16(18, 50, true); // iteration cap
    }
    return b;
  }

  private error(seq: number, code: number, type: number): Uint8Array {
    const b = new Uint8Array(6);
    b[0] = code;
    b[1] = type;
    new DataView(b.buffer).setUint32(2, this.framesBad, true);
    return encodeFrame(MSG.ERROR, seq, b);
  }

  private handle(type: number, seq: number, body: Uint8Array): Uint8Array {
    const { nx, nu } = this.o;
    switch (type) {
      case MSG.HELLO_REQ:
        this.framesOk++;
        return encodeFrame(MSG.HELLO, seq, this.helloBody());
      case MSG.PING:
        if (body.length !== 4) break;
        this.framesOk++;
        return encodeFrame(MSG.PONG, seq, body);
      case MSG.RESET_MPC:
        this.framesOk++;
        return encodeFrame(MSG.ACK, seq, Uint8Array.of(MSG.RESET_MPC));
      case MSG.STEP: {
        if (body.length !== 1 + 4 * nx) break;
        const kind: ControllerKind | undefined = body[0] === CONTROLLER.policy ? 'policy' : body[0] === CONTROLLER.mpc ? 'mpc' : undefined;
        if (!kind || !(this.o.controllers ?? ['policy', 'mpc']).includes(kind)) {
          this.framesBad++;
          return this.error(seq, ERR.CONTROLLER, type);
        }
        const dv = new DataView(body.buffer, body.byteOffset, body.byteLength);
        const x = Array.from({ length: nx }, (_, i) => dv.getFloat32(1 + 4 * i, true));
        if (x.some((v) => !Number.isFinite(v))) {
          this.framesBad++;
          return this.error(seq, ERR.NONFINITE_STATE, type);
        }
        const r = this.o.control(kind, x);
        if (r.u.some((v) => !Number.isFinite(v))) {
          this.framesBad++;
          return this.error(seq, ERR.NONFINITE_RESULT, type);
        }
        this.steps++;
        this.framesOk++;
        const len = 17 + 4 * nu + (kind === 'policy' ? 2 * nx + 2 * nu : 0);
        const b = new Uint8Array(len);
        const o = new DataView(b.buffer);
        b[0] = body[0];
        b[1] = r.status ?? 0;
        o.setUint32(2, r.cycles, true);
        o.setUint32(6, r.cycles, true);
        o.setUint16(10, r.iterations ?? 1, true);
        o.setUint32(12, this.steps, true);
        b[16] = nu;
        r.u.forEach((v, j) => o.setFloat32(17 + 4 * j, v, true));
        if (kind === 'policy') {
          (r.xq ?? new Array(nx).fill(0)).forEach((v, i) => o.setInt16(17 + 4 * nu + 2 * i, v, true));
          (r.uq ?? new Array(nu).fill(0)).forEach((v, j) => o.setInt16(17 + 4 * nu + 2 * nx + 2 * j, v, true));
        }
        return encodeFrame(MSG.STEP_REPLY, seq, b);
      }
      default:
        this.framesBad++;
        return this.error(seq, ERR.TYPE, type);
    }
    this.framesBad++;
    return this.error(seq, ERR.LENGTH, type);
  }
}

/** A MockLink responder backed by a VirtualBoard. */
export function virtualBoardResponder(board: VirtualBoard): (written: Uint8Array, reply: (b: Uint8Array) => void) => void {
  return (written, reply) => {
    const out = board.receive(written);
    if (out.length) reply(out);
  };
}
