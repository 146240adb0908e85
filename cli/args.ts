/** Parsers for CLI arguments: every failure names the option and the problem. */
import { InvalidArgumentError } from 'commander';

export function parseIntArg(name: string, min = 1) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min) throw new InvalidArgumentError(`${name} must be an integer ≥ ${min}, got "${v}"`);
    return n;
  };
}

export function parseFloatArg(name: string, opts: { min?: number; positive?: boolean } = {}) {
  return (v: string): number => {
    const n = Number(v);
    if (v.trim() === '' || !Number.isFinite(n)) throw new InvalidArgumentError(`${name} must be a finite number, got "${v}"`);
    if (opts.positive && !(n > 0)) throw new InvalidArgumentError(`${name} must be > 0, got "${v}"`);
    if (opts.min !== undefined && n < opts.min) throw new InvalidArgumentError(`${name} must be ≥ ${opts.min}, got "${v}"`);
    return n;
  };
}

/** "1,0.5,-2" → [1, 0.5, -2] */
export function parseVectorArg(name: string) {
  return (v: string): number[] => {
    const parts = v.split(',').map((s) => s.trim());
    const out = parts.map(Number);
    const bad = parts.findIndex((s, i) => s === '' || !Number.isFinite(out[i]));
    if (bad >= 0) throw new InvalidArgumentError(`${name}: entry ${bad} ("${parts[bad]}") is not a finite number`);
    return out;
  };
}

/** "16,16" → [16, 16] */
export function parseIntListArg(name: string, min = 1) {
  return (v: string): number[] => {
    const parts = v.split(',').map((s) => s.trim());
    return parts.map((s, i) => {
      const n = Number(s);
      if (!Number.isInteger(n) || n < min) throw new InvalidArgumentError(`${name}: entry ${i} ("${s}") must be an integer ≥ ${min}`);
      return n;
    });
  };
}
