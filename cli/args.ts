/** Parsers for CLI arguments: every failure names the option and the problem. */
import { InvalidArgumentError } from 'commander';
import { InputError } from '../sim/index.js';
import { VARIANTS } from '../trainer/index.js';

export function parseIntArg(name: string, min = 1, max = Number.MAX_SAFE_INTEGER) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min) throw new InvalidArgumentError(`${name} must be an integer ≥ ${min}, got "${v}"`);
    if (n > max) throw new InvalidArgumentError(`${name} must be at most ${max}, got "${v}"`);
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

/** "1,0.5,-2" → [1, 0.5, -2]; with `min`, every entry must be ≥ it. */
export function parseVectorArg(name: string, opts: { min?: number } = {}) {
  return (v: string): number[] => {
    const parts = v.split(',').map((s) => s.trim());
    const out = parts.map(Number);
    const bad = parts.findIndex((s, i) => s === '' || !Number.isFinite(out[i]));
    if (bad >= 0) throw new InvalidArgumentError(`${name}: entry ${bad} ("${parts[bad]}") is not a finite number`);
    const low = opts.min === undefined ? -1 : out.findIndex((x) => x < opts.min!);
    if (low >= 0) throw new InvalidArgumentError(`${name}: entry ${low} (${out[low]}) must be ≥ ${opts.min}`);
    return out;
  };
}

/** "16,16" → [16, 16]; at most `maxEntries` entries, each in [min, max]. */
export function parseIntListArg(name: string, min = 1, max = Number.MAX_SAFE_INTEGER, maxEntries = Number.MAX_SAFE_INTEGER) {
  return (v: string): number[] => {
    const parts = v.split(',').map((s) => s.trim());
    if (parts.length > maxEntries) throw new InvalidArgumentError(`${name}: ${parts.length} entries, at most ${maxEntries}`);
    return parts.map((s, i) => {
      const n = Number(s);
      if (!Number.isInteger(n) || n < min) throw new InvalidArgumentError(`${name}: entry ${i} ("${s}") must be an integer ≥ ${min}`);
      if (n > max) throw new InvalidArgumentError(`${name}: entry ${i} (${n}) must be at most ${max}`);
      return n;
    });
  };
}

/** One of a fixed set of words. */
export const choice =
  <T extends string>(name: string, values: readonly T[]) =>
  (v: string): T => {
    if (!values.includes(v as T)) throw new InvalidArgumentError(`${name} must be one of ${values.join(', ')}, got "${v}"`);
    return v as T;
  };

/** "policy", "mpc" or "policy,mpc" */
export function controllersArg(v: string): ('policy' | 'mpc')[] {
  const parts = v.split(',').map((s) => s.trim());
  for (const p of parts) if (p !== 'policy' && p !== 'mpc') throw new InvalidArgumentError(`--controllers: "${p}" is not policy or mpc`);
  if (new Set(parts).size !== parts.length) throw new InvalidArgumentError(`--controllers: "${v}" names a controller twice`);
  return parts as ('policy' | 'mpc')[];
}

/** A per-state vector: one number for every entry, or a comma list of `n` (checked by `vectorOfLength`). */
export function vectorOfLength(name: string, v: number[] | undefined, n: number): number[] | undefined {
  if (!v) return undefined;
  if (v.length === 1) return Array(n).fill(v[0]);
  if (v.length !== n) throw new InputError(`${name}: need 1 or ${n} entries (one per state), got ${v.length}`);
  return v;
}

/** --variant, the same in every command that deploys a network (codegen, build, hil). */
export const VARIANT_OPTION = {
  flags: '--variant <v>',
  help: 'int8, int16 or auto (the width the model was refitted for, else the narrowest within the fixed-point tolerance)',
  parse: choice('--variant', [...VARIANTS, 'auto'] as const),
} as const;

/**
 * The model file, `--model <file>` in every command. `codegen` and `eval` also
 * take it as a positional argument, the old form (kept for one release).
 */
export const MODEL_OPTION = { flags: '--model <file>', help: 'model.json written by ultro train' } as const;
export function modelFileArg(positional: string | undefined, option: string | undefined): string {
  if (positional !== undefined && option !== undefined && positional !== option) throw new InputError(`--model: given twice, as ${option} and as ${positional}; give it once`);
  const file = option ?? positional;
  if (file === undefined) throw new InputError('--model: missing; give the model file written by ultro train (--model model.json)');
  return file;
}
