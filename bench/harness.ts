/**
 * Benchmark helpers. The machine has 2 noisy cores, so every figure that goes
 * into results is either a ratio against a baseline measured in the same run
 * (interleaved with it) or an exact count (emulated cycles). Absolute times
 * are printed for orientation only.
 */
export interface Figure {
  name: string;
  value: number;
  unit: string;
  /** 'ratio' (same-run baseline), 'cycles' (exact), 'count', or 'info' (absolute, for orientation). */
  kind: 'ratio' | 'cycles' | 'count' | 'info';
  note?: string;
}

export interface BenchSection {
  section: string;
  figures: Figure[];
  details?: unknown;
}

export function median(xs: number[]): number {
  const s = xs.slice().sort((a, b) => a - b);
  const n = s.length;
  return n === 0 ? NaN : n % 2 ? s[(n - 1) / 2] : 0.5 * (s[n / 2 - 1] + s[n / 2]);
}

export function percentile(xs: number[], p: number): number {
  const s = xs.slice().sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))];
}

/**
 * Time `fn` and `baseline` interleaved in rounds, so that machine noise hits
 * both alike. Returns per-call medians (ms) and their ratio.
 */
export function compareInterleaved(fn: () => void, baseline: () => void, opts: { rounds?: number; callsPerRound?: number } = {}): { ms: number; baselineMs: number; ratio: number } {
  const rounds = opts.rounds ?? 15;
  const calls = opts.callsPerRound ?? 20;
  for (let i = 0; i < 3; i++) (fn(), baseline()); // warm-up / JIT
  const a: number[] = [];
  const b: number[] = [];
  for (let r = 0; r < rounds; r++) {
    let t = performance.now();
    for (let i = 0; i < calls; i++) fn();
    a.push((performance.now() - t) / calls);
    t = performance.now();
    for (let i = 0; i < calls; i++) baseline();
    b.push((performance.now() - t) / calls);
  }
  const ms = median(a);
  const baselineMs = median(b);
  return { ms, baselineMs, ratio: ms / baselineMs };
}

export function fmt(v: number, digits = 3): string {
  if (!Number.isFinite(v)) return String(v);
  const a = Math.abs(v);
  if (a !== 0 && (a < 1e-3 || a >= 1e6)) return v.toExponential(digits - 1);
  return v.toPrecision(digits);
}

export function table(headers: string[], rows: (string | number)[][]): string {
  const cells = [headers, ...rows.map((r) => r.map((c) => (typeof c === 'number' ? fmt(c) : c)))];
  const w = headers.map((_, j) => Math.max(...cells.map((r) => String(r[j]).length)));
  const line = (r: (string | number)[]) => '| ' + r.map((c, j) => String(c).padEnd(w[j])).join(' | ') + ' |';
  return [line(cells[0]), '|' + w.map((x) => '-'.repeat(x + 2)).join('|') + '|', ...cells.slice(1).map(line)].join('\n');
}
