/**
 * Rig mode: a bench rig whose board runs StandardFirmata, driven through
 * johnny-five. No custom firmware: each sample the host reads the sensors,
 * estimates the state, runs the policy (the integer reference, bit-exact with
 * what a board running the generated C would compute, or the float network),
 * and writes the actuators (PWM, servo, or a motor driver's PWM + direction).
 *
 * Pins and scaling come from a rig file (`ultro-rig/1`, docs/flash-a-board.md):
 *
 *   { "format": "ultro-rig/1", "sampleTime": 0.1, "policy": "integer",
 *     "sensors": [ { "state": 0, "pin": "A0", "min": -5, "max": 5 },
 *                  { "state": 1, "derivativeOf": 0, "smoothing": 0.5 } ],
 *     "actuators": [ { "input": 0, "type": "pwm", "pin": 9 } ] }
 *
 * An analog sensor maps the ADC reading linearly: 0 → min, `rawMax` (1023) → max.
 * A derived state is the finite difference of another, optionally smoothed:
 * v ← s·v + (1 − s)·Δx/T. An actuator maps the input's bounds [uMin, uMax]
 * linearly onto [outMin, outMax] (PWM 0…255, servo 0…180°); a motor drives
 * |u|/max(|uMin|, |uMax|) × 255 on its PWM pin and the sign on its direction pin.
 * On close, every actuator gets its safe input (default 0, inside the bounds).
 *
 * Nothing stale or non-finite reaches an actuator: the rig reads each analog
 * channel itself (the IO plugin's analogRead callback) and notes when each
 * reading arrived. A step whose readings are missing or older than
 * `staleAfter` (default three sample times, at least 100 ms), or whose state
 * or control is not finite, writes the safe inputs instead and throws a
 * RigSafetyError naming the sensor.
 */
import { SerialPort } from 'serialport';
// johnny-five and firmata-io are loaded when a rig connects, not when firmware-host is imported.
import type five from 'johnny-five';
import { z } from 'zod';
import { InputError, parseWith, readJsonFile, type Plant } from '../sim/index.js';
import { modelPlant, policyFunction, type PolicyModel } from '../trainer/index.js';
import { policyFloat32, quantizeModel, type QuantizedModel } from '../codegen/index.js';

export const RIG_FORMAT = 'ultro-rig/1';

/** A step refused because a reading was missing or stale, or a number not finite; the actuators got their safe inputs. */
export class RigSafetyError extends Error {}

const finite = z.number({ error: 'expected a finite number' });
const index = z.number({ error: 'expected an index' }).int({ error: 'expected an integer index' }).nonnegative({ error: 'must be ≥ 0' });
const pin = z.union([z.number().int().nonnegative(), z.string().regex(/^A?\d+$/, { error: 'expected a pin such as 9 or "A0"' })], { error: 'expected a pin number or a name such as "A0"' });

const analogSensor = z
  .object({ state: index, pin, min: finite, max: finite, rawMax: finite.positive().optional() })
  .strict()
  .refine((s) => s.max !== s.min, { error: 'min and max must differ', path: ['max'] });
const derivedSensor = z.object({ state: index, derivativeOf: index, smoothing: finite.min(0).max(0.99).optional() }).strict();
const actuator = z.discriminatedUnion(
  'type',
  [
    z.object({ type: z.literal('pwm'), input: index, pin, outMin: finite.optional(), outMax: finite.optional(), safe: finite.optional() }).strict(),
    z.object({ type: z.literal('servo'), input: index, pin, outMin: finite.optional(), outMax: finite.optional(), safe: finite.optional() }).strict(),
    z.object({ type: z.literal('motor'), input: index, pwm: pin, dir: pin, safe: finite.optional() }).strict(),
  ],
  { error: 'expected type "pwm", "servo" or "motor"' },
);

