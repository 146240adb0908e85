/**
 * Comparison metrics of a HIL run, per controller: latency (cycles and µs:
 * min, median, p99, max), deadline misses against the plant's sample time,
 * input and state violations (count, largest, steps affected), closed-loop
 * cost and its ratio to the host MPC, deviation from the host reference
 * (bit-exact for the policy, within a stated tolerance for the MPC), and
 * memory from the firmware build.
 */
import type { ViolationStats } from '../sim/index.js';
import type { ControllerRun, HilResult } from './hil.js';

export interface Spread {
  min: number;
  median: number;
  p99: number;
  max: number;
}

export interface ViolationCount {
  /** Individual bound excursions (a step with two states out counts twice). */
  count: number;
  /** Largest excursion, physical units. */
  max: number;
  /** Steps with at least one excursion. */
  steps: number;
}

export interface ControllerSummary {
  name: string;
  source: 'board' | 'host';
  controller: 'policy' | 'mpc';
  steps: number;
  latency?: { cycles: Spread; us: Spread; deadlineUs: number; deadlineMisses: number };
  roundTripMs?: Spread;
  inputViolations: ViolationCount;
  stateViolations: ViolationCount;
  cost: number;
  /** Cost over the host MPC's cost on the same scenario. */
  costRatio: number;
  /** On-board control minus the host reference at the same measured state. */
  deviation?: { max: number; rms: number; tolerance: number; withinTolerance: boolean };
  /** Policy on the board: integers compared with the TS reference. */
  bitExact?: { checked: number; mismatches: number };
  solver?: { notConverged: number; iterations: Spread };
  /** Episodes ended early because the controller had no finite control (the plant never got one). */
  stoppedEpisodes: number;
  /** Policy rows: steps whose state was outside the trained domain (the board clamped it). */
  clampedSteps: number;
  /** Policy rows: steps where the one-step safety filter moved the network's control. */
  filteredSteps: number;
  /** An MPC row: its horizon against the teacher's, and the steps cut short by the iteration cap. */
  mpc?: { horizon: number; teacherHorizon: number; maxIterations?: number; cappedSteps: number };
  /**
   * What makes this row not what it seems, in words, shown in the row:
   * an on-board MPC that hit its iteration cap, deviates from the exact
   * solution beyond tolerance, or runs a shorter horizon than the teacher.
   */
  flags: string[];
}

export interface HilSummary {
  controllers: ControllerSummary[];
  /** Median on-board cycles of the network over those of the MPC. */
  speedup?: number;
  /** Plant sample time (the deadline), µs. */
  deadlineUs: number;
  /** Horizon of the host MPC that every cost ratio is against. */
  teacherHorizon?: number;
}

export function spread(values: number[]): Spread {
  if (!values.length) return { min: NaN, median: NaN, p99: NaN, max: NaN };
  const s = values.slice().sort((a, b) => a - b);
  const at = (q: number) => s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))];
  const median = s.length % 2 ? s[(s.length - 1) / 2] : 0.5 * (s[s.length / 2 - 1] + s[s.length / 2]);
  return { min: s[0], median, p99: at(0.99), max: s[s.length - 1] };
}

/**
 * Tolerance for the on-board MPC against an exact host solve, as a fraction of
 * each input's half-range: the ADMM stops at residual 1e-3 (normalised) within
 * its iteration cap, and float32 rounding adds ~1e-6, so a few percent of
 * the range is what a converged solve achieves; deviations beyond that mean
 * the iteration cap cut the solve short.
 */
export const MPC_DEVIATION_TOLERANCE = 0.05;

