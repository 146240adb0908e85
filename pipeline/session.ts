/**
 * A complete HIL session, as `ultro hil` and `ultro demo` run it: firmware
 * for the board (one image with both controllers when it fits, otherwise one
 * per controller), links (emulated Uno, or a serial port with a flashed
 * board), the handshake, the scenario, the runs, the report.
 */
import cliProgress from 'cli-progress';
import { Heartbeat, type Dynamics } from '../sim/index.js';
import type { PolicyModel, VariantChoice } from '../trainer/index.js';
import { getBoard } from '../targets/index.js';
import {
  Device,
  EmulatedUnoLink,
  SerialLink,
  feasibleInitialStates,
  runHil,
  summariseHil,
  writeReport,
  type ControllerKind,
  type HilResult,
  type HilSummary,
  type Link,
} from '../firmware-host/index.js';
import { modelArtifact, type ModelArtifact } from './artifact.js';
import { buildFirmwareImages, type ModelFirmware } from './firmware.js';

export interface SessionOptions {
  /** The model: a file, a model, or an artifact built once by the caller. */
  model: string | PolicyModel | ModelArtifact;
  target: string;
  /** A serial port with a flashed board; absent: emulate the board. */
  port?: string;
  out: string;
  steps: number;
  runs: number;
  seed: number;
  controllers?: ControllerKind[];
  dynamics?: Dynamics;
  noiseStd?: number[];
  disturbanceStd?: number[];
  mpcHorizon?: number;
  mpcIters?: number;
  /** Integer width of the policy (default: the artifact's, codegen's chooseVariant). */
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
  const art = modelArtifact(o.firmware?.artifact ?? o.model, { variant: o.variant });
  const { plant, model } = art;
  const controllers = o.controllers ?? ['policy', 'mpc'];
  const firmware: ModelFirmware[] = [];
  const links: { link: Link; controllers: ControllerKind[] }[] = [];
  if (!o.port) {
    if (board.emulator !== 'avr8js-atmega328p') throw new Error(`--emulate: only the Uno (ATmega328P) can be emulated; for ${board.name} give --port`);
    const fwOpts = { mpcHorizon: o.mpcHorizon, mpcIters: o.mpcIters, controllers };
    let groups: ControllerKind[][] = [controllers];
    if (o.firmware) {
      // the board runs what was built into it
      firmware.push(o.firmware);
      groups = [o.firmware.controllers];
    } else {
      const built = buildFirmwareImages(board, art, o.out, fwOpts);
      if (built.split) log(`firmware: both controllers do not fit one ${board.name} (${built.split}); building one firmware per controller`);
      firmware.push(...built.images);
      groups = built.groups;
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
  const devices: { device: Device; controllers: ControllerKind[] }[] = [];
  try {
    for (const l of links) {
      const device = await Device.connect(l.link, { modelHash32: art.hash32, controllers: l.controllers, nx: plant.nx, nu: plant.nu });
      log(`connected: ${l.link.name}, firmware for model ${art.hash32.toString(16).padStart(8, '0')}, F_CPU ${(device.hello.cpuHz / 1e6).toFixed(0)} MHz`);
      devices.push({ device, controllers: l.controllers });
    }
    // Initial states from which both the MPC the board runs (its horizon) and the teacher are feasible.
    const horizon = firmware.find((f) => f.mpc)?.mpc?.N ?? art.onboardHorizon(o.mpcHorizon);
    const initialStates = feasibleInitialStates(plant, model.input.domain, o.runs, o.seed, Math.max(horizon, art.teacherHorizon));
    const bar =
      (o.progress ?? process.stderr.isTTY)
        ? new cliProgress.SingleBar({ format: 'hil [{bar}] {percentage}% | {value}/{total} steps | {run}', stream: process.stderr, hideCursor: true }, cliProgress.Presets.shades_classic)
        : null;
    const total = o.runs * o.steps * (controllers.length + 2);
    bar?.start(total, 0, { run: '' });
    let lastTenth = 0;
    const hb = new Heartbeat(log);
    let result: HilResult;
    try {
      result = await runHil(
        { plant, initialStates, steps: o.steps, dynamics: o.dynamics ?? 'linear', noiseStd: o.noiseStd, disturbanceStd: o.disturbanceStd, seed: o.seed },
        {
          boards: devices,
          model,
          quant: firmware.find((f) => f.controllers.includes('policy'))?.quant ?? art.quant,
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
      modelHash: art.hash,
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
