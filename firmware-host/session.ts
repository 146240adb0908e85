/**
 * A complete HIL session, as `ultro hil` and `ultro demo` run it: firmware
 * for the board (one image with both controllers when it fits, otherwise one
 * per controller), links (emulated Uno, or a serial port with a flashed
 * board), the handshake, the scenario, the runs, the report.
 */
import { join } from 'node:path';
import cliProgress from 'cli-progress';
import { Heartbeat, type PlantModel } from '../sim/index.js';
import { modelHash, modelPlant, type PolicyModel } from '../trainer/index.js';
import { chooseVariant, onboardHorizon, quantizeModel, type VariantChoice } from '../codegen/index.js';
import { ToolchainError, buildModelFirmware, getBoard, type ModelFirmware } from '../targets/index.js';
import { Device } from './device.js';
import { feasibleInitialStates, runHil, type HilResult } from './hil.js';
import { EmulatedUnoLink } from './links/emulated-uno.js';
import { SerialLink } from './links/serial.js';
import type { Link } from './links/link.js';
import { summariseHil, type HilSummary } from './metrics.js';
import type { ControllerKind } from './protocol.js';
import { writeReport } from './report.js';

export interface SessionOptions {
  model: PolicyModel;
  target: string;
  /** A serial port with a flashed board; absent: emulate the board. */
  port?: string;
  out: string;
  steps: number;
  runs: number;
  seed: number;
  controllers?: ControllerKind[];
  plantModel?: PlantModel;
  noiseStd?: number[];
  disturbanceStd?: number[];
  mpcHorizon?: number;
  mpcIters?: number;
  /** Integer width of the policy (default int8). */
  variant?: VariantChoice;
  /** Firmware already built by the caller for these controllers (skips the build). */
  firmware?: ModelFirmware;
  /** Emulated boards to spread episodes over (default: 2, one per core; each runs on its own thread). */
  parallel?: number;
  progress?: boolean;
  log?: (s: string) => void;
}

export interface SessionResult {
  result: HilResult;
  summary: HilSummary;
  report: { json: string; html: string };
  firmware: ModelFirmware[];
}

