/**
 * firmware-host/: the wire protocol (host side), links to boards (serial,
 * emulated Uno, mock), the Device layer, the HIL runner and its reports, and
 * the johnny-five rig mode. Public surface.
 */
export * from './protocol.js';
export { type Link, LinkError, Listeners, chunks } from './links/link.js';
export { MockLink, type Responder } from './links/mock.js';
export { SerialLink, listSerialPorts, type SerialLinkOptions } from './links/serial.js';
export { EmulatedUnoLink, type EmulatedUnoOptions } from './links/emulated-uno.js';
export { VirtualBoard, virtualBoardResponder, type VirtualBoardOptions } from './links/virtual-board.js';
export { UNO_CPU_HZ, UnoEmulator, programFromHex } from './emulator/uno.js';
export { BoardResetError, Device, DeviceError, DeviceTimeoutError, MAX_NX, NonFiniteControlError, type DeviceOptions, type StepResult } from './device.js';
export { feasibleInitialStates, runHil, type ControllerRun, type Episode, type HilOptions, type HilProgress, type HilResult, type Scenario, type StepLog } from './hil.js';
export { MPC_DEVIATION_TOLERANCE, formatSummary, rowOf, spread, summariseHil, type ControllerSummary, type HilSummary, type Spread } from './metrics.js';
export { reportHtml, reportJson, writeReport, type ReportMeta } from './report.js';
export { RIG_FORMAT, Rig, RigSafetyError, loadRigConfig, parseRigConfig, type RigConfig, type RigOptions, type RigStep } from './rig.js';
