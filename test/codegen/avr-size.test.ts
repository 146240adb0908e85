/** avr-gcc builds both generated programs for the ATmega328P; sizes are printed and checked. */
import { describe, expect, it } from 'vitest';
import { getPlant } from '../../sim/index.js';
import { emitFloatPolicy, emitMpc, emitPolicy, quantizeModel, readRuntime } from '../../codegen/index.js';
import { checkFits, compileAndLink, formatSize, getBoard, hasCommand, sizeOf, type SizeReport } from '../../targets/index.js';
import { writeFiles } from '../helpers/c.js';
import { fixtureModel, randomModel } from '../helpers/models.js';
import type { PolicyModel } from '../../trainer/index.js';

const uno = getBoard('uno');
const avr = hasCommand('avr-gcc');
const probe = `${process.cwd()}/codegen/runtime/ultro_size_probe.c`;

/** The float C baseline of the same network (weights in flash, avr-libc's tanhf), in the same probe. */
function floatSize(): SizeReport {
  const dir = writeFiles({ ...emitFloatPolicy(fixtureModel()), 'ultro_rom.h': readRuntime('ultro_rom.h') });
  compileAndLink(uno, [`${dir}/ultro_float_policy.c`, probe], [dir], `${dir}/f.elf`, ['-DULTRO_SIZE_FLOAT', '-Os']);
  return sizeOf(uno, `${dir}/f.elf`);
}

describe.skipIf(!avr)('avr-gcc for atmega328p', () => {
  /** Flash and RAM of the size probe around a model's generated policy. */
  const policySize = (m: PolicyModel, variant: 'int8' | 'int16') => {
    const dir = writeFiles(emitPolicy(quantizeModel(m, { variant })));
    compileAndLink(uno, [`${dir}/ultro_policy.c`, `${dir}/ultro_nn.c`, probe], [dir], `${dir}/p.elf`, ['-DULTRO_SIZE_POLICY', '-Os']);
    return sizeOf(uno, `${dir}/p.elf`);
  };
  /** The model as trained, and its network alone (no safety filter: what the float C baseline computes). */
  const withoutFilter = (m: PolicyModel): PolicyModel => ({ ...m, output: { ...m.output, safetyFilter: undefined } });

  it('the int8 network policy takes less flash than the same network in float C, and at most 3.5 KB; int16 fits too', () => {
    const f = floatSize();
    const sizes = (['int8', 'int16'] as const).map((variant) => {
      const s = policySize(withoutFilter(fixtureModel()), variant);
      console.log(`uno policy ${variant} (network): ${formatSize(uno, s)}`);
      checkFits(uno, s, `policy ${variant}`);
      expect(s.ram).toBeLessThan(200);
      return s;
    });
    console.log(`uno float C baseline: ${formatSize(uno, f)}`);
    expect(sizes[0].flash).toBeLessThan(f.flash);
    expect(sizes[0].flash).toBeLessThanOrEqual(3584);
    expect(sizes[1].flash).toBeLessThan(8 * 1024);
  });
  it('the one-step safety filter costs at most 1 KB of flash on the double integrator and 1.5 KB on the 12-state quadrotor (tables, not straight-line code), and no static RAM', () => {
    const quad = randomModel('quadrotor-hover', [16, 16], 'hardtanh', 1, 0.7);
    for (const [name, m, limit] of [
      ['double integrator', fixtureModel(), 1024], // trained with the filter
      ['quadrotor', { ...quad, output: { ...quad.output, safetyFilter: true } }, 1536],
    ] as const) {
      const on = policySize(m, 'int8');
      const off = policySize(withoutFilter(m), 'int8');
      console.log(`uno safety filter, ${name}: +${on.flash - off.flash} B flash (${off.flash} -> ${on.flash})`);
      expect(on.flash - off.flash).toBeGreaterThan(0);
      expect(on.flash - off.flash).toBeLessThanOrEqual(limit);
      expect(on.ram).toBe(off.ram);
    }
  });
  it('the generated forward pass builds at -O1, -O2 and -Os for every kernel mix (register pressure of the row kernels)', () => {
    // A quadrotor-shaped hard-tanh network: C layers inlined beside an output row kernel; a 2-40-24-1 network:
    // the chunked row kernels (more than 16 inputs). The kernels once
    // asked for the Y pointer, which such a function may keep as its frame pointer: -O1 could not build it.
    const models = [
      fixtureModel(),
      randomModel('quadrotor-hover', [16, 16], 'hardtanh', 4, 0.5),
      randomModel('dc-motor', [12, 10], 'relu', 2, 0.5),
      randomModel('double-integrator', [40, 24], 'tanh', 3, 0.4),
    ];
    for (const m of models)
      for (const variant of ['int8', 'int16'] as const) {
        const dir = writeFiles(emitPolicy(quantizeModel(m, { variant })));
        for (const level of ['-O1', '-O2', '-Os']) compileAndLink(uno, [`${dir}/ultro_policy.c`, `${dir}/ultro_nn.c`, probe], [dir], `${dir}/p${level}.elf`, ['-DULTRO_SIZE_POLICY', level]);
      }
  });
  it('on-board MPC for the double integrator fits the 2 KB RAM with room for serial buffers', () => {
    const { files, data } = emitMpc(getPlant('double-integrator'), { horizon: 20 }, 'test');
    const dir = writeFiles(files);
    compileAndLink(uno, [`${dir}/ultro_mpc.c`, `${dir}/ultro_mpc_data.c`, probe], [dir], `${dir}/m.elf`, ['-Os']);
    const s = sizeOf(uno, `${dir}/m.elf`);
    console.log(`uno mpc N=${data.N}: ${formatSize(uno, s)}`);
    checkFits(uno, s, 'on-board MPC');
    expect(s.ram).toBeLessThan(1024 + 64);
  });
  it('a program that does not fit gets a clear error', () => {
    expect(() => checkFits(uno, { flash: 40_000, ram: 100, text: 40_000, data: 0, bss: 100 }, 'big')).toThrow(/does not fit uno: flash 40000 B > 32256 B/);
    expect(() => checkFits(uno, { flash: 1000, ram: 1900, text: 1000, data: 0, bss: 1900 }, 'fat')).toThrow(/static RAM 1900 B \+ 256 B reserved/);
  });
});
