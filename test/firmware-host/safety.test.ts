/**
 * Nothing wrong reaches an actuator. On the real firmware (emulated Uno):
 * non-finite states are refused and leave the MPC's warm start untouched, an
 * overflowing MPC solve sends no control, a state outside the network's
 * domain is reported, and the reply cache only answers true retries. On the
 * host: every STEP reply and HELLO is checked against the handshake, and HIL
 * never steps the plant with a non-finite control.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { getPlant } from '../../sim/index.js';
import { policyFloat32 } from '../../codegen/index.js';
import {
  Device,
  EmulatedUnoLink,
  FrameDecoder,
  MSG,
  MockLink,
  NonFiniteControlError,
  ProtocolError,
  STATUS,
  VirtualBoard,
  encodeFrame,
  encodeStep,
  encodeU32,
  runHil,
  summariseHil,
  virtualBoardResponder,
  type Frame,
} from '../../firmware-host/index.js';
import type { ModelFirmware } from '../../pipeline/index.js';
import { HAVE_AVR, buildUnoFirmware } from '../helpers/firmware.js';
import { fixtureModel } from '../helpers/models.js';

let fw: ModelFirmware;
beforeAll(() => {
  if (HAVE_AVR) fw = buildUnoFirmware(['policy', 'mpc']);
});

const hash32 = () => fw.artifact.hash32;
const bits = (v: number) => {
  const dv = new DataView(new ArrayBuffer(4));
  dv.setFloat32(0, v);
  return dv.getUint32(0);
};

/** Raw frames to and from a link: send one request, collect the frames that come back. */
async function exchange(link: EmulatedUnoLink, frames: Uint8Array[], expect: number): Promise<Frame[]> {
  const dec = new FrameDecoder();
  const got: Frame[] = [];
  const done = new Promise<void>((resolve) => {
    link.onData((c) => {
      for (const ev of dec.push(c)) if (ev.kind === 'frame' && ev.frame.type !== MSG.BOOT) got.push(ev.frame);
      if (got.length >= expect) resolve();
    });
  });
  for (const f of frames) await link.write(f);
  await done;
  return got;
}