const rigSchema = z
  .object({
    format: z.literal(RIG_FORMAT, { error: `expected "${RIG_FORMAT}"` }).optional(),
    sampleTime: finite.positive({ error: 'must be > 0 (seconds)' }).optional(),
    policy: z.enum(['integer', 'float'], { error: 'expected "integer" or "float"' }).optional(),
    sensors: z.array(z.union([analogSensor, derivedSensor], { error: 'expected an analog sensor {state, pin, min, max} or a derived one {state, derivativeOf}' })),
    actuators: z.array(actuator),
  })
  .strict();

export type RigConfig = z.infer<typeof rigSchema>;
type AnalogSensor = z.infer<typeof analogSensor>;
type Actuator = z.infer<typeof actuator>;

/** Validate a rig config against the plant: one sensor per state, one actuator per input. */
export function parseRigConfig(data: unknown, plant: Plant, source: string): RigConfig {
  const c = parseWith(rigSchema, data, source);
  const fail = (field: string, msg: string): never => {
    throw new InputError(`${source}: ${field}: ${msg}`);
  };
  const seen = new Map<number, number>();
  c.sensors.forEach((s, k) => {
    if (s.state >= plant.nx) fail(`sensors[${k}].state`, `is ${s.state}, but plant ${plant.name} has ${plant.nx} states (0…${plant.nx - 1})`);
    if (seen.has(s.state)) fail(`sensors[${k}].state`, `state ${s.state} already has a sensor (sensors[${seen.get(s.state)}])`);
    seen.set(s.state, k);
  });
  for (let i = 0; i < plant.nx; i++) if (!seen.has(i)) fail('sensors', `no sensor for state ${i}${plant.stateNames?.[i] ? ` (${plant.stateNames[i]})` : ''}`);
  c.sensors.forEach((s, k) => {
    if ('derivativeOf' in s) {
      const src = c.sensors[seen.get(s.derivativeOf) ?? -1];
      if (!src || !('pin' in src)) fail(`sensors[${k}].derivativeOf`, `state ${s.derivativeOf} must be read from an analog pin`);
    }
  });
  const act = new Map<number, number>();
  c.actuators.forEach((a, k) => {
    if (a.input >= plant.nu) fail(`actuators[${k}].input`, `is ${a.input}, but plant ${plant.name} has ${plant.nu} inputs`);
    if (act.has(a.input)) fail(`actuators[${k}].input`, `input ${a.input} already has an actuator (actuators[${act.get(a.input)}])`);
    act.set(a.input, k);
    if (a.safe !== undefined && (a.safe < plant.uBounds.min[a.input] || a.safe > plant.uBounds.max[a.input]))
      fail(`actuators[${k}].safe`, `${a.safe} is outside the input bounds [${plant.uBounds.min[a.input]}, ${plant.uBounds.max[a.input]}]`);
  });
  for (let j = 0; j < plant.nu; j++) if (!act.has(j)) fail('actuators', `no actuator for input ${j}${plant.inputNames?.[j] ? ` (${plant.inputNames[j]})` : ''}`);
  return c;
}

export function loadRigConfig(path: string, plant: Plant): RigConfig {
  return parseRigConfig(readJsonFile(path), plant, path);
}

export interface RigStep {
  /** Raw ADC readings per analog sensor, in config order. */
  raw: number[];
  x: number[];
  u: number[];
  /** Values written to the actuators' pins (duty 0…255, degrees, or signed motor speed). */
  out: number[];
  /** Host compute time of the policy, µs. */
  computeUs: number;
}

export interface RigOptions {
  /** A serial port with StandardFirmata (57600 baud). */
  port?: string;
  /** An IO plugin instead of a port (tests use mock-firmata). */
  io?: unknown;
  /** Called once the johnny-five board exists, before it is ready (tests emit `ready` here). */
  onBoard?: (board: five.Board) => void;
  timeoutMs?: number;
  /** A reading older than this (s) is stale (default: three sample times, at least 0.1 s). */
  staleAfter?: number;
  /** The clock, ms (tests pass their own). */
  now?: () => number;
}

