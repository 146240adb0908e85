/**
 * Worker thread that labels states with the MPC teacher. It rebuilds the plant
 * from its JSON form (the linear model is all the MPC needs) and answers
 * chunks of states with the MPC's first input and whether slack was needed.
 */
import { parentPort } from 'node:worker_threads';
import { LinearMPC, plantFromJson, type MPCSettings } from '../sim/index.js';

let mpc: LinearMPC | null = null;

parentPort!.on('message', (msg: { init?: { plant: unknown; settings: MPCSettings }; states?: Float64Array; id?: number }) => {
  try {
    if (msg.init) {
      mpc = new LinearMPC(plantFromJson(msg.init.plant, 'label worker plant'), msg.init.settings);
      parentPort!.postMessage({ ok: true });
      return;
    }
    const m = mpc!;
    const states = msg.states!;
    const count = states.length / m.nx;
    const U = new Float64Array(count * m.nu);
    const ok = new Uint8Array(count);
    for (let k = 0; k < count; k++) {
      const sol = m.solve(states.subarray(k * m.nx, (k + 1) * m.nx));
      U.set(sol.u, k * m.nu);
      ok[k] = sol.status === 'solved' && !sol.needsSlack ? 1 : 0;
    }
    parentPort!.postMessage({ id: msg.id, U, ok }, [U.buffer, ok.buffer]);
  } catch (e) {
    parentPort!.postMessage({ error: (e as Error).stack ?? String(e) });
  }
});