function summarise(run: ControllerRun, r: HilResult, hostMpcCost: number): ControllerSummary {
  const { plant } = r.scenario;
  const deadlineUs = plant.dt * 1e6;
  // Cost and violations are sim's, from each episode's closed-loop trace.
  let cost = 0;
  const iv: ViolationCount = { count: 0, max: 0, steps: 0 };
  const sv: ViolationCount = { count: 0, max: 0, steps: 0 };
  const add = (vc: ViolationCount, t: ViolationStats) => {
    vc.count += t.excursions;
    vc.steps += t.count;
    vc.max = Math.max(vc.max, t.max);
  };
  const cycles: number[] = [],
    us: number[] = [],
    rtt: number[] = [],
    iters: number[] = [];
  const dev: number[] = [];
  let notConverged = 0,
    checked = 0,
    mismatches = 0,
    steps = 0;
  for (const ep of run.episodes) {
    cost += ep.trace.cost;
    add(iv, ep.trace.inputViolations);
    add(sv, ep.trace.stateViolations);
    for (const st of ep.steps) {
      steps++;
      if (st.cycles !== undefined) cycles.push(st.cycles);
      if (st.us !== undefined) us.push(st.us);
      if (st.rttMs !== undefined) rtt.push(st.rttMs);
      if (st.iterations !== undefined && run.controller === 'mpc') iters.push(st.iterations);
      if (st.status !== undefined && (st.status & 0x0f) !== 0) notConverged++;
      if (st.bitExact !== undefined) {
        checked++;
        if (!st.bitExact) mismatches++;
      }
      if (st.deviation) st.deviation.forEach((d, j) => dev.push(Math.abs(d) / ((plant.uBounds.max[j] - plant.uBounds.min[j]) / 2)));
    }
  }
  const s: ControllerSummary = {
    name: run.name,
    source: run.source,
    controller: run.controller,
    steps,
    inputViolations: iv,
    stateViolations: sv,
    cost,
    costRatio: hostMpcCost > 0 ? cost / hostMpcCost : NaN,
    stoppedEpisodes: run.episodes.filter((ep) => ep.stopped).length,
    clampedSteps: run.episodes.reduce((n, ep) => n + ep.steps.filter((st) => st.status !== undefined && (st.status & 0x10) !== 0).length, 0),
    filteredSteps: run.episodes.reduce((n, ep) => n + ep.steps.filter((st) => st.status !== undefined && (st.status & 0x20) !== 0).length, 0),
    flags: [],
  };
  if (s.stoppedEpisodes) s.flags.push(`${s.stoppedEpisodes} episode(s) stopped: no finite control`);
  if (s.clampedSteps) s.flags.push(`state outside the trained domain on ${s.clampedSteps}/${steps} steps (clamped)`);
  if (s.filteredSteps) s.flags.push(`safety filter moved the control on ${s.filteredSteps}/${steps} steps`);
  if (cycles.length) {
    const usSpread = spread(us);
    s.latency = { cycles: spread(cycles), us: usSpread, deadlineUs, deadlineMisses: us.filter((v) => v > deadlineUs).length };
  }
  if (rtt.length) s.roundTripMs = spread(rtt);
  if (dev.length) {
    const max = Math.max(...dev);
    const rms = Math.sqrt(dev.reduce((a, b) => a + b * b, 0) / dev.length);
    const tolerance = run.controller === 'policy' ? 0 : MPC_DEVIATION_TOLERANCE;
    s.deviation = { max, rms, tolerance, withinTolerance: max <= tolerance };
  }
  if (checked) s.bitExact = { checked, mismatches };
  if (run.controller === 'mpc' && iters.length) s.solver = { notConverged, iterations: spread(iters) };
  if (run.mpc) {
    const cap = run.mpc.maxIterations;
    // A step is cut short when the solver says so (status ≠ 0) or used every iteration it had.
    let capped = 0;
    for (const ep of run.episodes)
      for (const st of ep.steps) if ((st.status !== undefined && (st.status & 0x0f) !== 0) || (cap !== undefined && st.iterations !== undefined && st.iterations >= cap)) capped++;
    s.mpc = { horizon: run.mpc.horizon, teacherHorizon: r.teacherHorizon, maxIterations: cap, cappedSteps: capped };
    if (run.source === 'board') {
      if (capped) s.flags.push(`iteration cap${cap !== undefined ? ` (${cap})` : ''} hit on ${capped}/${steps} steps`);
      if (run.mpc.horizon < r.teacherHorizon) s.flags.push(`horizon ${run.mpc.horizon} < teacher's ${r.teacherHorizon}`);
    }
  }
  if (s.deviation && !s.deviation.withinTolerance && run.controller === 'mpc') s.flags.push(`deviates ${s.deviation.max.toPrecision(3)} > tolerance ${s.deviation.tolerance}`);
  return s;
}

/** A row by what it is (where it ran, which controller), never by its display name. */
export function rowOf<T extends { source: 'board' | 'host'; controller: 'policy' | 'mpc' }>(rows: T[], source: T['source'], controller: T['controller']): T | undefined {
  return rows.find((r) => r.source === source && r.controller === controller);
}

export function summariseHil(r: HilResult): HilSummary {
  const hostMpc = r.runs.find((x) => x.source === 'host' && x.controller === 'mpc');
  const hostCost = hostMpc ? summarise(hostMpc, r, 1).cost : NaN;
  const controllers = r.runs.map((run) => summarise(run, r, hostCost));
  const net = controllers.find((c) => c.source === 'board' && c.controller === 'policy');
  const mpc = controllers.find((c) => c.source === 'board' && c.controller === 'mpc');
  return {
    controllers,
    speedup: net?.latency && mpc?.latency ? mpc.latency.cycles.median / net.latency.cycles.median : undefined,
    deadlineUs: r.scenario.plant.dt * 1e6,
    teacherHorizon: r.teacherHorizon,
  };
}

/** A short plain-text table for the terminal. */
export function formatSummary(s: HilSummary): string {
  const e = (v: number) => (Number.isFinite(v) ? v.toExponential(2) : '–');
  const n = (v: number | undefined, d = 0) => (v === undefined || !Number.isFinite(v) ? '–' : v.toFixed(d));
  const rows = [['controller', 'median cycles', 'median µs', 'p99 µs', 'deadline misses', 'input viol', 'state viol', 'cost / host MPC', 'deviation', 'flags']];
  for (const c of s.controllers)
    rows.push([
      c.name,
      n(c.latency?.cycles.median),
      n(c.latency?.us.median, 1),
      n(c.latency?.us.p99, 1),
      c.latency ? `${c.latency.deadlineMisses}/${c.steps}` : '–',
      `${c.inputViolations.count}`,
      `${c.stateViolations.count}${c.stateViolations.count ? ` (max ${e(c.stateViolations.max)})` : ''}`,
      n(c.costRatio, 4),
      c.bitExact ? `${c.bitExact.mismatches} of ${c.bitExact.checked} not bit-exact` : c.deviation ? `max ${e(c.deviation.max)} (tol ${c.deviation.tolerance})` : '–',
      c.flags.length ? `⚠ ${c.flags.join('; ')}` : '',
    ]);
  const w = rows[0].map((_, j) => Math.max(...rows.map((r) => r[j].length)));
  const lines = rows.map((r) => r.map((c, j) => c.padEnd(w[j])).join('  '));
  lines.splice(1, 0, w.map((x) => '-'.repeat(x)).join('  '));
  if (s.speedup) lines.push(`\nnetwork is ${s.speedup.toFixed(0)}× faster than the on-board MPC (median cycles); deadline = sample time ${(s.deadlineUs / 1000).toFixed(1)} ms`);
  if (s.teacherHorizon) lines.push(`cost ratios are against the host MPC with the teacher's horizon (${s.teacherHorizon})`);
  return lines.join('\n');
}