/** One johnny-five board running a policy. */
export class Rig {
  readonly plant: Plant;
  readonly sampleTime: number;
  /** Each analog sensor's latest reading and when it arrived (ms; −∞ before the first). */
  private readonly sensors: { cfg: AnalogSensor; channel: number; raw: number; at: number }[] = [];
  private readonly staleAfterMs: number;
  private readonly now: () => number;
  private readonly policy: (x: number[]) => number[];
  private readonly writers: { a: Actuator; write: (u: number) => number }[] = [];
  private prev: number[] | null = null;
  private vel = new Map<number, number>();

  private constructor(
    readonly board: five.Board,
    private readonly j5: typeof five,
    readonly model: PolicyModel,
    readonly config: RigConfig,
    readonly quant: QuantizedModel,
    o: RigOptions = {},
  ) {
    this.plant = modelPlant(model);
    this.sampleTime = config.sampleTime ?? this.plant.dt;
    this.staleAfterMs = 1000 * (o.staleAfter ?? Math.max(3 * this.sampleTime, 0.1));
    this.now = o.now ?? (() => performance.now());
    const float = policyFunction(model, { clampOutput: true });
    this.policy = config.policy === 'float' ? (x) => Array.from(float(x)) : (x) => policyFloat32(quant, x).u;
  }

