/**
 * User plants from JSON. Format (`ultro-plant/1`, see docs/plant-file.md):
 *
 *   { "format": "ultro-plant/1", "name": "servo", "time": "continuous" | "discrete",
 *     "dt": 0.01, "A": [[...]], "B": [[...]],
 *     "xMin": [.. | null], "xMax": [...], "uMin": [...], "uMax": [...],
 *     "Q": [[...]] | [diagonal], "R": [[...]] | [diagonal],
 *     "domainMin"?: [.. | null], "domainMax"?: [.. | null],
 *     "stateNames"?: [...], "inputNames"?: [...], "description"?: "..." }
 *
 * `null` in a bound means unbounded; `null` in the domain means "the state's
 * bound". Continuous models are discretised by ZOH.
 * Every error names the file and the field.
 */
import { z } from 'zod';
import { cholesky, fromRows, isSymmetric } from '../linalg.js';
import { InputError, parseWith, readJsonFile } from '../io.js';
import { LIMITS } from '../limits.js';
import { diagRows, plantFromContinuous, plantFromDiscrete, validatePlant, type Plant } from './plant.js';
import { getPlant, plantNames } from './registry.js';

export const PLANT_FORMAT = 'ultro-plant/1';

const finite = z.number({ error: 'expected a finite number' });
const bound = z.union([finite, z.null()], { error: 'expected a finite number or null (unbounded)' });
const matrix = z.array(z.array(finite, { error: 'expected an array of numbers' }), { error: 'expected an array of rows' });
const weight = z.union([matrix, z.array(finite)], { error: 'expected a matrix or a diagonal (array of numbers)' });

const plantFileSchema = z
  .object({
    format: z.literal(PLANT_FORMAT, { error: `expected "${PLANT_FORMAT}"` }).optional(),
    name: z.string({ error: 'expected a string' }).min(1, { error: 'must not be empty' }),
    description: z.string().optional(),
    time: z.enum(['continuous', 'discrete'], { error: 'expected "continuous" or "discrete"' }),
    dt: finite.positive({ error: 'must be > 0' }),
    A: matrix,
    B: matrix,
    xMin: z.array(bound),
    xMax: z.array(bound),
    uMin: z.array(bound),
    uMax: z.array(bound),
    Q: weight,
    R: weight,
    domainMin: z.array(bound).optional(),
    domainMax: z.array(bound).optional(),
    stateNames: z.array(z.string()).optional(),
    inputNames: z.array(z.string()).optional(),
  })
  .strict()
  .superRefine((p, ctx) => {
    const nx = p.A.length;
    const fail = (path: (string | number)[], message: string) => ctx.addIssue({ code: 'custom', path, message });
    if (nx === 0) return fail(['A'], 'must have at least one row');
    p.A.forEach((row, i) => row.length !== nx && fail(['A', i], `has ${row.length} entries, expected ${nx} (A must be square)`));
    if (p.B.length !== nx) return fail(['B'], `has ${p.B.length} rows, expected ${nx} (rows of A)`);
    const nu = p.B[0].length;
    if (nu === 0) return fail(['B', 0], 'must have at least one column');
    p.B.forEach((row, i) => row.length !== nu && fail(['B', i], `has ${row.length} entries, expected ${nu}`));
    const vec = (name: 'xMin' | 'xMax' | 'uMin' | 'uMax' | 'domainMin' | 'domainMax', n: number) => p[name]!.length !== n && fail([name], `has ${p[name]!.length} entries, expected ${n}`);
    vec('xMin', nx);
    vec('xMax', nx);
    vec('uMin', nu);
    vec('uMax', nu);
    for (const [lo, hi, n] of [
      ['xMin', 'xMax', nx],
      ['uMin', 'uMax', nu],
    ] as const)
      for (let i = 0; i < n; i++) {
        const a = p[lo][i],
          b = p[hi][i];
        if (a !== null && b !== null && a !== undefined && b !== undefined && a > b) fail([lo, i], `is greater than ${hi}[${i}]`);
      }
    for (let j = 0; j < nu; j++) if (p.uMin[j] === null || p.uMax[j] === null) fail([p.uMin[j] === null ? 'uMin' : 'uMax', j], 'input bounds must be finite (actuators saturate)');
    const checkWeight = (name: 'Q' | 'R', n: number, strict: boolean) => {
      const w = p[name];
      const rows = typeof w[0] === 'number' ? diagRows(w as number[]) : (w as number[][]);
      if (rows.length !== n) return fail([name], `has ${rows.length} ${typeof w[0] === 'number' ? 'entries' : 'rows'}, expected ${n}`);
      for (let i = 0; i < n; i++) if (rows[i].length !== n) return fail([name, i], `has ${rows[i].length} entries, expected ${n}`);
      const m = fromRows(rows);
      if (!isSymmetric(m, 1e-9)) return fail([name], 'must be symmetric');
      // Q must be positive semidefinite, R positive definite.
      const shifted = fromRows(rows.map((r, i) => r.map((v, j) => (i === j && !strict ? v + 1e-9 * Math.max(1, Math.abs(v)) : v))));
      if (!cholesky(shifted, strict ? 1e-12 : 0)) fail([name], strict ? 'must be positive definite' : 'must be positive semidefinite');
    };
    checkWeight('Q', nx, false);
    checkWeight('R', nu, true);
    if ((p.domainMin === undefined) !== (p.domainMax === undefined)) fail([p.domainMin === undefined ? 'domainMin' : 'domainMax'], 'give domainMin and domainMax together');
    else if (p.domainMin && p.domainMax && p.domainMin.length === nx && p.domainMax.length === nx) {
      for (let i = 0; i < nx; i++) {
        const dlo = p.domainMin[i] ?? p.xMin[i],
          dhi = p.domainMax[i] ?? p.xMax[i];
        const blo = p.xMin[i] ?? -Infinity,
          bhi = p.xMax[i] ?? Infinity;
        if (dlo === null || dlo === undefined) fail(['domainMin', i], 'state is unbounded below: give a finite domain');
        else if (dlo < blo) fail(['domainMin', i], `is below xMin[${i}] (the domain must lie inside the state bounds)`);
        if (dhi === null || dhi === undefined) fail(['domainMax', i], 'state is unbounded above: give a finite domain');
        else if (dhi > bhi) fail(['domainMax', i], `is above xMax[${i}] (the domain must lie inside the state bounds)`);
        if (typeof dlo === 'number' && typeof dhi === 'number' && !(dlo < dhi)) fail(['domainMin', i], `must be below domainMax[${i}]`);
      }
    } else if (p.domainMin && p.domainMax) {
      vec('domainMin', nx);
      vec('domainMax', nx);
    }
    if (p.stateNames && p.stateNames.length !== nx) fail(['stateNames'], `has ${p.stateNames.length} entries, expected ${nx}`);
    if (p.inputNames && p.inputNames.length !== nu) fail(['inputNames'], `has ${p.inputNames.length} entries, expected ${nu}`);
  });

