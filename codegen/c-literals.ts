/**
 * Small, tested helpers that turn data into C99 source text: identifiers
 * (checked against C's reserved words), exact float32 literals (hex floats),
 * range-checked integer arrays, and template filling. No C code is built by
 * string concatenation outside these helpers and the templates.
 */

const C_KEYWORDS = new Set(
  'auto break case char const continue default do double else enum extern float for goto if inline int long register restrict return short signed sizeof static struct switch typedef union unsigned void volatile while _Bool _Complex _Imaginary'.split(
    ' ',
  ),
);

/** A valid, non-reserved C identifier (no leading underscore-capital or double underscore). */
export function cIdent(name: string): string {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new Error(`not a C identifier: "${name}"`);
  if (C_KEYWORDS.has(name)) throw new Error(`"${name}" is a C keyword`);
  if (/^_[A-Z_]/.test(name) || name.includes('__')) throw new Error(`"${name}" is reserved for the implementation`);
  return name;
}

/** The exact C99 hex-float literal of a float32 value, e.g. -0x1.800000p+1f. */
export function cFloat32(v: number): string {
  const f = Math.fround(v);
  if (!Number.isFinite(f)) throw new Error(`not a finite float32: ${v}`);
  return hexFloat32(f) + 'f';
}

/**
 * A float32's bits as an int32 that orders like the float (the C wrapper's
 * ultro_f32_key): -0 as +0, negative values with their magnitude bits flipped.
 */
export function f32Key(v: number): number {
  const buf = new DataView(new ArrayBuffer(4));
  buf.setFloat32(0, v);
  const b = buf.getInt32(0);
  if (b === -2147483648) return 0;
  return b < 0 ? b ^ 0x7fffffff : b;
}

/** Hex representation of a float32 value (as C's printf("%a") would, fixed width), without suffix. */
export function hexFloat32(v: number): string {
  const buf = new DataView(new ArrayBuffer(4));
  buf.setFloat32(0, v);
  const bits = buf.getUint32(0);
  const sign = bits >>> 31 ? '-' : '';
  const exp = (bits >>> 23) & 0xff;
  const man = bits & 0x7fffff;
  if (exp === 0xff) throw new Error('not a finite float32');
  if (exp === 0 && man === 0) return `${sign}0x0p+0`;
  // 23 mantissa bits, shifted left by one to fill six hex digits.
  const digits = (man << 1).toString(16).padStart(6, '0');
  if (exp === 0) return `${sign}0x0.${digits}p-126`;
  const e = exp - 127;
  return `${sign}0x1.${digits}p${e >= 0 ? '+' : ''}${e}`;
}

export type CIntType = 'int8_t' | 'uint8_t' | 'int16_t' | 'int32_t' | 'int64_t';

const RANGES: Record<CIntType, [number, number]> = {
  int8_t: [-128, 127],
  uint8_t: [0, 255],
  int16_t: [-32768, 32767],
  int32_t: [-2147483648, 2147483647],
  int64_t: [-Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER],
};

/** One integer as a C expression of the given type (INT32_C/INT64_C for the wide ones). */
export function cInt(v: number, type: CIntType): string {
  const [lo, hi] = RANGES[type];
  if (!Number.isInteger(v) || v < lo || v > hi) throw new Error(`${v} does not fit ${type}`);
  if (type === 'int32_t') return `INT32_C(${v})`;
  if (type === 'int64_t') return `INT64_C(${v})`;
  return v < 0 ? `(${v})` : String(v);
}

function wrap(items: string[], perLine: number): string {
  const lines: string[] = [];
  for (let i = 0; i < items.length; i += perLine) lines.push('  ' + items.slice(i, i + perLine).join(', ') + ',');
  return lines.join('\n');
}

