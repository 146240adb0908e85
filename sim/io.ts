/**
 * File helpers shared by every folder: JSON read with errors that name the
 * file and the field, zod validation with the same error shape, and atomic
 * writes (temp file + rename, so nothing half-written is ever left behind).
 */
import { lstatSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync, type Stats } from 'node:fs';
import { basename, dirname, join, resolve as resolvePath } from 'node:path';
import type { z } from 'zod';

/** An error caused by something outside the program: a file, a frame, an argument. */
export class InputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InputError';
  }
}

/** Render a zod issue path as `A[1][0]` / `layers[2].weights`. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const p of path) {
    if (typeof p === 'number') out += `[${p}]`;
    else out += out ? `.${String(p)}` : String(p);
  }
  return out || '(top level)';
}

/** Validate `data` with a zod schema; on failure throw one line naming the source and the field. */
export function parseWith<S extends z.ZodType>(schema: S, data: unknown, source: string): z.infer<S> {
  const r = schema.safeParse(data);
  if (r.success) return r.data;
  const issue = r.error.issues[0];
  const more = r.error.issues.length > 1 ? ` (and ${r.error.issues.length - 1} more problem(s))` : '';
  throw new InputError(`${source}: ${formatPath(issue.path)}: ${issue.message}${more}`);
}

/** Read and parse a JSON file, with clear errors for a missing file or bad JSON. */
export function readJsonFile(path: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new InputError(`${path}: cannot read file (${code ?? (e as Error).message})`);
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new InputError(`${path}: not valid JSON (${(e as Error).message})`);
  }
}

/** Write a file atomically: a temp file in the same directory, then rename over the target. */
export function writeFileAtomic(path: string, data: string | Uint8Array): void {
  const dir = dirname(path);
  mkdirSync(dir, { recursive: true });
  const tmp = join(dir, `.${basename(path)}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`);
  try {
    writeFileSync(tmp, data);
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
}

/**
 * Fill a directory all at once: `fill` writes into a fresh sibling temp
 * directory, which then replaces `dir` (the old contents are removed only
 * after the new ones are in place). If `fill` throws or the process dies, `dir`
 * keeps exactly what it had, and the temp directory is removed (or, after a
 * kill, left as a dot-named sibling, never mixed into `dir`).
 */
export function writeDirAtomic<T>(dir: string, fill: (tmpDir: string) => T): T {
  const parent = dirname(resolvePath(dir));
  mkdirSync(parent, { recursive: true });
  const st = lstatOrNull(dir);
  if (st && !st.isDirectory()) throw new InputError(`${dir}: exists and is not a directory`);
  const tmp = mkdtempSync(join(parent, `.${basename(dir)}.tmp-`));
  let out: T;
  try {
    out = fill(tmp);
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    throw e;
  }
  if (st) {
    const old = `${tmp}.old`;
    renameSync(dir, old);
    renameSync(tmp, dir);
    rmSync(old, { recursive: true, force: true });
  } else renameSync(tmp, dir);
  return out;
}

function lstatOrNull(path: string): Stats | null {
  try {
    return lstatSync(path);
  } catch {
    return null;
  }
}

/** JSON.stringify that writes ±Infinity as null (JSON has no infinities). */
export function toJson(value: unknown, indent = 2): string {
  return (
    JSON.stringify(
      value,
      (_k, v) => {
        if (typeof v === 'number' && !Number.isFinite(v)) return null;
        if (v instanceof Float64Array || v instanceof Float32Array) return Array.from(v);
        return v;
      },
      indent,
    ) + '\n'
  );
}
