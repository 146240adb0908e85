/**
 * A board behind a Link: the HELLO handshake (protocol version, model hash,
 * controllers), then requests with timeouts, retries and reset detection.
 *
 *  - Every request has a sequence number; a retry re-sends the same number,
 *    and the firmware answers a repeated number with its cached reply, so a
 *    retried STEP never runs the controller twice.
 *  - A request is retried when the board reports a CRC error for it or when
 *    its reply does not arrive (or arrives corrupted) within the timeout;
 *    after `retries` retries the request fails with DeviceTimeoutError, which
 *    says how long the board has been silent.
 *  - A BOOT frame, or a step counter that goes backwards, means the board
 *    reset (its MPC warm start and counters are gone): the pending request
 *    and every later one fail with BoardResetError until `rehandshake()`,
 *    so nothing carries on silently; `resets` counts them.
 */
import { EventEmitter } from 'node:events';
import type { Link } from './links/link.js';
import {
  ERR,
  FrameDecoder,
  MAX_PAYLOAD,
  MSG,
  ProtocolError,
  STATUS,
  WIRE_VERSION,
  describeStatus,
  decodeError,
  decodeHello,
  decodeStats,
  decodeStepReply,
  decodeU32Body,
  encodeFrame,
  encodeStep,
  encodeU32,
  type ControllerKind,
  type Frame,
  type Hello,
  type Stats,
  type StepReply,
} from './protocol.js';

export class DeviceError extends Error {}
export class DeviceTimeoutError extends DeviceError {}
export class BoardResetError extends DeviceError {}
/** The board had no finite control for this state (it said so, or sent NaN/±Inf): nothing may reach an actuator. */
export class NonFiniteControlError extends DeviceError {}

/**
 * Largest state and input dimensions a HELLO may announce: a STEP carries
 * 1 + 4·nx body bytes and its reply 17 + 4·nu + 2·nx + 2·nu, both inside
 * MAX_PAYLOAD with type, seq and CRC.
 */
export const MAX_NX = Math.floor((MAX_PAYLOAD - 4 - 1) / 4);

export interface DeviceOptions {
  /** Reply timeout per attempt, ms (multiplied by the link's timeoutScale). Default 1000. */
  timeoutMs?: number;
  /** Retries after the first attempt. Default 3. */
  retries?: number;
  /** Expected model hash (first 32 bits); a mismatch fails the handshake. */
  modelHash32?: number;
  /** Controllers the caller needs; missing ones fail the handshake. */
  controllers?: ControllerKind[];
  /** State and input dimensions the caller's model has; a board announcing others fails the handshake. */
  nx?: number;
  nu?: number;
}

interface Pending {
  seq: number;
  expect: number;
  resolve: (f: Frame) => void;
  reject: (e: Error) => void;
}

export interface StepResult extends StepReply {
  /** Host round-trip time, ms (write to reply). */
  roundTripMs: number;
  attempts: number;
}

export class Device extends EventEmitter {
  hello!: Hello;
  /** Resets seen since connect. */
  resets = 0;
  /** Frames from the board that failed to decode (noise, corruption). */
  rxErrors = 0;
  /** Requests that needed a retry. */
  retried = 0;
  private readonly decoder = new FrameDecoder();
  private seq = 0;
  private pending: Pending | null = null;
  private lastSteps = 0;
  private resetPending = false;
  private readonly timeoutMs: number;
  private readonly retries: number;
  private unsubscribe: (() => void) | null = null;

  private constructor(
    readonly link: Link,
    private readonly opts: DeviceOptions,
  ) {
    super();
    this.timeoutMs = (opts.timeoutMs ?? 1000) * link.timeoutScale;
    this.retries = opts.retries ?? 3;
  }

  /** Open the link (if needed), handshake and check the firmware against `opts`. */
  static async connect(link: Link, opts: DeviceOptions = {}): Promise<Device> {
    const d = new Device(link, opts);
    d.unsubscribe = link.onData((c) => d.onBytes(c));
    if (!link.isOpen) await link.open();
    await d.handshake();
    return d;
  }

