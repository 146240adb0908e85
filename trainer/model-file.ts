/**
 * model.json: the trained policy and everything needed to use it downstream.
 * Format `ultro-model/1` (spec: docs/model-file.md):
 *
 *   network     sizes, hidden activation, per-layer W (out×in) and b; last layer linear
 *   input       names, declared domain (the state box the network is valid for),
 *               offset/scale: x_n = (x − offset) / scale
 *   output      names, offset/scale: u = offset + scale ⊙ y, actuator bounds
 *   plant       the plant in ultro-plant/1 (discrete) form, so codegen and HIL
 *               can rebuild the plant and the MPC without the registry
 *   mpc         the teacher's settings (horizon, weights, terminal P)
 *   provenance  plant name, method, seed, data, metrics, generator version
 *
 * The model hash is the SHA-256 of the canonical JSON of network, input,
 * output, plant and MPC: everything the generated C and firmware are built
 * from. Generated C and firmware carry it.
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { InputError, LIMITS, applySafetyFilter, parseWith, plantFromJson, safetyFilter, readJsonFile, toJson, writeFileAtomic, type Plant, type PlantFile } from '../sim/index.js';
import { ACTIVATIONS, MLP, type Activation } from './mlp.js';

export const MODEL_FORMAT = 'ultro-model/1';

const finite = z.number({ error: 'expected a finite number' });
const vec = z.array(finite, { error: 'expected an array of numbers' });

const modelSchema = z
  .object({
    format: z.string({ error: 'expected a format string' }).refine((v) => v === MODEL_FORMAT, { error: (i) => `unknown model format ${JSON.stringify(i.input)} (this Ultro reads "${MODEL_FORMAT}")` }),
    generator: z.string().optional(),
    network: z.object({
      sizes: z.array(z.number().int({ error: 'expected an integer' }).min(1, { error: 'must be ≥ 1' })).min(2, { error: 'needs at least input and output sizes' }),
      activation: z.enum(ACTIVATIONS as [Activation, ...Activation[]], { error: `expected one of ${ACTIVATIONS.join(', ')}` }),
      layers: z.array(z.object({ W: z.array(vec), b: vec }).strict()),
    }),
    input: z.object({
      names: z.array(z.string()),
      domain: z.object({ min: vec, max: vec }),
      offset: vec,
      scale: vec,
    }),
    output: z.object({
      names: z.array(z.string()),
      offset: vec,
      scale: vec,
      bounds: z.object({ min: vec, max: vec }),
      safetyFilter: z.boolean({ error: 'expected true or false' }).optional(),
      saturating: z.boolean({ error: 'expected true or false' }).optional(),
    }),
    plant: z.unknown(),
    mpc: z
      .object({
        horizon: z.number().int().min(1),
        Q: z.array(vec),
        R: z.array(vec),
        P: z.array(vec),
        slackPenalty: finite,
        stateConstraints: z.boolean(),
        polytope: z.object({ H: z.array(vec), h: vec }).optional(),
      })
      .optional(),
    provenance: z.record(z.string(), z.unknown()).optional(),
  })
  .superRefine((m, ctx) => {
    const fail = (path: (string | number)[], message: string) => ctx.addIssue({ code: 'custom', path, message });
    const sizes = m.network.sizes;
    if (m.network.layers.length !== sizes.length - 1) return fail(['network', 'layers'], `has ${m.network.layers.length} layers, sizes imply ${sizes.length - 1}`);
    m.network.layers.forEach((L, l) => {
      if (L.W.length !== sizes[l + 1]) fail(['network', 'layers', l, 'W'], `has ${L.W.length} rows, expected ${sizes[l + 1]}`);
      L.W.forEach((row, i) => row.length !== sizes[l] && fail(['network', 'layers', l, 'W', i], `has ${row.length} entries, expected ${sizes[l]}`));
      if (L.b.length !== sizes[l + 1]) fail(['network', 'layers', l, 'b'], `has ${L.b.length} entries, expected ${sizes[l + 1]}`);
    });
    const nx = sizes[0],
      nu = sizes[sizes.length - 1];
    const len = (path: (string | number)[], v: unknown[], n: number) => v.length !== n && fail(path, `has ${v.length} entries, expected ${n}`);
    len(['input', 'domain', 'min'], m.input.domain.min, nx);
    len(['input', 'domain', 'max'], m.input.domain.max, nx);
    len(['input', 'offset'], m.input.offset, nx);
    len(['input', 'scale'], m.input.scale, nx);
    len(['input', 'names'], m.input.names, nx);
    len(['output', 'offset'], m.output.offset, nu);
    len(['output', 'scale'], m.output.scale, nu);
    len(['output', 'names'], m.output.names, nu);
    len(['output', 'bounds', 'min'], m.output.bounds.min, nu);
    len(['output', 'bounds', 'max'], m.output.bounds.max, nu);
    m.input.domain.min.forEach((lo, i) => lo >= m.input.domain.max[i] && fail(['input', 'domain', 'min', i], `must be below domain.max[${i}]`));
    m.output.bounds.min.forEach((lo, j) => lo >= m.output.bounds.max[j] && fail(['output', 'bounds', 'min', j], `must be below bounds.max[${j}]`));
    m.input.scale.forEach((v, i) => !(v > 0) && fail(['input', 'scale', i], 'must be > 0'));
    m.output.scale.forEach((v, j) => !(v > 0) && fail(['output', 'scale', j], 'must be > 0'));
    if (sizes.length - 2 > LIMITS.maxHiddenLayers) fail(['network', 'sizes'], `has ${sizes.length - 2} hidden layers; at most ${LIMITS.maxHiddenLayers} are supported`);
    sizes.slice(1, -1).forEach((w, l) => w > LIMITS.maxWidth && fail(['network', 'sizes', l + 1], `is ${w}; layers up to ${LIMITS.maxWidth} wide are supported`));
    if (m.mpc) {
      const square = (name: 'Q' | 'R' | 'P', rows: number[][], n: number) => {
        if (rows.length !== n) return fail(['mpc', name], `has ${rows.length} rows, expected ${n}`);
        rows.forEach((r, i) => r.length !== n && fail(['mpc', name, i], `has ${r.length} entries, expected ${n}`));
      };
      if (m.mpc.horizon > LIMITS.maxHorizon) fail(['mpc', 'horizon'], `is ${m.mpc.horizon}; at most ${LIMITS.maxHorizon} is supported`);
      square('Q', m.mpc.Q, nx);
      square('R', m.mpc.R, nu);
      square('P', m.mpc.P, nx);
      if (!(m.mpc.slackPenalty > 0)) fail(['mpc', 'slackPenalty'], 'must be > 0');
      const poly = m.mpc.polytope;
      if (poly) {
        if (poly.H.length !== poly.h.length) fail(['mpc', 'polytope', 'h'], `has ${poly.h.length} entries, H has ${poly.H.length} rows`);
        poly.H.forEach((r, i) => r.length !== nx && fail(['mpc', 'polytope', 'H', i], `has ${r.length} entries, expected ${nx}`));
      }
    }
  });

export type ModelFile = z.infer<typeof modelSchema>;

export interface MPCRecord {
  horizon: number;
  Q: number[][];
  R: number[][];
  P: number[][];
  slackPenalty: number;
  stateConstraints: boolean;
  polytope?: { H: number[][]; h: number[] };
}

/** A loaded, validated policy model. */
export interface PolicyModel {
  format: typeof MODEL_FORMAT;
  generator?: string;
  network: { sizes: number[]; activation: Activation; layers: { W: number[][]; b: number[] }[] };
  input: { names: string[]; domain: { min: number[]; max: number[] }; offset: number[]; scale: number[] };
  /**
   * safetyFilter: the deployed policy ends with the plant's one-step safety filter (sim/safety-filter.ts).
   * saturating: the network was trained as the clamped policy (its raw output lies beyond the bounds where
   * the teacher saturates, by design); its actuator bounds hold by the clamp, not by training constraints.
   */
  output: { names: string[]; offset: number[]; scale: number[]; bounds: { min: number[]; max: number[] }; safetyFilter?: boolean; saturating?: boolean };
  plant: PlantFile;
  mpc?: MPCRecord;
  provenance?: Record<string, unknown>;
}

