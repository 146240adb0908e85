/**
 * Hardware-in-the-loop runner. The host simulates the plant each step with
 * sim's closed loop (linear or nonlinear; the board is the controller), sends the (noisy) state to the board,
 * applies the control it returns, and logs state, control, on-board cycles
 * and µs, host round-trip time and status. The same scenario (initial states,
 * disturbance and noise sequences) is run for each on-board controller and
 * for two host references: the float network and the host MPC.
 */
import { LinearMPC, Rng, feasibleStates, simulateClosedLoopAsync, type Dynamics, type Plant, type Trace } from '../sim/index.js';
import { policyFunction, type PolicyModel } from '../trainer/index.js';
import { policyFloat32, type QuantizedModel } from '../codegen/index.js';
import { NonFiniteControlError, type Device } from './device.js';
import type { ControllerKind } from './protocol.js';

export interface Scenario {
  plant: Plant;
  initialStates: number[][];
  /** Steps per initial state. */
  steps: number;
  dynamics: Dynamics;
  /** Process noise added to the state each step (std per state). */
  disturbanceStd?: number[];
  /** Measurement noise on the state sent to the controller (std per state). */
  noiseStd?: number[];
  seed: number;
}

export interface StepLog {
  x: number[];
  u: number[];
  cycles?: number;
  coreCycles?: number;
  us?: number;
  rttMs?: number;
  status?: number;
  iterations?: number;
  /** Policy on the board: did its integers match the TS reference bit for bit? */
  bitExact?: boolean;
  /** On-board control minus the host reference at the same measured state (actuator units). */
  deviation?: number[];
}

export interface Episode {
  x0: number[];
  steps: StepLog[];
  /** Final state after the last step. */
  xEnd: number[];
  /**
   * Set when the episode ended early because the controller had no finite
   * control (the board refused a non-finite state or result, or a control was
   * NaN/±Inf): the plant is never stepped with it.
   */
  stopped?: { step: number; reason: string };
  /** sim's record of the episode: cost and violations are read from it. */
  trace: Trace;
}

export type ControllerSource = 'board' | 'host';

export interface ControllerRun {
  /** e.g. "network (board)", "MPC (host)". */
  name: string;
  source: ControllerSource;
  controller: ControllerKind;
  episodes: Episode[];
  /** An MPC's horizon and iteration cap (on the board: from its HELLO). */
  mpc?: { horizon: number; maxIterations?: number };
}

export interface HilProgress {
  run: string;
  episode: number;
  step: number;
  done: number;
  total: number;
}

export interface HilOptions {
  /** On-board controllers to run, each on the device that has it. */
  boards: { device: Device; controllers: ControllerKind[] }[];
  /** Include the float network and the host MPC as references (default true). */
  hostReferences?: boolean;
  model: PolicyModel;
  /** The quantised policy the board runs (for the bit-exact check). */
  quant?: QuantizedModel;
  /**
   * Horizon of the exact host solve the on-board MPC's controls are compared
   * with (default: the board's, from its HELLO). The host MPC row, the cost
   * reference, always uses the teacher's horizon.
   */
  mpcHorizon?: number;
  onProgress?: (p: HilProgress) => void;
}

/** Per-episode seeded noise, the same for every controller. */
function noiseStreams(s: Scenario, episode: number) {
  const rd = new Rng(s.seed * 1000 + episode * 2 + 1);
  const rn = new Rng(s.seed * 1000 + episode * 2 + 2);
  return {
    disturbance: () => s.plant.xBounds.min.map((_, i) => (s.disturbanceStd?.[i] ?? 0) * rd.normal()),
    noise: () => s.plant.xBounds.min.map((_, i) => (s.noiseStd?.[i] ?? 0) * rn.normal()),
  };
}

type StepFn = (meas: number[], k: number) => Promise<Omit<StepLog, 'x'>>;

/** Run the episodes `which` (indices into the scenario's initial states) through sim's closed loop; returns them in that order. */
async function runEpisodes(s: Scenario, which: number[], begin: () => Promise<void>, step: StepFn, progress: (ep: number, k: number) => void): Promise<Episode[]> {
  const episodes: Episode[] = [];
  for (const e of which) {
    await begin();
    const ns = noiseStreams(s, e);
    const trace = await simulateClosedLoopAsync(
      s.plant,
      async (measured, k) => {
        const meas = Array.from(measured);
        let r: Awaited<ReturnType<StepFn>>;
        try {
          r = await step(meas, k);
        } catch (err) {
          if (!(err instanceof NonFiniteControlError)) throw err;
          return { stop: err.message };
        }
        const { u, ...info } = r;
        return { u, info };
      },
      s.initialStates[e],
      s.steps,
      { dynamics: s.dynamics, noiseSource: ns.noise, disturbanceSource: ns.disturbance, stopOnNonFinite: true, onStep: (k) => progress(e, k) },
    );
    const steps: StepLog[] = trace.u.map((u, k) => ({ x: trace.x[k], u, ...(trace.info[k] as Omit<StepLog, 'x' | 'u'>) }));
    episodes.push({ x0: s.initialStates[e].slice(), steps, xEnd: trace.x[trace.x.length - 1], ...(trace.stopped ? { stopped: trace.stopped } : {}), trace });
  }
  return episodes;
}

export interface HilResult {
  scenario: Scenario;
  runs: ControllerRun[];
  cpuHz: number;
  /** The teacher's MPC horizon: the host MPC row (the cost reference) uses it. */
  teacherHorizon: number;
}

