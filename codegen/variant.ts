/**
 * Which integer width a model is deployed in. `auto` takes the width the
 * model's quantisation-aware refit targeted (its provenance says), else int8
 * when its fixed-point error is within FIXED_POINT_TOLERANCE, else int16 when
 * that is. Every command that quantises a model (codegen, build, hil, demo)
 * resolves the width here, so they agree.
 */
import { heldOutStates, type PolicyModel, type Variant, type VariantChoice } from '../trainer/index.js';
import { quantizeInput, quantizeModel, type QuantizedModel } from './quantize.js';
import { FIXED_POINT_TOLERANCE, fixedPointError, fixedPointVerdict, policyQ, type ErrorStats } from './reference.js';

export interface ChosenVariant {
  q: QuantizedModel;
  /** Fixed-point against float on the report's 10,000-state grid. */
  error: ErrorStats;
  verdict: ReturnType<typeof fixedPointVerdict>;
  /** Why this width, in words. */
  why: string;
}

export function chooseVariant(model: PolicyModel, requested: VariantChoice, perNeuron: 'auto' | boolean = 'auto'): ChosenVariant {
  const grid = heldOutStates(model, 10_000, 1).X;
  const quant = (v: Variant) => {
    const q = quantizeModel(model, { variant: v, perNeuron });
    const error = fixedPointError(q, model, grid, q.nx);
    return { q, error, verdict: fixedPointVerdict(error) };
  };
  if (requested !== 'auto') return { ...quant(requested), why: `--variant ${requested}` };
  const refit = (model.provenance as { qat?: unknown } | undefined)?.qat;
  if (refit === 'int8' || refit === 'int16') return { ...quant(refit), why: `the model was refitted for ${refit}` };
  const q8 = quant('int8');
  if (q8.verdict.ok) return { ...q8, why: 'int8 is within the tolerance' };
  const q16 = quant('int16');
  if (q16.verdict.ok) return { ...q16, why: `int8 errs by ${(100 * q8.verdict.worst).toFixed(1)} % RMS of the range; int16 is within the tolerance` };
  return { ...q8, why: 'neither width is within the tolerance' };
}

/**
 * The deployed policy of a model in a width, as a float function (output
 * before the actuator clamp, like the trainer's raw network; clamped for a
 * saturating network, which was trained as the clamped policy), and whether its
 * fixed-point error is within the tolerance: what `ultro train` scores its
 * quantisation-aware refit with.
 */
export function deployedPolicy(model: PolicyModel, variant: Variant): { policy: (x: ArrayLike<number>) => number[]; ok: boolean; rmsOfRange: number; tolerance: number } {
  const c = chooseVariant(model, variant);
  const q = c.q;
  const { offset, scale, bounds, saturating } = model.output;
  const box = (u: number, j: number) => (saturating ? Math.min(bounds.max[j], Math.max(bounds.min[j], u)) : u);
  return {
    policy: (x) => policyQ(q, quantizeInput(q, x)).map((v, j) => box(offset[j] + scale[j] * v * q.outLsb[j], j)),
    ok: c.verdict.ok,
    rmsOfRange: c.verdict.worst,
    tolerance: FIXED_POINT_TOLERANCE,
  };
}