/** Validate a parsed model document; `source` names it in errors. */
export function modelFromJson(data: unknown, source = 'model'): PolicyModel {
  const m = parseWith(modelSchema, data, source);
  // The embedded plant has its own schema and errors.
  let plant: Plant;
  try {
    plant = plantFromJson(m.plant, `${source}: plant`);
  } catch (e) {
    throw new InputError((e as Error).message);
  }
  const nx = m.network.sizes[0],
    nu = m.network.sizes[m.network.sizes.length - 1];
  if (plant.nx !== nx) throw new InputError(`${source}: plant: has ${plant.nx} states, the network takes ${nx} inputs`);
  if (plant.nu !== nu) throw new InputError(`${source}: plant: has ${plant.nu} inputs, the network gives ${nu} outputs`);
  return { ...(m as Omit<PolicyModel, 'plant'>), plant: m.plant as PlantFile };
}

export function loadModel(path: string): PolicyModel {
  return modelFromJson(readJsonFile(path), path);
}

/** Write the model atomically (temp file + rename). */
export function saveModel(path: string, model: PolicyModel): void {
  writeFileAtomic(path, toJson(model));
}

/** The plant a model was trained for. */
export function modelPlant(model: PolicyModel): Plant {
  return plantFromJson(model.plant, 'model plant');
}