export async function runHil(s: Scenario, o: HilOptions): Promise<HilResult> {
  const runs: ControllerRun[] = [];
  const host = o.hostReferences ?? true;
  const nEp = s.initialStates.length;
  const all = Array.from({ length: nEp }, (_, e) => e);
  const kinds = (['policy', 'mpc'] as const).filter((c) => o.boards.some((b) => b.controllers.includes(c)));
  const total = nEp * s.steps * (kinds.length + (host ? 2 : 0));
  let done = 0;
  const report = (run: string) => (episode: number, step: number) => {
    done++;
    o.onProgress?.({ run, episode, step, done, total });
  };
  const teacherHorizon = o.model.mpc?.horizon ?? 20;
  const hostMpc = new LinearMPC(s.plant, { horizon: teacherHorizon, polytope: o.model.mpc?.polytope });
  const mpcBoard = o.boards.find((b) => b.controllers.includes('mpc'))?.device.hello;
  const onboardHorizon = o.mpcHorizon ?? (mpcBoard?.mpcHorizon || teacherHorizon);
  // The on-board solve is checked against an exact solve of the problem it solves (its own horizon).
  const sameProblem = onboardHorizon === teacherHorizon ? hostMpc : new LinearMPC(s.plant, { horizon: onboardHorizon, polytope: o.model.mpc?.polytope });
  const floatNet = policyFunction(o.model, { clampOutput: true });
  const q = o.quant;
  const cpuHz = o.boards[0]?.device.hello.cpuHz ?? 16_000_000;

  for (const c of kinds) {
    const name = c === 'policy' ? 'network (board)' : 'MPC (board)';
    // References at the same measured state: the TS integer reference for the
    // policy (bit-exact; one evaluation gives the integers and the control), an
    // exact host MPC solve for the on-board MPC.
    const reference = (meas: number[], u: number[]) => {
      if (c === 'policy') {
        if (!q) return {};
        const ref = policyFloat32(q, meas.map(Math.fround));
        return { ref: ref.u, xq: ref.xq, uq: ref.uq };
      }
      return u.every(Number.isFinite) ? { ref: Array.from(sameProblem.solve(meas).u) } : {};
    };
    // Episodes are spread over every board that has this controller, run concurrently.
    const devices = o.boards.filter((b) => b.controllers.includes(c)).map((b) => b.device);
    const parts = await Promise.all(
      devices.map((device, di) =>
        runEpisodes(
          s,
          all.filter((e) => e % devices.length === di),
          async () => {
            if (c === 'mpc') await device.resetMpc();
          },
          async (meas) => {
            const r = await device.step(c, meas);
            const ref = reference(meas, r.u);
            const bitExact = ref.xq && r.xq && r.uq ? ref.xq.every((v, i) => v === r.xq![i]) && ref.uq!.every((v, j) => v === r.uq![j]) : undefined;
            const deviation = ref.ref ? r.u.map((v, j) => v - ref.ref![j]) : undefined;
            return {
              u: r.u,
              cycles: r.cycles,
              coreCycles: r.coreCycles,
              us: (r.cycles / device.hello.cpuHz) * 1e6,
              rttMs: r.roundTripMs,
              status: r.status,
              iterations: r.iterations,
              bitExact,
              deviation,
            };
          },
          report(name),
        ),
      ),
    );
    const episodes: Episode[] = new Array(nEp);
    devices.forEach((_, di) => all.filter((e) => e % devices.length === di).forEach((e, k) => (episodes[e] = parts[di][k])));
    runs.push({ name, source: 'board', controller: c, episodes, ...(c === 'mpc' ? { mpc: { horizon: onboardHorizon, maxIterations: mpcBoard?.mpcMaxIterations } } : {}) });
  }
  if (host) {
    const net = await runEpisodes(
      s,
      all,
      async () => {},
      async (meas) => ({ u: Array.from(floatNet(meas)) }),
      report('network (host, float)'),
    );
    runs.push({ name: 'network (host, float)', source: 'host', controller: 'policy', episodes: net });
    let ctl = hostMpc.controller();
    const mpc = await runEpisodes(
      s,
      all,
      async () => {
        ctl = hostMpc.controller();
      },
      async (meas) => {
        const r = ctl(meas);
        return { u: Array.from(r.u), status: r.info.status === 'solved' ? 0 : 1, iterations: r.info.iterations };
      },
      report('MPC (host)'),
    );
    runs.push({ name: 'MPC (host)', source: 'host', controller: 'mpc', episodes: mpc, mpc: { horizon: teacherHorizon } });
  }
  return { scenario: s, runs, cpuHz, teacherHorizon };
}

/**
 * Random initial states where the MPC meets the state constraints (seeded),
 * in the middle `shrink` of the domain: feasibleStates (rejection, or
 * hit-and-run where the feasible set is thin).
 */
export function feasibleInitialStates(plant: Plant, domain: { min: number[]; max: number[] }, count: number, seed: number, horizon = 20, shrink = 0.9): number[][] {
  const box = {
    min: domain.min.map((lo, i) => (lo + domain.max[i]) / 2 - ((domain.max[i] - lo) / 2) * shrink),
    max: domain.min.map((lo, i) => (lo + domain.max[i]) / 2 + ((domain.max[i] - lo) / 2) * shrink),
  };
  const X = feasibleStates(new LinearMPC(plant, { horizon }), { count, seed, domain: box }).X;
  return Array.from({ length: count }, (_, k) => Array.from(X.subarray(k * plant.nx, (k + 1) * plant.nx)));
}
