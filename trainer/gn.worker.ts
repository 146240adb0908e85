/**
 * Worker thread for the Gauss–Newton assembly: runs GNKernel on its share of
 * the samples. All arrays are SharedArrayBuffers set up once by 'init'; each
 * request names a sample range and the method parameters.
 */
import { parentPort } from 'node:worker_threads';
import { GNKernel, type KernelData, type MethodParams } from './gn-kernel.js';
import type { WorkerInit, WorkerRequest } from './assembler.js';

let kernel: GNKernel | null = null;
let buf: WorkerInit['buffers'] | null = null;

parentPort!.on('message', (msg: { init?: WorkerInit; req?: WorkerRequest }) => {
  try {
    if (msg.init) {
      const data: KernelData = msg.init.data;
      kernel = new GNKernel(data);
      buf = msg.init.buffers;
      parentPort!.postMessage({ ok: true });
      return;
    }
    const req = msg.req!;
    if (!kernel || !buf) throw new Error('gn worker: not initialised');
    const params: MethodParams = { ...req.params, mult: buf.mult, slack: buf.slack };
    const [k0, k1] = req.range;
    switch (req.op) {
      case 'assemble': {
        buf.grad.fill(0);
        if (req.wantG) buf.G.fill(0);
        const st = kernel.assemble(buf.theta, params, k0, k1, buf.grad, req.wantG ? buf.G : null, req.cacheW ? buf.Wcache : null);
        parentPort!.postMessage({ stats: st });
        return;
      }
      case 'evaluate':
        parentPort!.postMessage({ stats: kernel.evaluate(buf.theta, params, k0, k1) });
        return;
      case 'constraints':
        kernel.constraintValues(buf.theta, params.margin, k0, k1, buf.g);
        parentPort!.postMessage({ ok: true });
        return;
      case 'directional':
        kernel.constraintDirectional(buf.theta, buf.v, k0, k1, buf.g);
        parentPort!.postMessage({ ok: true });
        return;
      case 'matvec':
        buf.out.fill(0);
        kernel.matvec(buf.theta, buf.v, k0, k1, buf.Wcache, buf.out);
        parentPort!.postMessage({ ok: true });
        return;
      case 'diagonal':
        buf.out.fill(0);
        kernel.diagonal(buf.theta, k0, k1, buf.Wcache, buf.out);
        parentPort!.postMessage({ ok: true });
        return;
    }
  } catch (e) {
    parentPort!.postMessage({ error: (e as Error).stack ?? String(e) });
  }
});