  static async connect(model: PolicyModel, config: RigConfig, o: RigOptions): Promise<Rig> {
    if (!o.io && !o.port) throw new InputError('rig: give --port (a board running StandardFirmata)');
    const timeoutMs = o.timeoutMs ?? 10_000;
    let fail: (e: Error) => void = () => {};
    let done: () => void = () => {};
    const ready = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`rig: no Firmata handshake on ${o.port ?? 'the IO plugin'} within ${timeoutMs} ms (is StandardFirmata flashed, at 57600 baud?)`)), timeoutMs);
      done = () => (clearTimeout(timer), resolve());
      fail = (e) => (clearTimeout(timer), reject(new Error(`rig: ${o.port ?? 'IO plugin'}: ${e.message.replace(/^Error: /, '')}`)));
    });
    const j5 = (await import('johnny-five')).default;
    // firmata-io with our serialport 13 port as its transport (johnny-five's own serialport 8 is not needed).
    const io = o.io ?? new (await import('firmata-io')).default.Firmata(new SerialPort({ path: o.port!, baudRate: 57600 }));
    (io as { on?: (ev: string, f: (e: Error) => void) => void }).on?.('error', (e: Error) => fail(e));
    const board = new j5.Board({ io, repl: false, debug: false, timeout: timeoutMs / 1000 } as five.BoardOption);
    board.on('ready', () => done());
    board.on('error', (e: Error) => fail(e));
    o.onBoard?.(board);
    await ready;
    const rig = new Rig(board, j5, model, config, quantizeModel(model, { variant: 'int8' }), o);
    rig.attach();
    return rig;
  }

  private attach(): void {
    const io = (this.board as unknown as { io: { analogRead(channel: number, cb: (v: number) => void): void } }).io;
    for (const s of this.config.sensors) {
      if (!('pin' in s)) continue;
      const r = { cfg: s, channel: Number(String(s.pin).replace(/^A/, '')), raw: NaN, at: -Infinity };
      this.sensors.push(r);
      io.analogRead(r.channel, (v) => {
        r.raw = v;
        r.at = this.now();
      });
    }
    const { min, max } = this.plant.uBounds;
    for (const a of this.config.actuators) {
      const j = a.input;
      const lin = (lo: number, hi: number) => (u: number) => lo + ((u - min[j]) / (max[j] - min[j])) * (hi - lo);
      if (a.type === 'pwm') {
        const pinNo = Number(a.pin);
        this.board.pinMode(pinNo, this.j5.Pin.PWM);
        const map = lin(a.outMin ?? 0, a.outMax ?? 255);
        this.writers.push({
          a,
          write: (u) => {
            const v = Math.round(Math.min(255, Math.max(0, map(u))));
            this.board.analogWrite(pinNo, v);
            return v;
          },
        });
      } else if (a.type === 'servo') {
        const servo = new this.j5.Servo({ pin: a.pin, board: this.board } as five.ServoGeneralOption);
        const map = lin(a.outMin ?? 0, a.outMax ?? 180);
        this.writers.push({
          a,
          write: (u) => {
            const v = Math.round(Math.min(180, Math.max(0, map(u))));
            servo.to(v);
            return v;
          },
        });
      } else {
        const motor = new this.j5.Motor({ pins: { pwm: Number(a.pwm), dir: Number(a.dir) }, board: this.board } as five.MotorOption);
        const full = Math.max(Math.abs(min[j]), Math.abs(max[j]));
        this.writers.push({
          a,
          write: (u) => {
            const speed = Math.round(Math.min(255, (Math.abs(u) / full) * 255));
            if (speed === 0) motor.stop();
            else if (u > 0) motor.forward(speed);
            else motor.reverse(speed);
            return Math.sign(u) * speed;
          },
        });
      }
    }
  }

  /** Latest ADC readings → state estimate (derived states by finite differences). */
  private estimate(): { raw: number[]; x: number[] } {
    const x = new Array<number>(this.plant.nx).fill(0);
    const now = this.now();
    const raw = this.sensors.map(({ cfg, channel, raw: r, at }) => {
      const age = now - at;
      if (!(age <= this.staleAfterMs) || !Number.isFinite(r))
        this.refuse(
          at === -Infinity
            ? `sensor A${channel} (state ${cfg.state}) has not reported yet`
            : `sensor A${channel} (state ${cfg.state}) is stale: its last reading is ${(age / 1000).toFixed(2)} s old (limit ${(this.staleAfterMs / 1000).toFixed(2)} s)`,
        );
      x[cfg.state] = cfg.min + (r / (cfg.rawMax ?? 1023)) * (cfg.max - cfg.min);
      return r;
    });
    for (const s of this.config.sensors) {
      if (!('derivativeOf' in s)) continue;
      const d = this.prev ? (x[s.derivativeOf] - this.prev[s.derivativeOf]) / this.sampleTime : 0;
      const a = s.smoothing ?? 0;
      const v = a * (this.vel.get(s.state) ?? d) + (1 - a) * d;
      this.vel.set(s.state, v);
      x[s.state] = v;
    }
    this.prev = x.slice();
    return { raw, x };
  }

  /** One sample: read, compute, write (the safe inputs instead, and a RigSafetyError, when anything is stale or not finite). */
  step(): RigStep {
    const { raw, x } = this.estimate();
    if (!x.every(Number.isFinite)) this.refuse(`state estimate [${x.join(', ')}] is not finite`);
    const t0 = performance.now();
    const u = this.policy(x);
    const computeUs = (performance.now() - t0) * 1000;
    if (u.length !== this.plant.nu || !u.every(Number.isFinite)) this.refuse(`policy output [${u.join(', ')}] is not ${this.plant.nu} finite numbers`);
    const out = this.writers.map(({ a, write }) => write(u[a.input]));
    return { raw, x, u, out, computeUs };
  }

  /** Every actuator to its safe input. */
  private writeSafe(): void {
    const { min, max } = this.plant.uBounds;
    for (const { a, write } of this.writers) write(a.safe ?? Math.min(max[a.input], Math.max(min[a.input], 0)));
  }

  private refuse(why: string): never {
    this.writeSafe();
    throw new RigSafetyError(`rig: ${why}; the actuators were set to their safe inputs`);
  }

  /** Run `steps` samples at the sample time (deadline-scheduled, no drift); returns the log. */
  async run(steps: number, onStep?: (s: RigStep, k: number) => void): Promise<RigStep[]> {
    const log: RigStep[] = [];
    const start = performance.now();
    for (let k = 0; k < steps; k++) {
      const due = start + k * this.sampleTime * 1000;
      const wait = due - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      const s = this.step();
      log.push(s);
      onStep?.(s, k);
    }
    return log;
  }

  /** Write every actuator's safe input, then let go of the board. */
  async close(): Promise<void> {
    this.writeSafe();
    const io = (this.board as unknown as { io?: { transport?: { close?: (cb?: () => void) => void; isOpen?: boolean } } }).io;
    const t = io?.transport;
    if (t?.close && t.isOpen !== false) await new Promise<void>((r) => t.close!(() => r()));
  }
}
