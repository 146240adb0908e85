/**
 * A 32-bit target, verified: the generated policy C built for a Cortex-M4
 * (arm-none-eabi-gcc, hard float, -Wall -Wextra -Werror) and run under
 * qemu-system-arm on the mps2-an386 board must print, for 1,200 states (in
 * and beyond the domain, at its edges, NaN and ±Inf), the same integers and
 * the same float32 bits as the TypeScript reference. The same C also compiles
 * for the ESP8266/ESP32 family's Xtensa core (gcc-xtensa-lx106, freestanding:
 * the policy needs no C library), warnings as errors. Sizes are printed.
 * Skipped where the cross tools are not installed (scripts/setup.sh installs
 * them with ULTRO_SETUP_TEST_TOOLS=1, as CI does).
 */
import { spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { emitPolicy, hexFloat32, quantizeModel, type QuantizedModel } from '../../codegen/index.js';
import { loadModel, type PolicyModel } from '../../trainer/index.js';
import { has } from '../helpers/c.js';
import { ROOT } from '../helpers/cli.js';
import { floatInputs, policyLine } from '../helpers/policy-lines.js';
import { randomModel } from '../helpers/models.js';

const HAVE_ARM = has('arm-none-eabi-gcc') && has('qemu-system-arm');
const HAVE_XTENSA = has('xtensa-lx106-elf-gcc');
const CM = join(ROOT, 'test/c/cortex-m');
const WARN = ['-std=c99', '-Wall', '-Wextra', '-Werror', '-pedantic', '-ffp-contract=off'];
const M4 = ['-mcpu=cortex-m4', '-mthumb', '-mfloat-abi=hard', '-mfpu=fpv4-sp-d16'];
const fixture = (name: string) => loadModel(join(ROOT, 'test/fixtures/models', name));

function run(cmd: string, args: string[], timeout = 60_000) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout, maxBuffer: 64 * 1024 * 1024 });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: exit ${r.status ?? r.signal}\n${r.stderr}`);
  return r.stdout;
}

/** text+data bytes of the policy's own objects (ultro_policy.o, ultro_nn.o), built -Os. */
function objectSize(cc: string, size: string, flags: string[], dir: string): number {
  for (const f of ['ultro_policy', 'ultro_nn']) run(cc, [...WARN, ...flags, '-Os', '-c', `-I${dir}`, join(dir, `${f}.c`), '-o', join(dir, `${f}.o`)]);
  const out = run(size, [join(dir, 'ultro_policy.o'), join(dir, 'ultro_nn.o')]);
  return out
    .trim()
    .split('\n')
    .slice(1)
    .reduce((s, line) => s + Number(line.trim().split(/\s+/)[0]) + Number(line.trim().split(/\s+/)[1]), 0);
}

function onCortexM4(name: string, model: PolicyModel, q: QuantizedModel) {
  const dir = mkdtempSync(join(tmpdir(), 'ultro-cortex-m-'));
  try {
    for (const [f, text] of Object.entries(emitPolicy(q))) writeFileSync(join(dir, f), text);
    // NaN and ±Inf as expressions a C99 compiler takes in a constant initialiser
    const lit = (v: number) => (Number.isNaN(v) ? '(0.0f/0.0f)' : v === Infinity ? '(1.0f/0.0f)' : v === -Infinity ? '(-1.0f/0.0f)' : hexFloat32(Math.fround(v)) + 'f');
    const xs = floatInputs(model, 1200, 21);
    writeFileSync(join(dir, 'cortex_m_inputs.h'), `#define CM_N ${xs.length}\nstatic const float CM_X[CM_N][${q.nx}] = {\n${xs.map((x) => `  {${x.map(lit).join(', ')}}`).join(',\n')}\n};\n`);
    const elf = join(dir, 'policy.elf');
    run('arm-none-eabi-gcc', [
      ...WARN,
      ...M4,
      '-Wno-div-by-zero',
      '-O2',
      '--specs=rdimon.specs',
      `-I${join(ROOT, 'test/c')}`,
      `-I${dir}`,
      '-T',
      join(CM, 'mps2-an386.ld'),
      join(CM, 'startup.c'),
      join(CM, 'policy_main.c'),
      join(dir, 'ultro_policy.c'),
      join(dir, 'ultro_nn.c'),
      '-o',
      elf,
    ]);
    // QEMU's stdout (the semihosting console) to a file: through a pipe it drops what a busy reader does not take in time.
    const log = join(dir, 'semihosting.txt');
    const fd = openSync(log, 'w');
    try {
      const r = spawnSync('qemu-system-arm', ['-M', 'mps2-an386', '-cpu', 'cortex-m4', '-nographic', '-semihosting-config', 'enable=on,target=native', '-kernel', elf], {
        stdio: ['ignore', fd, 'pipe'],
        encoding: 'utf8',
        timeout: 120_000,
      });
      if (r.status !== 0) throw new Error(`qemu-system-arm: exit ${r.status ?? r.signal}\n${r.stderr}`);
    } finally {
      closeSync(fd);
    }
    const out = readFileSync(log, 'utf8').trimEnd().split('\n');
    expect(out[out.length - 1].trim(), `${name}: the image ran to the end`).toBe('DONE');
    let mismatches = 0;
    xs.forEach((x, k) => {
      const want = policyLine(q, x);
      if (out[k].trim() !== want.trim() && mismatches++ < 5) expect(`${name} x=${x}: ${out[k]}`).toBe(`${name} x=${x}: ${want}`);
    });
    expect(mismatches).toBe(0);
    return { states: xs.length, bytes: objectSize('arm-none-eabi-gcc', 'arm-none-eabi-size', M4, dir) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe.skipIf(!HAVE_ARM)('generated policy on a Cortex-M4 (QEMU mps2-an386) vs the TypeScript reference', () => {
  const cases: [string, string, 'int8' | 'int16'][] = [
    ['double integrator', 'double-integrator.json', 'int8'],
    ['double integrator', 'double-integrator.json', 'int16'],
    ['two carts', 'two-carts.json', 'int16'],
  ];
  for (const [name, file, variant] of cases)
    it(`${name}, ${variant}: bit-exact on 1,200 states`, { timeout: 180_000 }, () => {
      const model = fixture(file);
      const r = onCortexM4(`${name} ${variant}`, model, quantizeModel(model, { variant }));
      expect(r.states).toBeGreaterThanOrEqual(1000);
      console.log(`cortex-m4: ${name} ${variant}: ${r.states} states bit-exact; policy code + tables ${r.bytes} B (-Os)`);
    });
  for (const variant of ['int8', 'int16'] as const)
    it(`2-40-24-1, ${variant}: the chunked row kernels (more than one chunk of inputs) bit-exact on 1,200 states`, { timeout: 180_000 }, () => {
      const model = randomModel('double-integrator', [40, 24], 'tanh', 3, 0.4);
      const r = onCortexM4(`2-40-24-1 ${variant}`, model, quantizeModel(model, { variant }));
      expect(r.states).toBeGreaterThanOrEqual(1000);
    });
});

describe.skipIf(!HAVE_XTENSA)('generated policy for Xtensa (gcc-xtensa-lx106): portable C99, no C library', () => {
  for (const variant of ['int8', 'int16'] as const)
    it(`double integrator, ${variant}: compiles with warnings as errors`, () => {
      const dir = mkdtempSync(join(tmpdir(), 'ultro-xtensa-'));
      try {
        const q = quantizeModel(fixture('double-integrator.json'), { variant });
        for (const [f, text] of Object.entries(emitPolicy(q))) writeFileSync(join(dir, f), text);
        const bytes = objectSize('xtensa-lx106-elf-gcc', 'xtensa-lx106-elf-size', ['-ffreestanding'], dir);
        expect(bytes).toBeGreaterThan(0);
        console.log(`xtensa-lx106: double integrator ${variant}: policy code + tables ${bytes} B (-Os)`);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
});
