/**
 * User strings never become code. A plant whose name tries to close the C
 * comment it is stamped into, define a symbol and include a file: the
 * generated C compiles (-Wall -Wextra -Werror), no injected symbol exists in
 * the object, and the name reaches the Markdown report escaped. The plant is
 * part of the model hash, so firmware built for another plant fails the
 * handshake.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { commandArg, escapeHtml, escapeMarkdown, getPlant, plantToJson } from '../../sim/index.js';
import { modelHash, modelPlant } from '../../trainer/index.js';
import { buildReport, cComment, emitMpc, emitPolicy, quantizeModel, reportMarkdown } from '../../codegen/index.js';
import { fixtureModel } from '../helpers/models.js';

const HOSTILE = 'evil */ int ultro_injected_symbol = 42; /* \n#include "/etc/passwd"\n??/ ` | <script>alert(1)</script> [x](http://e) */';

describe('hostile names', () => {
  it('a plant name cannot end the C comment it is stamped into: compiled, no injected symbol', () => {
    const base = fixtureModel();
    const model = { ...base, plant: { ...base.plant, name: HOSTILE, stateNames: ['p */ int a;', 'v'], inputNames: ['u\n#error x'] } };
    const plant = modelPlant(model);
    const files = { ...emitPolicy(quantizeModel(model, { variant: 'int8' })), ...emitMpc(plant, { horizon: 10, maxIter: 20, tol: 1e-3 }, modelHash(model)).files };
    // the text stays, inside the comment, on the stamp's line: never a directive of its own
    for (const f of ['ultro_mpc_data.h', 'ultro_mpc_data.c']) expect(files[f]).not.toMatch(/^\s*#\s*include\s+"\/etc/m);
    const dir = mkdtempSync(join(tmpdir(), 'ultro-hostile-'));
    for (const [n, t] of Object.entries(files)) writeFileSync(join(dir, n), t);
    const obj = join(dir, 'mpc.o');
    const cc = spawnSync('gcc', ['-std=c99', '-Wall', '-Wextra', '-Werror', '-pedantic', '-c', join(dir, 'ultro_mpc_data.c'), '-I', dir, '-o', obj], { encoding: 'utf8' });
    expect(cc.stderr).toBe('');
    expect(cc.status).toBe(0);
    const nm = spawnSync('nm', [obj], { encoding: 'utf8' });
    expect(nm.status).toBe(0);
    expect(nm.stdout).toContain('ULTRO_MPC_A');
    expect(nm.stdout).not.toContain('ultro_injected_symbol');
    // and the Markdown report shows it as text
    const q = quantizeModel(model, { variant: 'int8' });
    const md = reportMarkdown(buildReport(model, q, 'uno', 'ultro test'), plant);
    const line = md.split('\n').find((l) => l.startsWith('- target:'))!;
    expect(line).not.toMatch(/<script>|\]\(http|\n/);
    expect(line).toContain('\\<script\\>');
  });

  it('each context has one escaping function that neutralises its own syntax', () => {
    expect(cComment('a */ b /* c ??/ d\ne')).toBe('a *_/ b /_* c ?_?/ d?e');
    expect(escapeHtml(`<a href="x" onclick='y'>&`)).toBe('&lt;a href=&quot;x&quot; onclick=&#39;y&#39;&gt;&amp;');
    expect(escapeMarkdown('a|b *c* [d](e)\n# f')).toBe('a\\|b \\*c\\* \\[d\\]\\(e\\) \\# f');
    expect(() => commandArg('-C/etc/evil.conf', '--port')).toThrow(/--port: .* starts with "-"/);
    expect(() => commandArg('/tmp/a:w:/etc/x', '--image', ':')).toThrow(/--image: .* contains ":"/);
    expect(() => commandArg('/dev/ttyACM0\n', '--port')).toThrow(/control character/);
    expect(commandArg('/dev/ttyACM0', '--port')).toBe('/dev/ttyACM0');
  });

  it('the plant and the teacher are part of the model hash', () => {
    const m = fixtureModel();
    const h = modelHash(m);
    const renamed = { ...m, plant: { ...m.plant, name: 'other' } };
    const rebounded = { ...m, plant: { ...m.plant, xMax: m.plant.xMax.map((v) => (v === null ? v : v * 2)) } };
    const retimed = { ...m, mpc: { ...m.mpc!, horizon: m.mpc!.horizon + 1 } };
    for (const other of [renamed, rebounded, retimed]) expect(modelHash(other)).not.toBe(h);
    // the same plant with its keys in another order hashes the same
    const reordered = { ...m, plant: Object.fromEntries(Object.entries(m.plant).reverse()) as typeof m.plant };
    expect(modelHash(reordered)).toBe(h);
    expect(plantToJson(getPlant('double-integrator')).name).toBe('double-integrator');
  });
});