/** SHA-256 (hex) of the canonical JSON of what defines π(x): network, input, output. */
export function modelHash(model: PolicyModel): string {
  // The plant (matrices, bounds, names) and the teacher's MPC are part of what
  // the firmware is built from (the on-board MPC, the comments in the C), so a
  // board built for another plant fails the HELLO check. Canonical JSON: keys
  // sorted, so that a plant read from a file hashes like the one written.
  const canon = JSON.stringify({ network: model.network, input: model.input, output: model.output, plant: canonical(model.plant), mpc: canonical(model.mpc ?? null) });
  return createHash('sha256').update(canon).digest('hex');
}

/** A JSON value with every object's keys sorted (and undefined members dropped), for hashing. */
function canonical(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(canonical);
  if (v && typeof v === 'object')
    return Object.fromEntries(
      Object.keys(v)
        .sort()
        .filter((k) => (v as Record<string, unknown>)[k] !== undefined)
        .map((k) => [k, canonical((v as Record<string, unknown>)[k])]),
    );
  return v;
}

/** The first 32 bits of the hash, as the firmware reports it. */
export function modelHash32(model: PolicyModel): number {
  return parseInt(modelHash(model).slice(0, 8), 16) >>> 0;
}

/** θ in the MLP's layout (W_l row-major, then b_l, per layer). */
export function modelTheta(model: PolicyModel): Float64Array {
  const mlp = new MLP({ sizes: model.network.sizes, activation: model.network.activation });
  const th = new Float64Array(mlp.nParams);
  const off = mlp.offsets();
  model.network.layers.forEach((L, l) => {
    L.W.forEach((row, i) => th.set(row, off.w[l] + i * row.length));
    th.set(L.b, off.b[l]);
  });
  return th;
}

export function layersFromTheta(sizes: number[], theta: Float64Array): { W: number[][]; b: number[] }[] {
  const layers: { W: number[][]; b: number[] }[] = [];
  let o = 0;
  for (let l = 1; l < sizes.length; l++) {
    const W: number[][] = [];
    for (let i = 0; i < sizes[l]; i++) {
      W.push(Array.from(theta.subarray(o, o + sizes[l - 1])));
      o += sizes[l - 1];
    }
    const b = Array.from(theta.subarray(o, o + sizes[l]));
    o += sizes[l];
    layers.push({ W, b });
  }
  return layers;
}

/**
 * The float policy u = π(x), with the input clamped to the declared domain
 * (as the C does). With clampOutput the actuator clamp is applied too, and the
 * one-step safety filter when the model has it (what runs on the board, for
 * the unclamped state x); without it the raw network output is returned.
 */
export function policyFunction(model: PolicyModel, opts: { clampOutput?: boolean; clampInput?: boolean; safetyFilter?: boolean } = {}): (x: ArrayLike<number>) => Float64Array {
  const mlp = new MLP({ sizes: model.network.sizes, activation: model.network.activation });
  const theta = modelTheta(model);
  const { input, output } = model;
  const nx = mlp.nIn,
    nu = mlp.nOut;
  const xn = new Float64Array(nx);
  const y = new Float64Array(nu);
  const clampIn = opts.clampInput ?? true;
  const filter = opts.clampOutput && output.safetyFilter && (opts.safetyFilter ?? true) ? safetyFilter(modelPlant(model)) : null;
  return (x) => {
    for (let i = 0; i < nx; i++) {
      const v = clampIn ? Math.min(input.domain.max[i], Math.max(input.domain.min[i], x[i])) : x[i];
      xn[i] = (v - input.offset[i]) / input.scale[i];
    }
    mlp.forward(theta, xn, y);
    const u = new Float64Array(nu);
    for (let j = 0; j < nu; j++) {
      const v = output.offset[j] + output.scale[j] * y[j];
      u[j] = opts.clampOutput ? Math.min(output.bounds.max[j], Math.max(output.bounds.min[j], v)) : v;
    }
    if (filter) applySafetyFilter(filter, x, u);
    return u;
  };
}
