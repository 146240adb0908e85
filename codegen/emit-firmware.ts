/**
 * The firmware source set for a board: the generated controllers, the wire
 * protocol, the main loop and the board's HAL, plus ultro_fw_config.h. The
 * main loop and HALs are hand-written C (codegen/runtime); only the config
 * header is generated.
 */
import { ULTRO_VERSION, type Plant } from '../sim/index.js';
import { fillTemplate } from './c-literals.js';
import { emitPolicy, readRuntime, readTemplate, stampLines, type EmittedFiles } from './emit-c.js';
import { emitMpc } from './emit-mpc.js';
import type { AdmmData, AdmmSettings } from './mpc-admm.js';
import type { QuantizedModel } from './quantize.js';

export const FIRMWARE_FILES = ['ultro_rom.h', 'ultro_wire.h', 'ultro_wire.c', 'ultro_hal.h', 'ultro_fw.c'] as const;

export interface FirmwareOptions {
  /** The quantised policy to embed (omit for an MPC-only firmware). */
  policy?: QuantizedModel;
  /** The on-board MPC to embed (omit for a policy-only firmware). */
  mpc?: { plant: Plant; settings: AdmmSettings };
  modelHash: string;
  baud: number;
  /** HAL source for the board: ultro_hal_avr.c, ultro_hal_host.c or ultro_hal_arduino.cpp. */
  hal: string;
  /** Arduino framework (setup/loop) instead of main(). */
  arduino?: boolean;
}

/** Firmware version reported in HELLO: the package version as 0xMMmm. */
export function firmwareVersion(): number {
  const [maj, min] = ULTRO_VERSION.split('.').map(Number);
  return ((maj & 0xff) << 8) | (min & 0xff);
}

export function emitFirmware(o: FirmwareOptions): { files: EmittedFiles; mpc: AdmmData | null } {
  if (!o.policy && !o.mpc) throw new Error('firmware: embed at least one controller (a policy or an MPC)');
  const files: EmittedFiles = {};
  if (o.policy) Object.assign(files, emitPolicy(o.policy));
  let mpc: AdmmData | null = null;
  if (o.mpc) {
    const e = emitMpc(o.mpc.plant, o.mpc.settings, o.modelHash);
    Object.assign(files, e.files);
    mpc = e.data;
  }
  for (const f of FIRMWARE_FILES) files[f] = readRuntime(f);
  files[o.hal] = readRuntime(o.hal);
  const stamp = [...stampLines({ modelHash: o.modelHash, quantHash: o.policy?.quantHash }, 'firmware configuration')].join('\n * ');
  const config = [
    `#define ULTRO_FW_WITH_POLICY ${o.policy ? 1 : 0}`,
    `#define ULTRO_FW_WITH_MPC ${o.mpc ? 1 : 0}`,
    `#define ULTRO_FW_BAUD ${o.baud}UL`,
    `#define ULTRO_FW_VERSION 0x${firmwareVersion().toString(16).padStart(4, '0')}`,
    `#define ULTRO_FW_MODEL_HASH32 0x${o.modelHash.slice(0, 8)}UL`,
  ].join('\n');
  files['ultro_fw_config.h'] = fillTemplate(readTemplate('ultro_fw_config.h'), { STAMP: stamp, CONFIG: config }, 'ultro_fw_config.h');
  if (o.arduino) {
    files['ultro_fw.ino'] = fillTemplate(readTemplate('ultro_fw_sketch.ino'), { STAMP: stamp.replace(/\n \* /g, '\n * ') }, 'ultro_fw_sketch.ino');
    files['platformio.ini'] = fillTemplate(readTemplate('platformio.ini'), { STAMP: stamp.replace(/\n \* /g, '\n; '), BAUD: String(o.baud) }, 'platformio.ini');
  }
  return { files, mpc };
}
