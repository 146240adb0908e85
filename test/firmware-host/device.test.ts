import { describe, expect, it } from 'vitest';
import { BoardResetError, Device, DeviceError, DeviceTimeoutError, MockLink, VirtualBoard, virtualBoardResponder } from '../../firmware-host/index.js';
import { CorruptingLink } from '../helpers/firmware.js';

const board = (o: Partial<ConstructorParameters<typeof VirtualBoard>[0]> = {}) =>
  new VirtualBoard({ nx: 2, nu: 1, modelHash32: 0xabcdef01, control: (_k, x) => ({ u: [x[0] + x[1]], cycles: 1234, xq: [1, 2], uq: [3] }), ...o });

describe('Device over a mock link', () => {
  it('handshakes and steps', async () => {
    const b = board();
    const d = await Device.connect(new MockLink(virtualBoardResponder(b)), { modelHash32: 0xabcdef01, controllers: ['policy', 'mpc'] });
    expect(d.hello.nx).toBe(2);
    const r = await d.step('policy', [1, 2]);
    expect(r.u).toEqual([3]);
    expect(r.cycles).toBe(1234);
    expect(r.xq).toEqual([1, 2]);
    expect(r.stepsSinceBoot).toBe(1);
    expect(await d.ping()).toBeGreaterThanOrEqual(0);
    await d.close();
  });
  it('refuses a firmware built from another model, or without the controller asked for', async () => {
    await expect(Device.connect(new MockLink(virtualBoardResponder(board())), { modelHash32: 0x11111111 })).rejects.toThrow(/runs model 0xabcdef01, expected 0x11111111/);
    await expect(Device.connect(new MockLink(virtualBoardResponder(board({ controllers: ['policy'] }))), { controllers: ['mpc'] })).rejects.toThrow(/no mpc controller/);
  });
  it('a board that never answers fails within a bounded time with a clear error', async () => {
    const t0 = Date.now();
    const err = await Device.connect(new MockLink(() => {}, 'silent board'), { timeoutMs: 50, retries: 2 }).catch((e) => e);
    expect(err).toBeInstanceOf(DeviceTimeoutError);
    expect(String(err.message)).toMatch(/board on silent board stopped answering: no reply to HELLO_REQ in \d+\.\d s \(3 attempts\)/);
    expect(Date.now() - t0).toBeLessThan(2000);
  });
  it('retries a request the board saw corrupted, and a reply the host saw corrupted, without running the controller twice', async () => {
    const b = board();
    const link = new CorruptingLink(new MockLink(virtualBoardResponder(b)));
    const d = await Device.connect(link, { timeoutMs: 100 });
    link.corruptTx(0); // the board gets a bad CRC and answers ERROR; the device re-sends
    const r1 = await d.step('policy', [1, 1]);
    expect(r1.u).toEqual([2]);
    expect(link.corruptedTx).toBe(1);
    link.corruptRx(0); // the reply is garbled on the way back; the retry gets the cached reply
    const r2 = await d.step('policy', [2, 2]);
    expect(r2.u).toEqual([4]);
    expect(r2.attempts).toBe(2);
    expect(link.corruptedRx).toBe(1);
    expect(b.steps).toBe(2); // two steps asked, two run: the retries did not re-run the controller
    expect(d.rxErrors).toBeGreaterThanOrEqual(1);
    await d.close();
  });
  it('detects a board reset (a BOOT frame, or the step counter starting over)', async () => {
    const b = board();
    const link = new MockLink(virtualBoardResponder(b));
    const d = await Device.connect(link);
    await d.step('policy', [0, 0]);
    await d.step('policy', [0, 0]);
    link.inject(b.boot());
    await new Promise((r) => setTimeout(r, 20));
    expect(d.resets).toBe(1);
    // the counter restarted too: the next step notices it as well
    await expect(d.step('policy', [0, 0])).rejects.toBeInstanceOf(BoardResetError);
    await d.rehandshake();
    await d.step('policy', [0, 0]);
    await d.close();
  });
  it('validates states before sending', async () => {
    const d = await Device.connect(new MockLink(virtualBoardResponder(board())));
    await expect(d.step('policy', [1, 2, 3])).rejects.toBeInstanceOf(DeviceError);
    await d.close();
  });
});
