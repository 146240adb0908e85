/**
 * HIL reports: report.json (every figure, the scenario, versions, the model
 * hash and the per-step logs) and report.html (self-contained, inline SVG, no
 * scripts or external resources): trajectories of the network against the
 * MPC with the constraint bounds, control signals, latency histograms and a
 * summary table. Both are deterministic for a deterministic run (no dates).
 */
import { join } from 'node:path';
import { ULTRO_VERSION, toJson, writeFileAtomic } from '../sim/index.js';
import type { HilResult } from './hil.js';
import { formatSummary, rowOf, type HilSummary } from './metrics.js';
import type { Hello } from './protocol.js';
import { esc, histogram, linePlot, type Series } from './svg.js';

export interface ReportMeta {
  modelHash: string;
  target: string;
  link: string;
  hello?: Hello;
  memory?: { flash: number; ram: number; flashLimit: number; ramLimit: number };
  firmware?: string;
}

/** Row colours by what the row is (source, controller), not by its display name. */
const COLORS = {
  board: { policy: '#1f77b4', mpc: '#d62728' },
  host: { policy: '#6baed6', mpc: '#ff9896' },
} as const;

export function reportJson(r: HilResult, s: HilSummary, meta: ReportMeta): unknown {
  const { plant } = r.scenario;
  return {
    generator: `ultro ${ULTRO_VERSION}`,
    node: process.version,
    modelHash: meta.modelHash,
    target: meta.target,
    link: meta.link,
    firmware: meta.hello ? { ...meta.hello, image: meta.firmware } : undefined,
    memory: meta.memory,
    scenario: {
      plant: { name: plant.name, nx: plant.nx, nu: plant.nu, dt: plant.dt, xBounds: plant.xBounds, uBounds: plant.uBounds },
      plantModel: r.scenario.dynamics,
      steps: r.scenario.steps,
      initialStates: r.scenario.initialStates,
      disturbanceStd: r.scenario.disturbanceStd ?? null,
      noiseStd: r.scenario.noiseStd ?? null,
      seed: r.scenario.seed,
    },
    summary: s,
    runs: r.runs.map((run) => ({
      name: run.name,
      source: run.source,
      controller: run.controller,
      episodes: run.episodes.map((e) => ({
        x0: e.x0,
        xEnd: e.xEnd,
        x: e.steps.map((st) => st.x),
        u: e.steps.map((st) => st.u),
        cycles: e.steps.some((st) => st.cycles !== undefined) ? e.steps.map((st) => st.cycles ?? null) : undefined,
        rttMs: e.steps.some((st) => st.rttMs !== undefined) ? e.steps.map((st) => (st.rttMs === undefined ? null : Math.round(st.rttMs * 1000) / 1000)) : undefined,
        status: e.steps.some((st) => st.status !== undefined) ? e.steps.map((st) => st.status ?? null) : undefined,
        iterations: run.controller === 'mpc' && e.steps.some((st) => st.iterations !== undefined) ? e.steps.map((st) => st.iterations ?? null) : undefined,
        bitExact: e.steps.some((st) => st.bitExact !== undefined) ? e.steps.every((st) => st.bitExact !== false) : undefined,
      })),
    })),
  };
}