  private onBytes(chunk: Uint8Array): void {
    for (const ev of this.decoder.push(chunk)) {
      if (ev.kind === 'error') {
        this.rxErrors++;
        continue;
      }
      const f = ev.frame;
      if (f.type === MSG.BOOT) {
        if (this.hello) {
          this.resets++;
          this.lastSteps = 0;
          this.resetPending = true;
          this.emit('reset');
          const p = this.pending;
          this.pending = null;
          p?.reject(new BoardResetError(`the board on ${this.link.name} reset (it announced a fresh boot)`));
        }
        continue;
      }
      const p = this.pending;
      if (!p || f.seq !== p.seq) continue; // late duplicate or unsolicited: ignore
      if (f.type === MSG.ERROR) {
        const e = decodeError(f.body);
        if (e.code === ERR.CRC || e.code === ERR.COBS) {
          this.emit('retry', 'board saw a corrupted request');
          continue; // the timeout path re-sends
        }
        this.pending = null;
        const Err = e.code === ERR.NONFINITE_RESULT || e.code === ERR.NONFINITE_STATE ? NonFiniteControlError : DeviceError;
        p.reject(new Err(`board on ${this.link.name} rejected the request: ${e.name}`));
        continue;
      }
      if (f.type !== p.expect) {
        this.pending = null;
        p.reject(new ProtocolError(`board on ${this.link.name} answered type 0x${f.type.toString(16)}, expected 0x${p.expect.toString(16)}`));
        continue;
      }
      this.pending = null;
      p.resolve(f);
    }
  }

  /** Send a request and wait for its reply, retrying with the same sequence number. */
  private async request(type: number, expect: number, body?: Uint8Array): Promise<{ frame: Frame; attempts: number; ms: number }> {
    if (this.pending) throw new DeviceError('one request at a time');
    if (this.resetPending && type !== MSG.HELLO_REQ) throw new BoardResetError(`the board on ${this.link.name} reset; call rehandshake() before further requests`);
    this.seq = (this.seq + 1) & 0xff;
    const seq = this.seq;
    const frame = encodeFrame(type, seq, body);
    const t0 = performance.now();
    for (let attempt = 1; attempt <= this.retries + 1; attempt++) {
      const reply = new Promise<Frame>((resolve, reject) => (this.pending = { seq, expect, resolve, reject }));
      const sent = performance.now();
      await this.link.write(frame);
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<null>((resolve) => (timer = setTimeout(() => resolve(null), this.timeoutMs)));
      try {
        const f = await Promise.race([reply, timeout]);
        if (f) return { frame: f, attempts: attempt, ms: performance.now() - sent };
      } finally {
        clearTimeout(timer);
      }
      if (attempt <= this.retries) {
        this.retried++;
        this.emit('retry', 'no reply in time');
      }
    }
    this.pending = null;
    const silent = ((performance.now() - t0) / 1000).toFixed(1);
    throw new DeviceTimeoutError(`board on ${this.link.name} stopped answering: no reply to ${msgName(type)} in ${silent} s (${this.retries + 1} attempts)`);
  }

  private async handshake(): Promise<void> {
    const { frame } = await this.request(MSG.HELLO_REQ, MSG.HELLO);
    const h = decodeHello(frame.body);
    if (h.wireVersion !== WIRE_VERSION) throw new DeviceError(`board on ${this.link.name} speaks wire protocol ${h.wireVersion}, this host speaks ${WIRE_VERSION}: rebuild and reflash the firmware`);
    const bad = (what: string) => new ProtocolError(`board on ${this.link.name} sent an impossible HELLO: ${what}`);
    if (h.nx < 1 || h.nx > MAX_NX) throw bad(`nx = ${h.nx} (1 … ${MAX_NX} fit the wire protocol)`);
    if (h.nu < 1 || 17 + 6 * h.nu + 2 * h.nx > MAX_PAYLOAD - 4) throw bad(`nu = ${h.nu} with nx = ${h.nx} (a STEP reply would not fit a frame)`);
    if (!h.controllers.policy && !h.controllers.mpc) throw bad('no controller');
    if (!(h.cpuHz > 0)) throw bad(`CPU clock ${h.cpuHz} Hz`);
    if (h.controllers.policy && h.actBits !== 8 && h.actBits !== 16) throw bad(`policy activations of ${h.actBits} bits`);
    if (h.controllers.mpc && (h.mpcHorizon < 1 || h.mpcMaxIterations < 1)) throw bad(`MPC horizon ${h.mpcHorizon}, iteration cap ${h.mpcMaxIterations}`);
    if ((this.opts.nx !== undefined && h.nx !== this.opts.nx) || (this.opts.nu !== undefined && h.nu !== this.opts.nu))
      throw new DeviceError(`board on ${this.link.name} has ${h.nx} states and ${h.nu} inputs, the model ${this.opts.nx} and ${this.opts.nu}: flash the firmware built from this model`);
    if (this.opts.modelHash32 !== undefined && h.modelHash32 !== this.opts.modelHash32 >>> 0)
      throw new DeviceError(`board on ${this.link.name} runs model ${hex32(h.modelHash32)}, expected ${hex32(this.opts.modelHash32)}: flash the firmware built from this model`);
    for (const c of this.opts.controllers ?? []) if (!h.controllers[c]) throw new DeviceError(`board on ${this.link.name} has no ${c} controller in its firmware`);
    this.hello = h;
  }