export async function runSession(o: SessionOptions): Promise<SessionResult> {
  const log = o.log ?? (() => {});
  const board = getBoard(o.target);
  const plant = modelPlant(o.model);
  const controllers = o.controllers ?? ['policy', 'mpc'];
  const firmware: ModelFirmware[] = [];
  const links: { link: Link; controllers: ControllerKind[] }[] = [];
  if (!o.port) {
    if (board.firmware.hal !== 'ultro_hal_avr.c') throw new Error(`--emulate: only the Uno (ATmega328P) can be emulated; for ${board.name} give --port`);
    const fwOpts = { mpcHorizon: o.mpcHorizon, mpcIters: o.mpcIters, variant: o.variant };
    let groups: ControllerKind[][] = [controllers];
    try {
      firmware.push(o.firmware ?? buildModelFirmware(board, o.model, join(o.out, 'firmware'), { ...fwOpts, controllers }));
    } catch (e) {
      if (!(e instanceof ToolchainError) || !/does not fit/.test(e.message) || controllers.length < 2) throw e;
      log(`firmware: both controllers do not fit one ${board.name} (${e.message.split('\n')[0]}); building one firmware per controller`);
      groups = controllers.map((c) => [c]);
      for (const c of controllers) firmware.push(buildModelFirmware(board, o.model, join(o.out, `firmware-${c}`), { ...fwOpts, controllers: [c] }));
    }
    const parallel = Math.max(1, o.parallel ?? 2);
    firmware.forEach((fw, i) => {
      log(`firmware: ${fw.controllers.join(' + ')} → ${fw.build.hex} (flash ${fw.build.size?.flash} B, RAM ${fw.build.size?.ram} B)`);
      // Emulated boards are free: run `parallel` of them, each on its own thread, and spread the episodes.
      for (let p = 0; p < parallel; p++) links.push({ link: new EmulatedUnoLink(fw.build.hex!, { thread: parallel > 1 }), controllers: groups[i] });
    });
  } else {
    links.push({ link: new SerialLink(o.port, { baudRate: board.serial.baud }), controllers });
  }
  const hash = modelHash(o.model);
  const hash32 = parseInt(hash.slice(0, 8), 16);
  const devices: { device: Device; controllers: ControllerKind[] }[] = [];
  try {
    for (const l of links) {
      const device = await Device.connect(l.link, { modelHash32: hash32, controllers: l.controllers, nx: plant.nx, nu: plant.nu });
      log(`connected: ${l.link.name}, firmware for model ${hash32.toString(16).padStart(8, '0')}, F_CPU ${(device.hello.cpuHz / 1e6).toFixed(0)} MHz`);
      devices.push({ device, controllers: l.controllers });
    }
    // Initial states from which both the MPC the board runs (its horizon) and the teacher are feasible.
    const horizon = firmware.find((f) => f.mpc)?.mpc?.N ?? onboardHorizon(o.model.mpc?.horizon, o.mpcHorizon, plant);
    const initialStates = feasibleInitialStates(plant, o.model.input.domain, o.runs, o.seed, Math.max(horizon, o.model.mpc?.horizon ?? horizon));
    const bar = (o.progress ?? process.stderr.isTTY) ? new cliProgress.SingleBar({ format: 'hil [{bar}] {percentage}% | {value}/{total} steps | {run}', stream: process.stderr, hideCursor: true }, cliProgress.Presets.shades_classic) : null;
    const total = o.runs * o.steps * (controllers.length + 2);
    bar?.start(total, 0, { run: '' });
    let lastTenth = 0;
    const hb = new Heartbeat(log);
    const quant = firmware.find((f) => f.controllers.includes('policy'))?.quant;
    let result: HilResult;
    try {
      result = await runHil(
        { plant, initialStates, steps: o.steps, plantModel: o.plantModel ?? 'linear', noiseStd: o.noiseStd, disturbanceStd: o.disturbanceStd, seed: o.seed },
        {
          boards: devices,
          model: o.model,
          quant: quant ?? (o.variant === 'int8' || o.variant === 'int16' ? quantizeModel(o.model, { variant: o.variant }) : chooseVariant(o.model, 'auto').q),
          mpcHorizon: horizon,
          onProgress: (p) => {
            if (bar) return bar.update(p.done, { run: p.run });
            // No TTY (logs, CI): a line every 10 %, and at least every 5 s.
            const tenth = Math.floor((10 * p.done) / p.total);
            if (tenth > lastTenth) {
              lastTenth = tenth;
              hb.say(`hil: ${tenth * 10}% (${p.done}/${p.total} steps, ${p.run})`);
            } else hb.beat(() => `hil: ${p.done}/${p.total} steps (${p.run}, episode ${p.episode + 1}, step ${p.step + 1})`);
          },
        },
      );
    } finally {
      bar?.stop();
    }
    const summary = summariseHil(result);
    const size = firmware[0]?.build.size;
    const report = writeReport(o.out, result, summary, {
      modelHash: hash,
      target: board.name,
      link: describeLinks(links.map((l) => l.link.name)),
      hello: devices[0]?.device.hello,
      memory: size ? { flash: size.flash, ram: size.ram, flashLimit: board.flashBytes, ramLimit: board.ramBytes } : undefined,
      firmware: firmware.map((f) => f.build.hex).join(', '),
    });
    return { result, summary, report, firmware };
  } finally {
    for (const d of devices) await d.device.close();
  }
}

/** "2 × emulated Uno (…/firmware.hex)" rather than the same name twice. */
function describeLinks(names: string[]): string {
  const counts = new Map<string, number>();
  for (const n of names) counts.set(n, (counts.get(n) ?? 0) + 1);
  return [...counts].map(([n, c]) => (c > 1 ? `${c} × ${n}` : n)).join(', ');
}