export function reportHtml(r: HilResult, s: HilSummary, meta: ReportMeta): string {
  const { plant } = r.scenario;
  const dt = plant.dt;
  const episodesShown = Math.min(3, r.scenario.initialStates.length);
  const parts: string[] = [];
  const fmt = (v: number | undefined, d = 1) => (v === undefined || !Number.isFinite(v) ? '–' : v.toFixed(d));
  const fe = (v: number) => (Number.isFinite(v) ? v.toExponential(2) : '–');
  parts.push('<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Ultro HIL report</title>');
  parts.push(
    '<style>body{font:14px system-ui,sans-serif;margin:24px;color:#222;max-width:1200px}h1{font-size:22px}h2{font-size:17px;margin-top:28px}table{border-collapse:collapse;margin:8px 0}td,th{border:1px solid #ccc;padding:4px 8px;text-align:right}th{background:#f3f3f3}td:first-child,th:first-child{text-align:left}.grid{display:flex;flex-wrap:wrap;gap:12px}.ok{color:#080}.bad{color:#b00}code{background:#f5f5f5;padding:1px 4px}</style>',
  );
  parts.push('</head><body>');
  parts.push(`<h1>Ultro hardware-in-the-loop report</h1>`);
  parts.push(
    `<p>Plant <b>${esc(plant.name)}</b> (nx=${plant.nx}, nu=${plant.nu}, dt=${dt} s), ${r.scenario.initialStates.length} initial states × ${r.scenario.steps} steps, ${esc(r.scenario.dynamics)} plant model. Target <b>${esc(meta.target)}</b> over ${esc(meta.link)}. Model <code>${esc(meta.modelHash.slice(0, 16))}…</code>, generator ultro ${esc(ULTRO_VERSION)}.</p>`,
  );
  if (meta.hello)
    parts.push(
      `<p>Firmware: wire protocol ${meta.hello.wireVersion}, F_CPU ${(meta.hello.cpuHz / 1e6).toFixed(0)} MHz, controllers: ${[meta.hello.controllers.policy ? 'network' : '', meta.hello.controllers.mpc ? `MPC (horizon ${meta.hello.mpcHorizon}, ≤ ${meta.hello.mpcMaxIterations} iterations)` : ''].filter(Boolean).join(', ')}.</p>`,
    );
  if (meta.memory) parts.push(`<p>Memory: flash ${meta.memory.flash} B of ${meta.memory.flashLimit} B, static RAM ${meta.memory.ram} B of ${meta.memory.ramLimit} B.</p>`);
  if (s.speedup)
    parts.push(`<p><b>The network is ${s.speedup.toFixed(0)}× faster than the on-board MPC</b> (median on-board cycles). Deadline: the sample time, ${(s.deadlineUs / 1000).toFixed(1)} ms.</p>`);

  parts.push(
    '<h2>Summary</h2><table><tr><th>controller</th><th>median cycles</th><th>min / p99 / max µs</th><th>deadline misses</th><th>input violations</th><th>state violations (max)</th><th>cost / host MPC</th><th>vs host reference</th><th>flags</th></tr>',
  );
  for (const c of s.controllers) {
    const ok = (b: boolean) => `class="${b ? 'ok' : 'bad'}"`;
    const dev = c.bitExact
      ? `<span ${ok(c.bitExact.mismatches === 0)}>${c.bitExact.mismatches === 0 ? 'bit-exact' : `${c.bitExact.mismatches} mismatches`} (${c.bitExact.checked} steps)</span>`
      : c.deviation
        ? `<span ${ok(c.deviation.withinTolerance)}>max ${fe(c.deviation.max)}, RMS ${fe(c.deviation.rms)} (tolerance ${c.deviation.tolerance})</span>`
        : '–';
    parts.push(
      `<tr><td>${esc(c.name)}</td><td>${fmt(c.latency?.cycles.median, 0)}</td><td>${c.latency ? `${fmt(c.latency.us.min)} / ${fmt(c.latency.us.p99)} / ${fmt(c.latency.us.max)}` : '–'}</td><td ${c.latency ? ok(c.latency.deadlineMisses === 0) : ''}>${c.latency ? `${c.latency.deadlineMisses} / ${c.steps}` : '–'}</td><td ${ok(c.inputViolations.count === 0)}>${c.inputViolations.count}</td><td ${ok(c.stateViolations.count === 0)}>${c.stateViolations.count} (${fe(c.stateViolations.max)})</td><td>${fmt(c.costRatio, 4)}</td><td>${dev}</td><td ${c.flags.length ? ok(false) : ''}>${c.flags.length ? esc(`⚠ ${c.flags.join('; ')}`) : ''}</td></tr>`,
    );
  }
  parts.push('</table>');
  if (s.teacherHorizon) parts.push(`<p>Every cost ratio is against the host MPC with the teacher's horizon (${s.teacherHorizon}).</p>`);
  parts.push(
    '<p>Latency is the on-board compute time, read from the chip’s cycle counter (Timer1 at the CPU clock on the Uno) around the controller call. Cost is Σ xᵀQx + uᵀRu over all steps. Violations count excursions beyond the plant’s bounds. The network’s on-board integers are compared with the TypeScript integer reference at every step; the on-board MPC with an exact host solve at the same state.</p>',
  );

  const board = r.runs.filter((x) => x.source === 'board');
  const host = r.runs.filter((x) => x.source === 'host');
  const series = (which: 'x' | 'u', idx: number, ep: number): Series[] =>
    [...board, ...host].map((run) => ({
      name: run.name,
      color: COLORS[run.source][run.controller],
      dashed: run.source === 'host',
      points: run.episodes[ep].steps.map((st, k) => [k * dt, which === 'x' ? st.x[idx] : st.u[idx]] as [number, number]),
    }));
  for (let ep = 0; ep < episodesShown; ep++) {
    parts.push(`<h2>Episode ${ep + 1}: x₀ = [${r.scenario.initialStates[ep].map((v) => v.toFixed(3)).join(', ')}]</h2><div class="grid">`);
    // One plot per state and per control, with the plant's bounds (unbounded sides not drawn).
    const signal = (which: 'x' | 'u', kind: string, nm: string, i: number, lo: number, hi: number, color?: string) =>
      linePlot({
        title: `${kind}: ${nm}`,
        xLabel: 'time (s)',
        yLabel: nm,
        series: series(which, i, ep),
        hlines: [
          { y: lo, label: 'min', color },
          { y: hi, label: 'max', color },
        ].filter((h) => Number.isFinite(h.y)),
      });
    plant.stateNames.forEach((nm, i) => parts.push(signal('x', 'state', nm, i, plant.xBounds.min[i], plant.xBounds.max[i])));
    plant.inputNames.forEach((nm, j) => parts.push(signal('u', 'control', nm, j, plant.uBounds.min[j], plant.uBounds.max[j], '#e377c2')));
    parts.push('</div>');
  }
  if (board.length) {
    parts.push('<h2>On-board latency</h2><div class="grid">');
    for (const run of board) {
      const cyc = run.episodes.flatMap((e) => e.steps.map((st) => st.cycles ?? NaN)).filter(Number.isFinite);
      const c = rowOf(s.controllers, run.source, run.controller);
      parts.push(
        histogram(`${run.name}: cycles per step (median ${fmt(c?.latency?.cycles.median, 0)})`, cyc, {
          xLabel: 'CPU cycles',
          color: COLORS[run.source][run.controller],
          log: run.controller === 'mpc',
        }),
      );
    }
    parts.push('</div>');
  }
  parts.push(`<h2>Terminal summary</h2><pre>${esc(formatSummary(s))}</pre>`);
  parts.push('</body></html>\n');
  return parts.join('\n');
}

export function writeReport(outDir: string, r: HilResult, s: HilSummary, meta: ReportMeta): { json: string; html: string } {
  const json = join(outDir, 'report.json');
  const html = join(outDir, 'report.html');
  writeFileAtomic(json, toJson(reportJson(r, s, meta)));
  writeFileAtomic(html, reportHtml(r, s, meta));
  return { json, html };
}