describe.skipIf(!HAVE_AVR)('firmware: controls that reach hardware', () => {
  it('refuses a NaN or ±Inf state with ERROR and leaves the MPC warm start untouched', { timeout: 120_000 }, async () => {
    const a = await Device.connect(new EmulatedUnoLink(fw.build.hex!), { modelHash32: hash32() });
    const b = await Device.connect(new EmulatedUnoLink(fw.build.hex!), { modelHash32: hash32() });
    const x1 = [3, 1],
      x2 = [2.5, 0.5];
    await a.step('mpc', x1);
    await b.step('mpc', x1);
    for (const bad of [
      [NaN, 0],
      [0, Infinity],
      [-Infinity, 1],
    ])
      for (const c of ['mpc', 'policy'] as const) await expect(a.step(c, bad)).rejects.toThrow(NonFiniteControlError);
    // board a saw three refused states between the two solves, board b none: the same control, bit for bit
    const ua = await a.step('mpc', x2);
    const ub = await b.step('mpc', x2);
    expect(ua.u.map(bits)).toEqual(ub.u.map(bits));
    expect(ua.iterations).toBe(ub.iterations);
    const st = await a.stats();
    expect(st.badByCause['non-finite state (NaN or ±Inf): nothing was run']).toBe(6);
    await a.close();
    await b.close();
  });

  it('an MPC solve that overflows sends no control and clears the warm start', { timeout: 120_000 }, async () => {
    const a = await Device.connect(new EmulatedUnoLink(fw.build.hex!), { modelHash32: hash32() });
    const b = await Device.connect(new EmulatedUnoLink(fw.build.hex!), { modelHash32: hash32() });
    await a.step('mpc', [3, 1]);
    // finite on the wire, but its square overflows float32 inside the solver
    await expect(a.step('mpc', [3e38, -3e38])).rejects.toThrow(/non-finite controller result: no control sent/);
    // a's warm start was cleared, so it now answers like a board that never solved anything
    const ua = await a.step('mpc', [2.5, 0.5]);
    const ub = await b.step('mpc', [2.5, 0.5]);
    expect(ua.u.map(bits)).toEqual(ub.u.map(bits));
    await a.close();
    await b.close();
  });

  it('reports a state outside the network’s domain in the status and still sends the clamped control', { timeout: 120_000 }, async () => {
    const d = await Device.connect(new EmulatedUnoLink(fw.build.hex!), { modelHash32: hash32() });
    const { min, max } = fw.model.input.domain;
    const inside = await d.step('policy', [0.5 * max[0], 0]);
    expect(inside.status).toBe(STATUS.OK);
    const out = await d.step('policy', [max[0] + 3, min[1] - 1]);
    expect(out.status & STATUS.CLAMPED).toBe(STATUS.CLAMPED);
    const corner = await d.step('policy', [max[0], min[1]]);
    expect(corner.status & STATUS.CLAMPED).toBe(0);
    // the network sees the clamped state; the safety filter then sees the state as measured
    expect(out.xq).toEqual(corner.xq);
    expect(out.uq).toEqual(corner.uq);
    expect(out.u.map(bits)).toEqual(policyFloat32(fw.quant, [max[0] + 3, min[1] - 1]).u.map(bits));
    await d.close();
  });

  it('reports in the status when the safety filter moved the control, exactly where the TS reference does', { timeout: 120_000 }, async () => {
    const d = await Device.connect(new EmulatedUnoLink(fw.build.hex!), { modelHash32: hash32() });
    expect(fw.quant.filter).not.toBeNull();
    // states heading for a position or velocity bound, some past the velocity bound (the network sees the
    // domain's edge; the filter, the state as measured), and some at rest
    const states = [
      [0, 2.3],
      [-3, -2.2],
      [4.95, 1.9],
      [-4.95, -1.9],
      [4.0, 1.99],
      [0, 1.999],
      [0, 0],
      [1, -0.5],
      [-4.99, -0.5],
      [4.999, 0.2],
    ];
    let moved = 0;
    for (const x of states) {
      const r = await d.step('policy', x);
      const ref = policyFloat32(fw.quant, x);
      expect(r.u.map(bits), `x = ${x}`).toEqual(ref.u.map(bits));
      expect((r.status & STATUS.FILTERED) !== 0, `x = ${x}`).toBe(ref.filtered);
      if (ref.filtered) moved++;
    }
    expect(moved).toBeGreaterThan(0);
    expect(moved).toBeLessThan(states.length);
    await d.close();
  });

  it('answers a PING that reuses a STEP’s sequence number with a PONG, and a true retry with the cached reply', { timeout: 120_000 }, async () => {
    const link = new EmulatedUnoLink(fw.build.hex!);
    await link.open();
    const step = encodeFrame(MSG.STEP, 7, encodeStep('policy', [1, 0.5]));
    const [r1] = await exchange(link, [step], 1);
    expect(r1.type).toBe(MSG.STEP_REPLY);
    const [r2] = await exchange(link, [step], 1);
    expect(r2.type).toBe(MSG.STEP_REPLY);
    expect(Array.from(r2.body)).toEqual(Array.from(r1.body)); // the cached reply: the controller did not run again
    const [r3] = await exchange(link, [encodeFrame(MSG.PING, 7, encodeU32(0xabcd))], 1);
    expect(r3.type).toBe(MSG.PONG);
    // a STEP with the same number but another state is a new request too
    const [r4] = await exchange(link, [encodeFrame(MSG.STEP, 7, encodeStep('policy', [-1, 0.25]))], 1);
    expect(r4.type).toBe(MSG.STEP_REPLY);
    expect(Array.from(r4.body)).not.toEqual(Array.from(r1.body));
    await link.close();
  });
});

/** A MockLink board that answers HELLO like a VirtualBoard and STEP with a body we choose. */
function craftedBoard(opts: { hello?: (b: Uint8Array) => void; stepReply?: (b: Uint8Array) => Uint8Array }) {
  const vb = new VirtualBoard({ nx: 2, nu: 1, modelHash32: 1, control: () => ({ u: [0.5], cycles: 100 }) });
  const normal = virtualBoardResponder(vb);
  return new MockLink((written, reply) => {
    const dec = new FrameDecoder();
    for (const ev of dec.push(written)) {
      if (ev.kind !== 'frame') continue;
      const { type, seq } = ev.frame;
      const captured: Uint8Array[] = [];
      normal(written, (b) => captured.push(b));
      const fr = new FrameDecoder().push(captured[0] ?? new Uint8Array())[0];
      if (type === MSG.HELLO_REQ && opts.hello && fr?.kind === 'frame') {
        const body = Uint8Array.from(fr.frame.body);
        opts.hello(body);
        return reply(encodeFrame(MSG.HELLO, seq, body));
      }
      if (type === MSG.STEP && opts.stepReply && fr?.kind === 'frame') return reply(encodeFrame(MSG.STEP_REPLY, seq, opts.stepReply(Uint8Array.from(fr.frame.body))));
      for (const c of captured) reply(c);
    }
  });
}

