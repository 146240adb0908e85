/** Compile and run generated C in the tests. */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Host flags: warnings are errors, UBSan traps signed overflow and bad shifts, no FMA contraction. */
export const HOST_CFLAGS = ['-std=c99', '-Wall', '-Wextra', '-Werror', '-pedantic', '-ffp-contract=off', '-O1', '-fsanitize=undefined', '-fno-sanitize-recover=all'];

export function has(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
}

export function writeFiles(files: Record<string, string>, dir = mkdtempSync(join(tmpdir(), 'ultro-c-'))): string {
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

/** Compile every .c in `dir` plus `extra` sources with host gcc; returns the executable. */
export function compileHost(dir: string, cFiles: string[], extra: string[] = [], flags = HOST_CFLAGS): string {
  const exe = join(dir, 'a.out');
  const r = spawnSync('gcc', [...flags, `-I${dir}`, ...cFiles.map((f) => join(dir, f)), ...extra, '-lm', '-o', exe], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`gcc failed:\n${r.stderr}`);
  return exe;
}

/** Feed lines to a program; return its output lines (fails on a non-zero exit, e.g. a UBSan trap). */
export function runLines(exe: string, lines: string[]): string[] {
  const r = spawnSync(exe, [], { input: lines.join('\n') + '\n', encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  if (r.status !== 0) throw new Error(`${exe} exited with ${r.status}: ${r.stderr.slice(0, 2000)}`);
  if (r.stderr.trim()) throw new Error(`${exe} wrote to stderr: ${r.stderr.slice(0, 2000)}`);
  return r.stdout.trimEnd().split('\n');
}
