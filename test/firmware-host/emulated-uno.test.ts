/**
 * HIL without a board: build the real firmware with
 * avr-gcc, run it on avr8js, handshake, run 1,000 STEPs whose controls equal
 * the TS integer reference bit for bit, read exact on-chip cycle counts, and
 * survive corrupted frames, a stalled board and a reset.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { Rng, applySafetyFilter } from '../../sim/index.js';
import { dequantize, policyQ, quantizeInput } from '../../codegen/index.js';
import { BoardResetError, Device, DeviceTimeoutError, EmulatedUnoLink, STATUS } from '../../firmware-host/index.js';
import type { ModelFirmware } from '../../pipeline/index.js';
import { CorruptingLink, HAVE_AVR, buildUnoFirmware } from '../helpers/firmware.js';

const f32bits = (v: number) => {
  const dv = new DataView(new ArrayBuffer(4));
  dv.setFloat32(0, v);
  return dv.getUint32(0);
};

let fw: ModelFirmware;
beforeAll(() => {
  if (HAVE_AVR) fw = buildUnoFirmware(['policy', 'mpc']);
});

describe.skipIf(!HAVE_AVR)('real firmware on the emulated Uno', () => {
  it('handshakes, and 1,000 policy STEPs equal the TS integer reference bit for bit', { timeout: 300_000 }, async () => {
    const d = await Device.connect(new EmulatedUnoLink(fw.build.hex!), { modelHash32: fw.artifact.hash32, controllers: ['policy', 'mpc'] });
    expect(d.hello.cpuHz).toBe(16_000_000);
    expect(d.hello.nx).toBe(2);
    const q = fw.quant;
    const rng = new Rng(3);
    const lo = fw.model.input.domain.min,
      hi = fw.model.input.domain.max;

    let filtered = 0;
    for (let k = 0; k < 1000; k++) {
      // in the domain, at its edges, and outside it (the firmware clamps)
      const x = lo.map((l, i) => (k % 10 === 0 ? (rng.next() < 0.5 ? l : hi[i]) : rng.uniform(l - 0.2 * (hi[i] - l), hi[i] + 0.2 * (hi[i] - l))));
      const r = await d.step('policy', x);
      const xf = x.map(Math.fround); // the wire carries float32
      const xq = quantizeInput(q, xf);
      expect(r.xq).toEqual(xq);
      expect(r.uq).toEqual(policyQ(q, xq));
      // the dequantised control, then the safety filter at the state as sent
      const uBox = dequantize(q, r.uq!);
      const u = uBox.slice();
      const moved = q.filter ? applySafetyFilter(q.filter, xf, u, Math.fround) : false;
      expect(r.u.map(f32bits)).toEqual(u.map(f32bits));
      expect((r.status & STATUS.FILTERED) !== 0).toBe(moved);
      if (moved) filtered++;
    }
    // states beyond the domain are beyond the state bounds too: the filter acts on some
    expect(filtered).toBeGreaterThan(10);
    expect(d.rxErrors).toBe(0);
    expect(d.retried).toBe(0);
    await d.close();
  });

  it('cycle counts are exact: the same state gives the same count, and the fast Timer1 model agrees with avr8js’s AVRTimer', { timeout: 300_000 }, async () => {
    const states = [
      [1, 0.5],
      [-3, 1.2],
      [4.9, -1.9],
      [0, 0],
      [7, 3],
    ];
    const run = async (timer: 'lazy' | 'avr8js') => {
      const d = await Device.connect(new EmulatedUnoLink(fw.build.hex!, { timer }));
      const out: number[] = [];
      for (const x of states) for (const c of ['policy', 'mpc'] as const) out.push((await d.step(c, x)).cycles);
      // and again: identical
      for (const x of states) out.push((await d.step('policy', x)).cycles);
      await d.close();
      return out;
    };
    const lazy = await run('lazy');
    const stock = await run('avr8js');
    expect(lazy).toEqual(stock);
    expect(lazy.slice(10)).toEqual(lazy.filter((_, i) => i < 10 && i % 2 === 0));
    console.log(`policy cycles ${lazy.filter((_, i) => i < 10 && i % 2 === 0).join(', ')}; MPC cycles ${lazy.filter((_, i) => i < 10 && i % 2 === 1).join(', ')}`);
  });

  it('corrupted frames in both directions are detected and retried, never acted on', { timeout: 120_000 }, async () => {
    const link = new CorruptingLink(new EmulatedUnoLink(fw.build.hex!));
    const d = await Device.connect(link, { timeoutMs: 300 });
    const before = await d.stats();
    link.corruptTx(0);
    const a = await d.step('policy', [1, 0.5]);
    link.corruptRx(0);
    const b = await d.step('policy', [1, 0.5]);
    expect(b.uq).toEqual(a.uq);
    expect(b.attempts).toBe(2);
    const after = await d.stats();
    // exactly one frame was rejected by the board (the corrupted request), and it ran the policy
    // exactly twice for the two steps: the retried reply came from its cache
    expect(after.framesBad - before.framesBad).toBe(1);
    expect(after.steps - before.steps).toBe(2);
    await d.close();
  });

  it('a stalled board gives a clear timeout error within a bounded time', { timeout: 60_000 }, async () => {
    const link = new EmulatedUnoLink(fw.build.hex!);
    const d = await Device.connect(link, { timeoutMs: 200, retries: 1 });
    link.pause();
    const t0 = Date.now();
    const err = await d.step('policy', [1, 1]).catch((e) => e);
    expect(err).toBeInstanceOf(DeviceTimeoutError);
    expect(String(err.message)).toMatch(/stopped answering: no reply to STEP/);
    expect(Date.now() - t0).toBeLessThan(5000);
    link.resume();
    await d.close();
  });

  it('a reset of the emulated MCU mid-run is detected', { timeout: 60_000 }, async () => {
    const link = new EmulatedUnoLink(fw.build.hex!);
    const d = await Device.connect(link);
    await d.step('policy', [1, 1]);
    await d.step('mpc', [1, 1]);
    link.resetBoard();
    const err = await d.step('policy', [1, 1]).catch((e) => e);
    expect(err).toBeInstanceOf(BoardResetError);
    expect(d.resets).toBeGreaterThanOrEqual(1);
    // nothing proceeds until the host acknowledges the reset
    await expect(d.step('policy', [1, 1])).rejects.toBeInstanceOf(BoardResetError);
    await d.rehandshake();
    // the board's counter restarted (the step in flight during the reset may have run: 1 or 2)
    expect((await d.step('policy', [1, 1])).stepsSinceBoot).toBeLessThanOrEqual(2);
    await d.close();
  });
});
