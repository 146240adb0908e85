/**
 * From a model artifact to a built firmware for a board: emit the
 * controllers and the firmware sources (codegen), then build (targets). When
 * both controllers do not fit one image, `buildFirmwareImages` builds one per
 * controller (a typed FirmwareTooLargeError, not a message, decides).
 */
import { join } from 'node:path';
import { InputError } from '../sim/index.js';
import type { PolicyModel, VariantChoice } from '../trainer/index.js';
import { emitFirmware, mpcWorkspaceBytes, type AdmmData, type QuantizedModel } from '../codegen/index.js';
import { FirmwareTooLargeError, buildFirmware, type Board, type BuildResult } from '../targets/index.js';
import type { ControllerKind } from '../firmware-host/index.js';
import { modelArtifact, type ModelArtifact } from './artifact.js';

export interface FirmwareBuildOptions {
  controllers?: ControllerKind[];
  /** Integer width of the policy (default: the artifact's, chosen by codegen's chooseVariant). */
  variant?: VariantChoice;
  mpcHorizon?: number;
  mpcIters?: number;
  mpcTol?: number;
}

export interface ModelFirmware {
  build: BuildResult;
  artifact: ModelArtifact;
  model: PolicyModel;
  quant: QuantizedModel;
  mpc: AdmmData | null;
  controllers: ControllerKind[];
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
    throw new InputError(
      `--mpc-horizon: an on-board MPC with horizon ${d.N} needs ${need} B of RAM for its workspace; the ${board.name} has ${have} B (${board.ramReserveBytes} B of its ${board.ramBytes} B kept for the stack and buffers): shorten the horizon, or leave --mpc-horizon out to get the longest that fits`,
    );
}

/** One firmware image with the given controllers (a model file, a model, or an artifact built once). */
export function buildModelFirmware(board: Board, src: string | PolicyModel | ModelArtifact, outDir: string, o: FirmwareBuildOptions = {}): ModelFirmware {
  const a = modelArtifact(src, { variant: o.variant });
  const controllers = o.controllers ?? ['policy', 'mpc'];
  const { plant } = a;
  const horizon = a.onboardHorizon(o.mpcHorizon);
  if (controllers.includes('mpc')) checkMpcFits(board, { nx: plant.nx, nu: plant.nu, N: horizon });
  const { files, mpc } = emitFirmware({
    policy: controllers.includes('policy') ? a.quant : undefined,
    mpc: controllers.includes('mpc') ? { plant, settings: { horizon, maxIter: o.mpcIters ?? 50, tol: o.mpcTol ?? 1e-3 } } : undefined,
    modelHash: a.hash,
    baud: board.serial.baud,
    hal: board.firmware.hal,
    arduino: board.firmware.framework === 'arduino',
  });
  return { build: buildFirmware(board, files, outDir), artifact: a, model: a.model, quant: a.quant, mpc, controllers };
}

export interface FirmwareImages {
  images: ModelFirmware[];
  /** The controllers of each image, in order. */
  groups: ControllerKind[][];
  /** Set when the controllers did not fit one image: what did not fit. */
  split?: string;
}

/**
 * All the controllers in one image when they fit, otherwise one image per
 * controller under `outDir`/firmware-<controller>.
 */
export function buildFirmwareImages(board: Board, src: string | PolicyModel | ModelArtifact, outDir: string, o: FirmwareBuildOptions = {}): FirmwareImages {
  const controllers = o.controllers ?? ['policy', 'mpc'];
  try {
    return { images: [buildModelFirmware(board, src, join(outDir, 'firmware'), { ...o, controllers })], groups: [controllers] };
  } catch (e) {
    if (!(e instanceof FirmwareTooLargeError) || controllers.length < 2) throw e;
    const images = controllers.map((c) => buildModelFirmware(board, src, join(outDir, `firmware-${c}`), { ...o, controllers: [c] }));
    return { images, groups: controllers.map((c) => [c]), split: e.message.split('\n')[0] };
  }
}
