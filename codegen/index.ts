/**
 * codegen/: range analysis, quantisation, the bit-exact integer reference,
 * and the C emitters (policy, on-board MPC). Public surface.
 */
export { analyseRanges, ibp, normalisedDomain, type Interval, type LayerRanges, type RangeReport } from './range.js';
export { QuantizationError, quantizeInput, quantizeModel, runLayer, saturate, type ActKind, type QLayer, type QuantOptions, type QuantizedModel } from './quantize.js';
export { makeTanhTable, tanhQ, tanhTableError, type TanhTable } from './tanh.js';
export { rshiftRound } from './shift.js';
export { foldScales, type Folded } from './fold.js';
export { calibrationStates, inputMoments, roundRow, type InputMoments } from './rounding.js';
export { FIXED_POINT_TOLERANCE, dequantize, fixedPointError, fixedPointVerdict, policyFloat32, policyQ, type ErrorStats } from './reference.js';
export { cComment, cFloat32, cFloatTensor, cIdent, cInt, cIntArray, cString, f32Key, fillTemplate, hexFloat32 } from './c-literals.js';
export { RUNTIME_FILES, emitPolicy, macCount, readRuntime, stampLines, type EmittedFiles } from './emit-c.js';
export { kernelWidth, type KernelWidth } from './emit-nn.js';
export { emitFloatPolicy } from './emit-float.js';
export { AdmmMPC, admmData, type AdmmData, type AdmmResult, type AdmmSettings } from './mpc-admm.js';
export { DEFAULT_MPC_RAM_BUDGET, MPC_RUNTIME_FILES, emitMpc, mpcWorkspaceBytes, onboardHorizon } from './emit-mpc.js';
export { buildReport, reportMarkdown, type CodegenReport } from './report.js';
export { FIRMWARE_FILES, emitFirmware, firmwareVersion, type FirmwareOptions } from './emit-firmware.js';
export { chooseVariant, deployedPolicy, type ChosenVariant } from './variant.js';
