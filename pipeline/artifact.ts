/**
 * A model file as the later stages use it, built once: the policy model, its
 * plant, the deployed integer network (width chosen by codegen's rule, with
 * its fixed-point error), the hashes, and the on-board MPC's horizon.
 * `ultro demo`, `hil`, `build` and `codegen` take one of these rather than
 * loading and quantising the file again at each stage.
 */
import type { Plant } from '../sim/index.js';
import { loadModel, modelHash, modelHash32, modelPlant, type PolicyModel, type VariantChoice } from '../trainer/index.js';
import { chooseVariant, onboardHorizon, type ChosenVariant, type QuantizedModel } from '../codegen/index.js';

export interface ArtifactOptions {
  /** Integer width of the deployed policy (default auto: codegen's chooseVariant). */
  variant?: VariantChoice;
  /** Per-neuron weight scales (default auto). */
  perNeuron?: 'auto' | boolean;
}

export interface ModelArtifact {
  /** Where the model came from: its file, or "(in memory)". */
  source: string;
  model: PolicyModel;
  plant: Plant;
  /** The deployed policy: quantised network, fixed-point error, and why this width. */
  deployed: ChosenVariant;
  quant: QuantizedModel;
  /** SHA-256 of the canonical model (hex), and its first 32 bits as the firmware's HELLO carries them. */
  hash: string;
  hash32: number;
  /** The teacher's MPC horizon (the host MPC every cost ratio is against). */
  teacherHorizon: number;
  /** The on-board MPC's horizon: the requested one, else the teacher's shortened to fit the workspace budget. */
  onboardHorizon(requested?: number): number;
}

export function modelArtifact(src: string | PolicyModel | ModelArtifact, o: ArtifactOptions = {}): ModelArtifact {
  if (typeof src === 'object' && 'deployed' in src) {
    const sameWidth = o.variant === undefined || o.variant === 'auto' || o.variant === src.quant.variant;
    if (sameWidth && (o.perNeuron === undefined || o.perNeuron === 'auto')) return src;
    src = src.model;
  }
  const model = typeof src === 'string' ? loadModel(src) : src;
  const plant = modelPlant(model);
  const deployed = chooseVariant(model, o.variant ?? 'auto', o.perNeuron ?? 'auto');
  const teacherHorizon = model.mpc?.horizon ?? 20;
  return {
    source: typeof src === 'string' ? src : '(in memory)',
    model,
    plant,
    deployed,
    quant: deployed.q,
    hash: modelHash(model),
    hash32: modelHash32(model),
    teacherHorizon,
    onboardHorizon: (requested) => onboardHorizon(teacherHorizon, requested, plant),
  };
}
