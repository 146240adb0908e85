/**
 * From a model file to a built firmware for a board: quantise, emit the
 * controllers and the firmware sources (codegen), then build (this folder).
 */
import { loadModel, modelPlant, type PolicyModel } from '../trainer/index.js';
import { chooseVariant, emitFirmware, onboardHorizon, quantizeModel, type AdmmData, type QuantizedModel, type VariantChoice } from '../codegen/index.js';
import type { Board } from './boards.js';
import { buildFirmware, type BuildResult } from './build.js';

export interface FirmwareBuildOptions {
  controllers?: ('policy' | 'mpc')[];
  /** Integer width of the policy (default auto: see codegen's chooseVariant). */
  variant?: VariantChoice;
  mpcHorizon?: number;
  mpcIters?: number;
  mpcTol?: number;
}

export interface ModelFirmware {
  build: BuildResult;
  model: PolicyModel;
  quant: QuantizedModel;
  mpc: AdmmData | null;
  controllers: ('policy' | 'mpc')[];
}

export function buildModelFirmware(board: Board, modelOrPath: string | PolicyModel, outDir: string, o: FirmwareBuildOptions = {}): ModelFirmware {
  const model = typeof modelOrPath === 'string' ? loadModel(modelOrPath) : modelOrPath;
  const controllers = o.controllers ?? ['policy', 'mpc'];
  const quant = o.variant === 'int8' || o.variant === 'int16' ? quantizeModel(model, { variant: o.variant }) : chooseVariant(model, 'auto').q;
  const plant = modelPlant(model);
  const horizon = onboardHorizon(model.mpc?.horizon, o.mpcHorizon, { nx: plant.nx, nu: plant.nu });
  const { files, mpc } = emitFirmware({
    policy: controllers.includes('policy') ? quant : undefined,
    mpc: controllers.includes('mpc') ? { plant, settings: { horizon, maxIter: o.mpcIters ?? 50, tol: o.mpcTol ?? 1e-3 } } : undefined,
    modelHash: quant.modelHash,
    baud: board.serial.baud,
    hal: board.firmware.hal,
    arduino: board.firmware.framework === 'arduino',
  });
  return { build: buildFirmware(board, files, outDir), model, quant, mpc, controllers };
}
