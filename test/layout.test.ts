/**
 * The folder map, checked from the import graph of the sources: folders
 * depend on each other in one direction only (sim → trainer → codegen →
 * targets → firmware-host → pipeline → cli/bench), every import across folders
 * goes through the folder's index.ts, nothing outside test/ imports from
 * test/, and the libraries load johnny-five only when a rig connects.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from './helpers/cli.js';

const LAYERS = ['sim', 'trainer', 'codegen', 'targets', 'firmware-host', 'pipeline', 'cli', 'bench'] as const;
/** cli and bench are both entry points: neither imports the other. */
const rank = (f: string) => (f === 'bench' ? LAYERS.indexOf('cli') : LAYERS.indexOf(f as (typeof LAYERS)[number]));

interface Edge {
  file: string;
  from: string;
  to: string;
  spec: string;
  /** The imported file, relative to the root (local imports). */
  target: string;
  typeOnly: boolean;
  dynamic: boolean;
}

function sources(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { recursive: true })
    .map(String)
    .filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'))
    .map((f) => join(dir, f));
}

function edges(): Edge[] {
  const out: Edge[] = [];
  for (const folder of LAYERS) {
    for (const file of sources(folder)) {
      const text = readFileSync(join(ROOT, file), 'utf8');
      for (const m of text.matchAll(/^\s*(import|export)\s+(type\s+)?[^'";]*?from\s+'([^']+)'|import\(\s*'([^']+)'\s*\)/gm)) {
        const spec = m[3] ?? m[4];
        const target = spec.startsWith('.') ? relative(ROOT, resolve(ROOT, dirname(file), spec)) : spec;
        out.push({ file, from: folder, to: target.split('/')[0], spec, target, typeOnly: !!m[2], dynamic: m[4] !== undefined });
      }
    }
  }
  return out;
}

describe('the folder map, from the import graph', () => {
  const all = edges();
  const local = all.filter((e) => e.spec.startsWith('.'));

  it('finds the imports it checks', () => {
    expect(local.length).toBeGreaterThan(200);
    expect(new Set(local.map((e) => e.from))).toEqual(new Set(LAYERS));
  });

  it('imports across folders go through the index.ts of the folder', () => {
    const deep = local.filter((e) => e.to !== e.from && e.target !== `${e.to}/index.js`).map((e) => `${e.file}: ${e.spec}`);
    expect(deep).toEqual([]);
  });

  it('folders depend one way only (no cycle), in the order of the map', () => {
    const up = local.filter((e) => e.to !== e.from && (LAYERS as readonly string[]).includes(e.to) && rank(e.to) >= rank(e.from)).map((e) => `${e.file} → ${e.to}`);
    expect(up).toEqual([]);
  });

  it('nothing outside test/ imports from test/', () => {
    expect(local.filter((e) => e.to === 'test').map((e) => e.file)).toEqual([]);
  });

  it('johnny-five and firmata-io are loaded when a rig connects, not on import', () => {
    const uses = all.filter((e) => /^(johnny-five|firmata-io)$/.test(e.spec) && !e.typeOnly);
    expect(uses.length).toBeGreaterThan(0);
    expect(uses.filter((e) => !e.dynamic).map((e) => e.file)).toEqual([]);
  });
});
