/**
 * Progress for long work, TTY or not: a Heartbeat prints a line for the
 * current phase at most every `everyMs` (default 5 s), so that no phase is
 * silent for long when output goes to a file or a CI log. Callers beat it
 * from their loops as often as they like; only the clock decides what is
 * printed. Lines carry the phase, what is done and an estimate of what is left.
 */
export type LineSink = (line: string) => void;

export class Heartbeat {
  private last = performance.now();
  constructor(
    private readonly sink: LineSink,
    readonly everyMs = 5000,
  ) {}

  /** Something else was printed just now: restart the clock. */
  printed(): void {
    this.last = performance.now();
  }

  /** Print `line()` when the last line is older than everyMs. */
  beat(line: () => string): void {
    const now = performance.now();
    if (now - this.last < this.everyMs) return;
    this.last = now;
    this.sink(line());
  }

  /** Print now, whatever the clock says. */
  say(line: string): void {
    this.last = performance.now();
    this.sink(line);
  }
}

/** "done/total units (p %), ~12 s left" from the elapsed time, assuming a steady rate. */
export function progressText(done: number, total: number, elapsedMs: number, unit = ''): string {
  const frac = total > 0 ? done / total : 0;
  const left = frac > 0 && frac < 1 ? (elapsedMs * (1 - frac)) / frac : NaN;
  return `${done}/${total}${unit ? ` ${unit}` : ''} (${(100 * frac).toFixed(0)} %)${Number.isFinite(left) ? `, ~${formatSeconds(left)} left` : ''}`;
}

export function formatSeconds(ms: number): string {
  const s = ms / 1000;
  if (s < 90) return `${s.toFixed(s < 10 ? 1 : 0)} s`;
  const whole = Math.round(s); // rounded once, so 479.6 s reads 8 min 0 s, not 7 min 60 s
  return `${Math.floor(whole / 60)} min ${whole % 60} s`;
}

/** Wall time per named phase, in the order they first ran. */
export class PhaseTimes {
  private readonly ms = new Map<string, number>();
  private current: { name: string; t0: number } | null = null;

  /** End the running phase (if any) and start `name`. */
  start(name: string): void {
    this.stop();
    this.current = { name, t0: performance.now() };
  }

  stop(): void {
    if (!this.current) return;
    const { name, t0 } = this.current;
    this.ms.set(name, (this.ms.get(name) ?? 0) + performance.now() - t0);
    this.current = null;
  }

  entries(): [string, number][] {
    return [...this.ms.entries()];
  }

  summary(): string {
    const total = [...this.ms.values()].reduce((a, b) => a + b, 0);
    return `${this.entries()
      .map(([n, v]) => `${n} ${formatSeconds(v)}`)
      .join(', ')}; total ${formatSeconds(total)}`;
  }
}