describe('host: every reply is checked against the handshake', () => {
  const setU = (b: Uint8Array, j: number, v: number) => new DataView(b.buffer).setFloat32(17 + 4 * j, v, true);
  it('a NaN or ±Inf control is refused', async () => {
    for (const v of [NaN, Infinity, -Infinity]) {
      const d = await Device.connect(craftedBoard({ stepReply: (b) => (setU(b, 0, v), b) }), { timeoutMs: 200, retries: 0 });
      await expect(d.step('mpc', [0, 0])).rejects.toThrow(NonFiniteControlError);
      await d.close();
    }
  });
  it('a reply with more or fewer controls than the HELLO announced is refused', async () => {
    const longer = (b: Uint8Array) => {
      const out = new Uint8Array(b.length + 4);
      out.set(b);
      out[16] = 2;
      return out;
    };
    const d = await Device.connect(craftedBoard({ stepReply: longer }), { timeoutMs: 200, retries: 0 });
    await expect(d.step('mpc', [0, 0])).rejects.toThrow(/2 controls, its HELLO announced 1/);
    await d.close();
    const shorter = (b: Uint8Array) => {
      const out = b.slice(0, 17);
      out[16] = 0;
      return out;
    };
    const e = await Device.connect(craftedBoard({ stepReply: shorter }), { timeoutMs: 200, retries: 0 });
    await expect(e.step('mpc', [0, 0])).rejects.toThrow(/0 controls, its HELLO announced 1/);
    await e.close();
  });
  it('an unknown status is refused', async () => {
    const d = await Device.connect(craftedBoard({ stepReply: (b) => ((b[1] = 0x07), b) }), { timeoutMs: 200, retries: 0 });
    await expect(d.step('mpc', [0, 0])).rejects.toThrow(ProtocolError);
    await d.close();
  });
  it('a HELLO with nx = 255 and nu = 0, or dimensions other than the model’s, fails the handshake', async () => {
    await expect(Device.connect(craftedBoard({ hello: (b) => ((b[12] = 255), (b[13] = 0)) }), { timeoutMs: 200, retries: 0 })).rejects.toThrow(/impossible HELLO: nx = 255/);
    await expect(Device.connect(craftedBoard({ hello: (b) => (b[13] = 0) }), { timeoutMs: 200, retries: 0 })).rejects.toThrow(/impossible HELLO: nu = 0/);
    await expect(Device.connect(craftedBoard({}), { timeoutMs: 200, retries: 0, nx: 2, nu: 3 })).rejects.toThrow(/has 2 states and 1 inputs, the model 2 and 3/);
  });
});

describe('HIL never steps the plant with a non-finite control', () => {
  it('stops the episode at the first one, and the summary counts it', async () => {
    const model = fixtureModel();
    const plant = getPlant('double-integrator');
    let calls = 0;
    // a board whose policy goes wrong on its 5th step: the firmware answers ERROR (non-finite result)
    const vb = new VirtualBoard({ nx: 2, nu: 1, modelHash32: 1, controllers: ['policy'], control: () => ({ u: [++calls === 5 ? NaN : 0.1], cycles: 100 }) });
    const device = await Device.connect(new MockLink(virtualBoardResponder(vb)), { timeoutMs: 200 });
    const r = await runHil(
      {
        plant,
        initialStates: [
          [1, 0],
          [2, 0],
        ],
        steps: 10,
        dynamics: 'linear',
        seed: 1,
      },
      { boards: [{ device, controllers: ['policy'] }], model, hostReferences: false },
    );
    const ep = r.runs[0].episodes;
    expect(ep[0].stopped?.step).toBe(4);
    expect(ep[0].steps).toHaveLength(4);
    for (const e of ep) for (const st of e.steps) expect(st.u.every(Number.isFinite)).toBe(true);
    expect(ep[1].stopped).toBeUndefined();
    const s = summariseHil(r).controllers[0];
    expect(s.stoppedEpisodes).toBe(1);
    expect(s.flags.join(' ')).toMatch(/1 episode\(s\) stopped: no finite control/);
    await device.close();
  });
});
