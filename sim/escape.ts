/**
 * One escaping function per context a user string can reach: HTML (reports),
 * Markdown (codegen and bench reports) and a tool's command line (build and
 * flash drivers; no shell is ever involved, so an argument can only be
 * misread by the tool itself). C source has its own in codegen/c-literals.ts
 * (cComment, cString). Names of plants, states and inputs come from user
 * files, so every one of them goes through these.
 */
import { InputError } from './io.js';

/** Text or a double- or single-quoted attribute value in HTML/SVG. */
export function escapeHtml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

/**
 * Inline Markdown text: one line (control characters, newlines included,
 * become spaces), with every character that can start formatting, a link,
 * HTML or a table cell backslash-escaped.
 */
export function escapeMarkdown(s: string): string {
  return s.replace(/[\u0000-\u001f\u007f]/g, ' ').replace(/[\\`*_{}[\]()#+\-.!|<>~]/g, (c) => `\\${c}`);
}

/**
 * An argument for a tool's command line: printable, one line, and not
 * starting with '-' (which the tool would read as an option). `forbid` lists
 * characters the tool gives a meaning to inside this argument (avrdude splits
 * -U on ':'). Throws an InputError naming `what`.
 */
export function commandArg(s: string, what: string, forbid = ''): string {
  if (s.length === 0) throw new InputError(`${what}: empty`);
  if (/[\u0000-\u001f\u007f]/.test(s)) throw new InputError(`${what}: contains a control character`);
  if (s.startsWith('-')) throw new InputError(`${what}: "${s}" starts with "-", which the tool would read as an option`);
  for (const c of forbid) if (s.includes(c)) throw new InputError(`${what}: "${s}" contains "${c}", which the tool would misread`);
  return s;
}
