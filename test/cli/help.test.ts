/** Every command has --help text with at least one example. */
import { describe, expect, it } from 'vitest';
import { ultro } from '../helpers/cli.js';

const COMMANDS = ['plants', 'mpc', 'train', 'eval', 'codegen', 'build', 'flash', 'hil', 'rig', 'demo'];

describe('ultro --help', () => {
  it('lists every command', () => {
    const r = ultro(['--help']);
    expect(r.code).toBe(0);
    for (const c of COMMANDS) expect(r.stdout).toMatch(new RegExp(`^\\s+${c}\\b`, 'm'));
  });
  it.each(COMMANDS)('ultro %s --help has a description and an example', (c) => {
    const r = ultro([c, '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`Usage: ultro ${c}`));
    expect(r.stdout).toMatch(/Examples?:\n\s+\$ (npx )?ultro /);
  });
});