export type PlantFile = z.infer<typeof plantFileSchema>;

const lo = (v: (number | null)[]) => v.map((x) => (x === null ? -Infinity : x));
const hi = (v: (number | null)[]) => v.map((x) => (x === null ? Infinity : x));
const asMatrix = (w: number[] | number[][]) => (typeof w[0] === 'number' ? diagRows(w as number[]) : (w as number[][]));

/** Validate a parsed plant document and build the Plant. `source` names it in errors. */
export function plantFromJson(data: unknown, source = 'plant'): Plant {
  const p = parseWith(plantFileSchema, data, source);
  const spec = {
    name: p.name,
    description: p.description ?? `User plant from ${source}`,
    source,
    dt: p.dt,
    xBounds: { min: lo(p.xMin), max: hi(p.xMax) },
    uBounds: { min: lo(p.uMin), max: hi(p.uMax) },
    ...(p.domainMin && p.domainMax ? { domain: { min: p.domainMin.map((v, i) => v ?? (p.xMin[i] as number)), max: p.domainMax.map((v, i) => v ?? (p.xMax[i] as number)) } } : {}),
    Q: asMatrix(p.Q),
    R: asMatrix(p.R),
    stateNames: p.stateNames,
    inputNames: p.inputNames,
  };
  if (p.A.length > LIMITS.maxStates) throw new InputError(`${source}: A: ${p.A.length} states; at most ${LIMITS.maxStates} are supported`);
  const plant = p.time === 'continuous' ? plantFromContinuous({ ...spec, Ac: p.A, Bc: p.B }) : plantFromDiscrete({ ...spec, A: p.A, B: p.B });
  validatePlant(plant, source);
  return plant;
}

export function loadPlantFile(path: string): Plant {
  return plantFromJson(readJsonFile(path), path);
}

/**
 * Resolve a CLI plant argument: a registry name, or a path to a plant JSON file.
 * Anything with a path separator or a .json suffix is treated as a file.
 */
export function resolvePlant(nameOrPath: string): Plant {
  if (plantNames().includes(nameOrPath)) return getPlant(nameOrPath);
  if (nameOrPath.endsWith('.json') || nameOrPath.includes('/') || nameOrPath.includes('\\')) return loadPlantFile(nameOrPath);
  throw new InputError(`--plant: "${nameOrPath}" is neither a registry plant (${plantNames().join(', ')}) nor a .json file`);
}

/** Serialise a plant to the file format (for `ultro plants --export`, and round-trip tests). */
export function plantToJson(p: Plant): PlantFile {
  const b = (v: number[]) => v.map((x) => (Number.isFinite(x) ? x : null));
  return {
    format: PLANT_FORMAT,
    name: p.name,
    description: p.description,
    time: 'discrete',
    dt: p.dt,
    A: p.A,
    B: p.B,
    xMin: b(p.xBounds.min),
    xMax: b(p.xBounds.max),
    uMin: b(p.uBounds.min),
    uMax: b(p.uBounds.max),
    Q: p.Q,
    R: p.R,
    ...(p.domain ? { domainMin: p.domain.min.slice(), domainMax: p.domain.max.slice() } : {}),
    stateNames: p.stateNames,
    inputNames: p.inputNames,
  };
}