/** static const <type> NAME[n] ULTRO_ROM = { ... }; */
export function cIntArray(name: string, type: CIntType, values: ArrayLike<number>, rom = true): string {
  const items = Array.from(values, (v) => cInt(v, type));
  if (items.length === 0) throw new Error(`array ${name} is empty`);
  return `static const ${type} ${cIdent(name)}[${items.length}]${rom ? ' ULTRO_ROM' : ''} = {\n${wrap(items, type === 'int8_t' || type === 'uint8_t' ? 16 : 8)}\n};`;
}

export function cFloatArray(name: string, values: ArrayLike<number>, rom = true): string {
  const items = Array.from(values, (v) => cFloat32(v));
  if (items.length === 0) throw new Error(`array ${name} is empty`);
  return `static const float ${cIdent(name)}[${items.length}]${rom ? ' ULTRO_ROM' : ''} = {\n${wrap(items, 4)}\n};`;
}

/**
 * A float32 table of any rank with fully braced initialisers (gcc's
 * -Wmissing-braces is on under -Wall): `const float NAME[d0][d1]… ULTRO_ROM = {…};`.
 * `storage` is 'static' for file-local tables, '' for ones declared extern in a header.
 */
export function cFloatTensor(name: string, dims: number[], values: ArrayLike<number>, storage: 'static' | '' = 'static'): string {
  const total = dims.reduce((a, b) => a * b, 1);
  if (values.length !== total) throw new Error(`table ${name}: ${values.length} values for dimensions ${dims.join('×')}`);
  if (total === 0) throw new Error(`table ${name} is empty`);
  const items = Array.from(values, (v) => cFloat32(v));
  let pos = 0;
  const build = (d: number, indent: string): string => {
    if (d === dims.length - 1) {
      const row = items.slice(pos, pos + dims[d]);
      pos += dims[d];
      return `${indent}{ ${row.join(', ')} }`;
    }
    const parts: string[] = [];
    for (let i = 0; i < dims[d]; i++) parts.push(build(d + 1, indent + '  '));
    return `${indent}{\n${parts.join(',\n')}\n${indent}}`;
  };
  const body = dims.length === 1 ? `{\n${wrap(items, 4)}\n}` : build(0, '').trimStart();
  return `${storage ? storage + ' ' : ''}const float ${cIdent(name)}${dims.map((d) => `[${d}]`).join('')} ULTRO_ROM = ${body};`;
}

/**
 * Text for inside a C block comment: one line of printable ASCII (anything
 * else becomes '?'), with no comment delimiter ("*" "/" or "/" "*") and no
 * trigraph ("??" followed by anything), so that no user string (a plant's
 * name, say) can end the comment and become code or a directive.
 */
export function cComment(s: string): string {
  return s
    .replace(/[^\x20-\x7e]/g, '?')
    .replace(/\*\//g, '*_/')
    .replace(/\/\*/g, '/_*')
    .replace(/\?\?/g, '?_?');
}

/** A C string literal (ASCII, escaped). */
export function cString(s: string): string {
  if (!/^[\x20-\x7e]*$/.test(s)) throw new Error('C string literals here must be printable ASCII');
  return '"' + s.replace(/\\/g, '\\\\').replace(/"/g, '\\"') + '"';
}

/**
 * Fill a template: `/*@@NAME@@*\/` (code level) and `@@NAME@@` (inside comments)
 * are replaced by values[NAME]. Every placeholder must have a value and every
 * value must be used, so a template and its generator cannot drift apart.
 */
export function fillTemplate(template: string, values: Record<string, string>, source = 'template'): string {
  const used = new Set<string>();
  const out = template.replace(/\/\*@@([A-Z0-9_]+)@@\*\/|@@([A-Z0-9_]+)@@/g, (_m, a: string | undefined, b: string | undefined) => {
    const key = (a ?? b)!;
    if (!(key in values)) throw new Error(`${source}: no value for placeholder ${key}`);
    used.add(key);
    return values[key];
  });
  const unused = Object.keys(values).filter((k) => !used.has(k));
  if (unused.length) throw new Error(`${source}: values given for missing placeholders: ${unused.join(', ')}`);
  return out;
}
