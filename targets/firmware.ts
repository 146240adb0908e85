/**
 * From a model file to a built firmware for a board: quantise, emit the
 * controllers and the firmware sources (codegen), then build (this folder).
 */
import { loadModel, modelPlant, type PolicyModel } from '../trainer/index.js';
import { InputError } from '../sim/index.js';
import { chooseVariant, emitFirmware, mpcWorkspaceBytes, onboardHorizon, quantizeModel, type AdmmData, type QuantizedModel, type VariantChoice } from '../codegen/index.js';
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

/**
 * The on-board MPC's workspace against the board's RAM, before anything is
 * generated or compiled: a horizon that cannot fit is a one-line error naming
 * the sizes, not a linker failure.
 */
export function checkMpcFits(board: Board, d: { nx: number; nu: number; N: number }): void {
  const need = mpcWorkspaceBytes(d);
  const have = board.ramBytes - board.ramReserveBytes;
  if (need > have)
    throw new InputError(`--mpc-horizon: an on-board MPC with horizon ${d.N} needs ${need} B of RAM for its workspace; the ${board.name} has ${have} B (${board.ramReserveBytes} B of its ${board.ramBytes} B kept for the stack and buffers): shorten the horizon, or leave --mpc-horizon out to get the longest that fits`);
}

export function buildModelFirmware(board: Board, modelOrPath: string | PolicyModel, outDir: string, o: FirmwareBuildOptions = {}): ModelFirmware {
  const model = typeof modelOrPath === 'string' ? loadModel(modelOrPath) : modelOrPath;
  const controllers = o.controllers ?? ['policy', 'mpc'];
  const quant = o.variant === 'int8' || o.variant === 'int16' ? quantizeModel(model, { variant: o.variant }) : chooseVariant(model, 'auto').q;
  const plant = modelPlant(model);
  const horizon = onboardHorizon(model.mpc?.horizon, o.mpcHorizon, { nx: plant.nx, nu: plant.nu });
  if (controllers.includes('mpc')) checkMpcFits(board, { nx: plant.nx, nu: plant.nu, N: horizon });
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