  async step(controller: ControllerKind, x: ArrayLike<number>): Promise<StepResult> {
    if (x.length !== this.hello.nx) throw new DeviceError(`step: state has ${x.length} entries, the board expects ${this.hello.nx}`);
    const { frame, attempts, ms } = await this.request(MSG.STEP, MSG.STEP_REPLY, encodeStep(controller, x));
    const r = decodeStepReply(frame.body, this.hello.nx);
    // Validate the reply against the handshake before anything can use it.
    if (r.controller !== controller) throw new ProtocolError(`step: the board answered for ${r.controller}, asked ${controller}`);
    if (r.u.length !== this.hello.nu) throw new ProtocolError(`step: the board sent ${r.u.length} controls, its HELLO announced ${this.hello.nu}`);
    const nonFinite = r.u.findIndex((v) => !Number.isFinite(v));
    if (nonFinite >= 0) throw new NonFiniteControlError(`step: the board sent a non-finite control (u[${nonFinite}] = ${r.u[nonFinite]}); refusing it`);
    if ((r.status & 0x0f) > STATUS.ITER_CAP || (r.status & 0xc0) !== 0) throw new ProtocolError(`step: unknown status 0x${r.status.toString(16)} (${describeStatus(r.status)})`);
    if (controller === 'mpc' && r.status & STATUS.CLAMPED) throw new ProtocolError('step: the MPC reported a clamped state, which only the policy can');
    if (controller === 'mpc' && r.status & STATUS.FILTERED) throw new ProtocolError('step: the MPC reported a filtered control, which only the policy can');
    if (r.stepsSinceBoot <= this.lastSteps) {
      const before = this.lastSteps;
      this.resets++;
      this.resetPending = true;
      this.emit('reset');
      this.lastSteps = r.stepsSinceBoot;
      throw new BoardResetError(`the board on ${this.link.name} reset (its step counter went from ${before} back to ${r.stepsSinceBoot})`);
    }
    this.lastSteps = r.stepsSinceBoot;
    return { ...r, roundTripMs: ms, attempts };
  }

  async ping(nonce = 0x5a17): Promise<number> {
    const { frame, ms } = await this.request(MSG.PING, MSG.PONG, encodeU32(nonce));
    if (decodeU32Body(frame.body, 'PONG') !== nonce >>> 0) throw new ProtocolError('PONG carries the wrong nonce');
    return ms;
  }

  async resetMpc(): Promise<void> {
    await this.request(MSG.RESET_MPC, MSG.ACK);
  }

  async stats(): Promise<Stats> {
    return decodeStats((await this.request(MSG.STATS_REQ, MSG.STATS)).frame.body);
  }

  /** Re-run the handshake after a reset. */
  async rehandshake(): Promise<void> {
    this.lastSteps = 0;
    await this.handshake();
    this.resetPending = false;
  }

  async close(): Promise<void> {
    this.unsubscribe?.();
    this.pending?.reject(new DeviceError('device closed'));
    this.pending = null;
    await this.link.close();
  }
}

function hex32(v: number): string {
  return '0x' + (v >>> 0).toString(16).padStart(8, '0');
}

function msgName(type: number): string {
  return Object.entries(MSG).find(([, v]) => v === type)?.[0] ?? `0x${type.toString(16)}`;
}
