/**
 * Rig mode through johnny-five with a mock Firmata IO plugin (mock-firmata):
 * the test plays the plant. It feeds ADC readings to the analog-read
 * callbacks johnny-five registered, reads back the PWM duty the rig wrote,
 * and closes the loop; the policy must be the integer reference (what a
 * board with the generated C would compute) and the loop must settle.
 */
import { Firmata } from 'mock-firmata';
import { afterEach, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { getPlant, plantStep } from '../../sim/index.js';
import { loadModel } from '../../trainer/index.js';
import { policyFloat32, quantizeModel } from '../../codegen/index.js';
import { Rig, RigSafetyError, parseRigConfig, type RigConfig } from '../../firmware-host/index.js';
import { ROOT, ultro } from '../helpers/cli.js';

const model = loadModel(join(ROOT, 'test/fixtures/models/double-integrator.json'));
const plant = getPlant('double-integrator');

/** A mock Firmata board whose analog inputs the test sets and whose PWM writes it records. */
function mockIo() {
  const io = new Firmata();
  io.SERIAL_PORT_IDs.DEFAULT = 0x08;
  const readers = new Map<number, (v: number) => void>();
  const pwm = new Map<number, number>();
  const digital = new Map<number, number>();
  io.analogRead = (pin: number, cb: (v: number) => void) => void readers.set(pin, cb);
  io.analogWrite = io.pwmWrite = (pin: number, v: number) => void pwm.set(pin, v);
  io.digitalWrite = (pin: number, v: number) => void digital.set(pin, v);
  const setAnalog = (ch: number, raw: number) => readers.get(ch)?.(raw);
  return { io, readers, pwm, digital, setAnalog };
}

const config: RigConfig = parseRigConfig(
  {
    format: 'ultro-rig/1',
    sensors: [
      { state: 0, pin: 'A0', min: -5, max: 5 },
      { state: 1, derivativeOf: 0 },
    ],
    actuators: [{ input: 0, type: 'pwm', pin: 9 }],
  },
  plant,
  'rig.json',
);

let rig: Rig | undefined;
afterEach(async () => {
  await rig?.close();
  rig = undefined;
});

let clock = 0;
async function connect(m: ReturnType<typeof mockIo>, cfg = config) {
  return Rig.connect(model, cfg, {
    io: m.io,
    now: () => clock,
    onBoard: () => {
      m.io.emit('connect');
      m.io.emit('ready');
    },
  });
}

describe('ultro rig (johnny-five, mock Firmata)', () => {
  it('maps ADC → state, runs the integer policy, maps u → PWM duty', async () => {
    const m = mockIo();
    rig = await connect(m);
    expect(m.readers.has(0)).toBe(true); // johnny-five asked for A0
    m.setAnalog(0, 800); // p = -5 + 800/1023 · 10
    const s = rig.step();
    const p = -5 + (800 / 1023) * 10;
    expect(s.x[0]).toBeCloseTo(p, 12);
    expect(s.x[1]).toBe(0); // first sample: no difference yet
    const q = quantizeModel(model, { variant: 'int8' });
    expect(s.u).toEqual(policyFloat32(q, [p, 0]).u);
    const duty = Math.round(((s.u[0] + 1) / 2) * 255);
    expect(s.out).toEqual([duty]);
    expect(m.pwm.get(9)).toBe(duty);
  });

  it('closes the loop on a simulated double integrator through the pins, and writes the safe input on close', async () => {
    const m = mockIo();
    rig = await connect(m);
    let x = [2, 0];
    const toRaw = (p: number) => Math.round(((p + 5) / 10) * 1023);
    for (let k = 0; k < 100; k++) {
      m.setAnalog(0, toRaw(x[0]));
      rig.step();
      const u = -1 + (m.pwm.get(9)! / 255) * 2; // what the motor driver would apply
      x = Array.from(plantStep(plant, x, [u]));
      for (let i = 0; i < 2; i++) {
        expect(x[i]).toBeGreaterThanOrEqual(plant.xBounds.min[i]);
        expect(x[i]).toBeLessThanOrEqual(plant.xBounds.max[i]);
      }
    }
    // Settled near the origin to within the ADC's resolution (10/1023 per count).
    expect(Math.abs(x[0])).toBeLessThan(0.1);
    await rig.close();
    rig = undefined;
    expect(m.pwm.get(9)).toBe(128); // u = 0 → the middle of 0…255
  });

  it('never sends a stale or missing reading’s control: the safe input instead, and an error naming the sensor', async () => {
    const m = mockIo();
    rig = await connect(m);
    // no reading yet: refused, pin 9 at the safe input (u = 0 → duty 128)
    expect(() => rig!.step()).toThrow(RigSafetyError);
    expect(() => rig!.step()).toThrow(/sensor A0 \(state 0\) has not reported yet; the actuators were set to their safe inputs/);
    expect(m.pwm.get(9)).toBe(128);
    m.setAnalog(0, 900);
    rig.step();
    expect(m.pwm.get(9)).not.toBe(128);
    // the board goes quiet: three sample times (0.3 s) later the reading is stale
    clock += 301;
    expect(() => rig!.step()).toThrow(/sensor A0 \(state 0\) is stale: its last reading is 0\.30 s old \(limit 0\.30 s\)/);
    expect(m.pwm.get(9)).toBe(128);
    m.setAnalog(0, 900); // fresh again
    rig.step();
    // a reading that is not a number never becomes a control
    m.setAnalog(0, NaN);
    expect(() => rig!.step()).toThrow(/sensor A0 \(state 0\) is stale/);
    expect(m.pwm.get(9)).toBe(128);
  });

  it('motor actuators drive PWM magnitude and a direction pin', async () => {
    const m = mockIo();
    rig = await connect(
      m,
      parseRigConfig(
        {
          sensors: [
            { state: 0, pin: 'A0', min: -5, max: 5 },
            { state: 1, derivativeOf: 0, smoothing: 0.5 },
          ],
          actuators: [{ input: 0, type: 'motor', pwm: 5, dir: 4 }],
        },
        plant,
        'rig.json',
      ),
    );
    m.setAnalog(0, 1000); // far positive: the policy pushes negative
    const s = rig.step();
    expect(s.u[0]).toBeLessThan(0);
    expect(m.pwm.get(5)).toBe(Math.round(Math.abs(s.u[0]) * 255));
    expect(m.digital.get(4)).toBe(0); // reverse
  });
});

describe('rig files: errors name the file and the field', () => {
  const bad: [unknown, RegExp][] = [
    [{ sensors: [{ state: 0, pin: 'A0', min: -5, max: 5 }], actuators: [{ input: 0, type: 'pwm', pin: 9 }] }, /rig.json: sensors: no sensor for state 1/],
    [
      {
        sensors: [
          { state: 0, pin: 'A0', min: -5, max: 5 },
          { state: 1, derivativeOf: 1 },
        ],
        actuators: [{ input: 0, type: 'pwm', pin: 9 }],
      },
      /sensors\[1\].derivativeOf: state 1 must be read from an analog pin/,
    ],
    [
      {
        sensors: [
          { state: 0, pin: 'A0', min: 1, max: 1 },
          { state: 1, derivativeOf: 0 },
        ],
        actuators: [],
      },
      /sensors\[0\].max: min and max must differ/,
    ],
    [
      {
        sensors: [
          { state: 0, pin: 'A0', min: -5, max: 5 },
          { state: 1, derivativeOf: 0 },
        ],
        actuators: [{ input: 0, type: 'laser', pin: 9 }],
      },
      /actuators\[0\].type: expected type "pwm", "servo" or "motor"/,
    ],
    [
      {
        sensors: [
          { state: 0, pin: 'A0', min: -5, max: 5 },
          { state: 1, derivativeOf: 0 },
        ],
        actuators: [{ input: 3, type: 'pwm', pin: 9 }],
      },
      /actuators\[0\].input: is 3, but plant double-integrator has 1 inputs/,
    ],
    [
      {
        sensors: [
          { state: 0, pin: 'A0', min: -5, max: 5 },
          { state: 1, derivativeOf: 0 },
        ],
        actuators: [{ input: 0, type: 'pwm', pin: 9, safe: 7 }],
      },
      /actuators\[0\].safe: 7 is outside the input bounds/,
    ],
    [{ sensors: [{ state: 0, pin: 'A0', min: Number.NaN, max: 5 }], actuators: [] }, /sensors.0/],
  ];
  it.each(bad)('%j', (data, re) => {
    expect(() => parseRigConfig(data, plant, 'rig.json')).toThrow(re);
  });

  it('ultro rig without a port says so; a missing rig file is named', () => {
    const mdl = join(ROOT, 'test/fixtures/models/double-integrator.json');
    const a = ultro(['rig', '--model', mdl, '--config', join(ROOT, 'examples/rig-double-integrator.json')]);
    expect(a.code).not.toBe(0);
    expect(a.stderr).toMatch(/--port/);
    const b = ultro(['rig', '--model', mdl, '--config', '/nope/rig.json', '--port', '/dev/ttyUSB9']);
    expect(b.code).toBe(2);
    expect(b.stderr).toMatch(/\/nope\/rig.json/);
    const c = ultro(['rig', '--model', mdl, '--config', join(ROOT, 'examples/rig-double-integrator.json'), '--port', '/dev/ttyUSB9-absent']);
    expect(c.code).toBe(1);
    expect(c.stderr).toMatch(/rig: \/dev\/ttyUSB9-absent: .*cannot open/);
  });
});

describe.skipIf(!process.env.ULTRO_FIRMATA_PORT)('rig on a real StandardFirmata board (ULTRO_FIRMATA_PORT)', () => {
  it('connects, reads A0 and writes pin 9 for 20 samples', async () => {
    rig = await Rig.connect(model, config, { port: process.env.ULTRO_FIRMATA_PORT });
    const log = await rig.run(20);
    expect(log).toHaveLength(20);
  }, 30_000);
});
