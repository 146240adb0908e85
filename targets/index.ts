/**
 * targets/: one description per board, and the drivers that build and flash
 * firmware for it. Public surface.
 */
export { BOARDS, boardNames, getBoard, type Board, type CycleCounterKind, type FlashToolKind, type ToolchainKind } from './boards.js';
export { FirmwareTooLargeError, ToolchainError, checkFits, compileAndLink, formatSize, hasCommand, measureSize, sizeOf, toHex, type SizeReport } from './toolchain.js';
export { buildFirmware, type BuildResult } from './build.js';
export { flashFirmware } from './flash.js';
