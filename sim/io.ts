/**
 * File helpers shared by every folder: JSON read with errors that name the
 * file and the field, zod validation with the same error shape, and atomic
 * writes (temp file + rename, so nothing half-written is ever left behind).
 */
import { accessSync, constants as fsConstants, lstatSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, statSync, writeFileSync, type Stats } from 'node:fs';
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

const FS_REASONS: Record<string, string> = {
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EROFS: 'read-only file system',
  ENOTDIR: 'a part of the path is a file, not a directory',
  EISDIR: 'is a directory',
  ENOENT: 'no such directory',
  ENOSPC: 'no space left on the device',
  EDQUOT: 'disk quota exceeded',
  ENAMETOOLONG: 'name too long',
  EEXIST: 'already exists',
  ELOOP: 'too many symbolic links',
};

/** A file-system failure on `path` as a one-line InputError naming it (other errors pass through). */
export function fsError(path: string, e: unknown, action = 'cannot write'): Error {
  const code = (e as NodeJS.ErrnoException)?.code;
  if (code && code in FS_REASONS) return new InputError(`${path}: ${action} (${FS_REASONS[code]})`);
  return e as Error;
}

/** What is at `path` when it is not a regular file, in words (null for a regular file or nothing). */
function notRegular(path: string): string | null {
  const st = lstatOrNull(path);
  if (!st || st.isFile()) return null;
  if (st.isSymbolicLink()) return 'a symbolic link (give the path it points to)';
  if (st.isDirectory()) return 'a directory';
  if (st.isCharacterDevice() || st.isBlockDevice()) return 'a device';
  if (st.isFIFO()) return 'a named pipe';
  if (st.isSocket()) return 'a socket';
  return 'not a regular file';
}

/** The nearest existing ancestor of `path` (itself included), and whether it is a directory we may write in. */
function writableAncestor(path: string): { dir: string; problem: string | null } {
  let dir = dirname(resolvePath(path));
  for (;;) {
    const st = lstatOrNull(dir);
    if (st) {
      if (!st.isDirectory() && !(st.isSymbolicLink() && statIsDir(dir))) return { dir, problem: 'a part of the path is a file, not a directory' };
      try {
        accessSync(dir, fsConstants.W_OK);
        return { dir, problem: null };
      } catch (e) {
        return { dir, problem: FS_REASONS[(e as NodeJS.ErrnoException).code ?? ''] ?? 'not writable' };
      }
    }
    const up = dirname(dir);
    if (up === dir) return { dir, problem: null };
    dir = up;
  }
}

function statIsDir(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}

/**
 * Check, before any work, that `path` can be written as a file (what
 * writeFileAtomic will do at the end): nothing but a regular file there, and a
 * directory we may write in. One-line InputError naming the path.
 */
export function checkOutputFile(path: string, what = '--out'): void {
  const kind = notRegular(path);
  if (kind) throw new InputError(`${what} ${path}: is ${kind}; refusing to replace it with a file`);
  const a = writableAncestor(path);
  if (a.problem) throw new InputError(`${what} ${path}: cannot write there (${a.dir}: ${a.problem})`);
}

/** The same for an output directory (what writeDirAtomic will replace). */
export function checkOutputDir(path: string, what = '--out'): void {
  const st = lstatOrNull(path);
  if (st && !st.isDirectory()) throw new InputError(`${what} ${path}: is ${notRegular(path) ?? 'a file'}, not a directory`);
  const a = writableAncestor(path);
  if (a.problem) throw new InputError(`${what} ${path}: cannot write there (${a.dir}: ${a.problem})`);
}

/**
 * Write a file atomically: a temp file in the same directory, then rename over
 * the target. Only a regular file or a new path is ever replaced: a device
 * node (/dev/null), a symbolic link, a directory or a pipe at `path` is
 * refused, so an --out can never destroy one. Failures are one-line
 * InputErrors naming the path.
 */
export function writeFileAtomic(path: string, data: string | Uint8Array): void {
  const what = notRegular(path);
  if (what) throw new InputError(`${path}: is ${what}; refusing to replace it with a file`);
  const dir = dirname(path);
  try {
    mkdirSync(dir, { recursive: true });
  } catch (e) {
    throw fsError(dir, e, 'cannot create the directory');
  }
  const tmp = join(dir, `.${basename(path)}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`);
  try {
    writeFileSync(tmp, data, { flag: 'wx' });
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw fsError(path, e);
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
  try {
    mkdirSync(parent, { recursive: true });
  } catch (e) {
    throw fsError(parent, e, 'cannot create the directory');
  }
  const st = lstatOrNull(dir);
  if (st && !st.isDirectory()) throw new InputError(`${dir}: is ${notRegular(dir) ?? 'a file'}, not a directory; refusing to replace it`);
  let tmp: string;
  try {
    tmp = mkdtempSync(join(parent, `.${basename(dir)}.tmp-`));
  } catch (e) {
    throw fsError(dir, e);
  }
  let out: T;
  try {
    out = fill(tmp);
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    throw e;
  }
  try {
    if (st) {
      const old = `${tmp}.old`;
      renameSync(dir, old);
      renameSync(tmp, dir);
      rmSync(old, { recursive: true, force: true });
    } else renameSync(tmp, dir);
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    throw fsError(dir, e);
  }
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
