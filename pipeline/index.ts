/**
 * pipeline/: the stages joined up, between the libraries and the CLI. A model
 * artifact built once from a model file; firmware assembly (codegen's sources,
 * targets' build, split into one image per controller when both do not fit);
 * exact cycle counts on the emulated Uno; the HIL session (firmware, links,
 * handshake, scenario, runs, report). Public surface.
 */
export { modelArtifact, type ArtifactOptions, type ModelArtifact } from './artifact.js';
export { buildFirmwareImages, buildModelFirmware, checkMpcFits, type FirmwareBuildOptions, type FirmwareImages, type ModelFirmware } from './firmware.js';
export { measurePolicyCycles, type PolicyCycles } from './cycles.js';
export { runSession, type SessionOptions, type SessionResult } from './session.js';
