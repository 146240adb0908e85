/** What the trainers report after each outer iteration (and keep as history). */
export interface ProgressEntry {
  method: string;
  phase: 'train' | 'polish';
  outer: number;
  /** Gauss–Newton / Adam steps so far. */
  steps: number;
  /** Mean squared error to the labels (normalised outputs), training set. */
  mse: number;
  /** Largest constraint value max(0, g_i) on the training samples (normalised units). */
  maxViol: number;
  /** AL penalty ρ / fixed penalty β (0 for IP). */
  rho: number;
  /** LM damping (AL), barrier parameter (IP), learning rate (Adam). */
  mu: number;
  timeMs: number;
}

export type ProgressFn = (p: ProgressEntry) => void;

export function formatProgress(p: ProgressEntry): string {
  const e = (v: number) => v.toExponential(2);
  const muName = p.method === 'ip' ? 'μ' : p.method.startsWith('adam') ? 'lr' : 'μ_LM';
  return `${p.method} ${p.phase === 'polish' ? 'polish' : 'outer'} ${String(p.outer).padStart(2)}  steps ${String(p.steps).padStart(4)}  mse ${e(p.mse)}  max viol ${e(p.maxViol)}  ρ ${e(p.rho)}  ${muName} ${e(p.mu)}  ${(p.timeMs / 1000).toFixed(1)}s`;
}
