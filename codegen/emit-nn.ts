/**
 * Emits ultro_nn.c: the forward pass generated for one quantised network.
 * Each layer gets its own function with its sizes, accumulator width,
 * activation and (when they agree) shift as constants, built from the static
 * inline kernels of ultro_kernels.h, so a policy links only the code its
 * layers use. The weight, bias and shift tables live here too.
 *
 * Accumulator widths: the narrowest of 16, 24 and 32 bits (int8) that holds
 * every row's final value, bias and rounding term included, by the exact
 * interval of the quantiser's overflow proof (QLayer.accRange). The AVR
 * kernels sum modulo that width (partial sums may wrap; the final value is in
 * range, so it is exact); off the AVR the sums run in a type that holds every
 * partial sum (QLayer.accBits). int16 networks keep QLayer.accBits (32 or 64);
 * their packed rows sum modulo 2^32 (the final value fits int32).
 */
import { cIdent, cInt, cIntArray, type CIntType } from './c-literals.js';
import type { QLayer, QuantizedModel } from './quantize.js';

export type KernelWidth = 16 | 24 | 32 | 64;

/** Whether the layer's rows feed the tanh table ⌊|acc| / 2^s⌋ (int16, codegen/tanh.ts) rather than a rounded z. */
function magnitudeTanh(q: Pick<QuantizedModel, 'tanh'>, L: QLayer): boolean {
  return L.act === 'tanh' && q.tanh?.magnitude === true;
}

/** Stored bias of row i: B + the rounding term of its shift (none where the int16 tanh truncates the magnitude). */
export function storedBias(q: Pick<QuantizedModel, 'tanh'>, L: QLayer, i: number): number {
  return L.B[i] + (L.shift[i] > 0 && !magnitudeTanh(q, L) ? Math.pow(2, L.shift[i] - 1) : 0);
}

/** Narrowest accumulator that holds the final value of every row (int8), or the partial-sum width (int16). */
export function kernelWidth(q: Pick<QuantizedModel, 'actBits' | 'tanh'>, L: QLayer): KernelWidth {
  if (q.actBits === 16) return L.accBits === 64 ? 64 : 32;
  if (L.accBits === 64) throw new Error(`int8 layer ${L.nin}->${L.nout}: its partial sums need 64 bits; use --variant int16`);
  let lo = 0,
    hi = 0;
  L.accRange.forEach(([a, b], i) => {
    const r = storedBias(q, L, i) - L.B[i];
    lo = Math.min(lo, a + r);
    hi = Math.max(hi, b + r);
  });
  if (lo >= -32768 && hi <= 32767) return 16;
  if (lo >= -8388608 && hi <= 8388607) return 24;
  return 32;
}

function intType(values: number[], atLeast: CIntType): CIntType {
  const order: CIntType[] = ['int16_t', 'int32_t', 'int64_t'];
  const fits: Record<string, number> = { int16_t: 32767, int32_t: 2147483647, int64_t: Number.MAX_SAFE_INTEGER };
  for (const t of order.slice(order.indexOf(atLeast))) if (values.every((v) => Math.abs(v) <= fits[t] && v >= -fits[t] - 1)) return t;
  throw new Error('bias does not fit 64 bits');
}

const RD: Record<CIntType, string> = { int8_t: 'ULTRO_RD_I8', uint8_t: 'ULTRO_RD_U8', int16_t: 'ULTRO_RD_I16', int32_t: 'ULTRO_RD_I32', int64_t: 'ULTRO_RD_I64' };

/**
 * Whether a layer goes into the packed form (ultro_rows8_* / ultro_rows16_*):
 * tanh, hard-tanh and ReLU (a clamp) and output layers; int8 with 24-bit
 * final sums, int16 with 32-bit partial sums.
 */
function packed(q: QuantizedModel, L: QLayer, last: boolean, width: KernelWidth): boolean {
  const rows = last || L.act === 'tanh' || L.act === 'hardtanh' || L.act === 'relu';
  if (!rows || L.nin > 255) return false;
  return q.actBits === 16 ? width === 32 : width <= 24;
}

/** Inputs per chunk of a packed row kernel: int8 keeps 16 in registers, int16 8 (two registers each). */
function chunkInputs(q: Pick<QuantizedModel, 'actBits'>): number {
  return q.actBits === 16 ? 8 : 16;
}

/** Rows a packed layer's call computes at most (the kernels count rows in 8 bits; chunked int16 keeps 4 bytes of scratch a row). */
function blockRows(q: QuantizedModel, L: QLayer): number {
  return q.actBits === 16 && L.nin > chunkInputs(q) ? 64 : 128;
}

/**
 * Packed rows r0..r0+n−1 as bytes (ultro_kernels.h), the weights in offset binary and a constant c
 * that takes the offsets back out:
 *  - int8: [c (3 bytes) | u_j = w_j + 128 | s], c = b + 16384·nin − 128·Σu (mod 2^24);
 *  - int16: [c (4 bytes) | u_j = w_j + 32768 (2 bytes each) | (m) s], c = b + 2^30·nin − 2^15·Σu (mod 2^32)
 *    (rowTail: m for tanh rows);
 * chunk-major above one chunk (16 inputs int8, 8 int16): every row's c and first chunk of weights,
 * every row's next chunk, …, every row's last weights and s. Little endian.
 */
function packedRows(q: QuantizedModel, L: QLayer, r0: number, n: number): number[] {
  const bytes: number[] = [];
  const le = (v: number, k: number) => {
    for (let b = 0; b < k; b++) bytes.push(Math.floor(v / Math.pow(2, 8 * b)) & 0xff);
  };
  const mod = (v: number, bits: number) => ((v % Math.pow(2, bits)) + Math.pow(2, bits)) % Math.pow(2, bits);
  const rows = Array.from({ length: n }, (_, k) => r0 + k);
  const int16 = q.actBits === 16;
  const half = int16 ? 32768 : 128;
  const u = (i: number) => L.W.slice(i * L.nin, (i + 1) * L.nin).map((w) => w + half);
  const c = (i: number) => {
    const sumU = u(i).reduce((a, b) => a + b, 0);
    // Exact in doubles: |terms| < 2^53 (nin <= 255).
    return int16 ? mod(mod(storedBias(q, L, i), 32) + mod(Math.pow(2, 30) * L.nin, 32) - mod(half * sumU, 32), 32) : mod(storedBias(q, L, i) + 16384 * L.nin - half * sumU, 24);
  };
  const g = chunkInputs(q);
  const nChunks = Math.ceil(L.nin / g);
  const chunks = L.nin <= g ? [L.nin] : [...Array<number>(nChunks - 1).fill(g), L.nin - g * (nChunks - 1)];
  let j0 = 0;
  chunks.forEach((width, k) => {
    for (const i of rows) {
      if (k === 0) le(c(i), int16 ? 4 : 3);
      for (const v of u(i).slice(j0, j0 + width)) le(v, int16 ? 2 : 1);
      if (k === chunks.length - 1) bytes.push(...rowTail(q, L, i));
    }
    j0 += width;
  });
  return bytes;
}

/**
 * The bytes after a packed row's weights: its shift s; an int16 tanh row puts m = 2^(8−s) before it
 * when 1 ≤ s ≤ 8 (else 0), so the AVR finds the table's bytes of ⌊|acc| / 2^s⌋ with three MULs.
 */
function rowTail(q: QuantizedModel, L: QLayer, i: number): number[] {
  const s = L.shift[i];
  if (!magnitudeTanh(q, L)) return [s & 0xff];
  return [s >= 1 && s <= 8 ? Math.pow(2, 8 - s) : 0, s & 0xff];
}

/** Scratch bytes of the row kernels of more than one chunk: partial sums, 3 bytes a row (int8) or 4 (int16). */
function partialBytes(q: QuantizedModel): number {
  let bytes = 0;
  q.layers.forEach((L, l) => {
    if (L.nin > chunkInputs(q) && packed(q, L, l === q.layers.length - 1, kernelWidth(q, L))) bytes = Math.max(bytes, (q.actBits === 16 ? 4 : 3) * Math.min(blockRows(q, L), L.nout));
  });
  return bytes;
}

/** The C of one layer: tables, then `static void ultro_layer<l>(in, out)`. */
function emitLayer(q: QuantizedModel, L: QLayer, l: number, last: boolean): { tables: string[]; fn: string; width: KernelWidth } {
  const act = q.actBits === 8 ? 'int8_t' : 'int16_t';
  const outType = last ? 'int16_t' : act;
  const width = kernelWidth(q, L);
  const head = `/* layer ${l}: ${L.nin} -> ${L.nout}, ${L.act}, ${width}-bit accumulator (final values in [${Math.min(...L.accRange.map((r) => r[0]))}, ${Math.max(...L.accRange.map((r) => r[1]))}], partial sums |.| <= ${L.accBound}), input Q${L.inFrac}, output Q${L.outFrac} */`;
  if (packed(q, L, last, width)) {
    const P = cIdent(`ULTRO_P${l}`);
    const int8 = q.actBits === 8;
    // At most one chunk of inputs in registers (int8: 16-bit sums when the proof allows), more chunk by chunk.
    const chunked = L.nin > chunkInputs(q);
    const k = !int8 ? (chunked ? 'rows16c' : 'rows16') : chunked ? 'rows8c' : width === 16 ? 'rows8s' : 'rows8';
    const extra = chunked ? ', ultro_part' : int8 ? `, ULTRO_REGS_${L.nin}` : `, ULTRO_REGS16_${L.nin}`;
    // The row kernels count rows in 8 bits: a layer of more rows goes in blocks.
    const bytes: number[] = [];
    const calls: string[] = [];
    for (let r0 = 0; r0 < L.nout; r0 += blockRows(q, L)) {
      const n = Math.min(blockRows(q, L), L.nout - r0);
      const p = bytes.length ? `${P} + ${bytes.length}` : P;
      const o = r0 ? `out + ${r0}` : 'out';
      bytes.push(...packedRows(q, L, r0, n));
      if (last) calls.push(`ultro_${k}_out(${p}, ${L.nin}, ${n}, in, ${o}${extra});`);
      else if (L.act === 'tanh') calls.push(`ultro_${k}_tanh(${p}, ${L.nin}, ${n}, in, ${o}, ULTRO_TANH_TABLE${extra});`);
      else calls.push(`ultro_${k}_clamp(${p}, ${L.nin}, ${n}, in, ${o}, ${L.act === 'relu' ? 0 : L.outMin}, ${L.outMax}${extra});`);
    }
    const layout = int8
      ? `, packed rows [c (24 bits), weights + 128, shift]${chunked ? ', chunk-major (16 inputs a chunk)' : ''} */`
      : `, packed rows [c (32 bits), weights + 32768 (16 bits), ${magnitudeTanh(q, L) ? '2^(8 - shift) or 0, shift' : 'shift'}]${chunked ? ', chunk-major (8 inputs a chunk)' : ''} */`;
    return {
      tables: [head.replace(' */', layout), cIntArray(P, 'uint8_t', bytes)],
      fn: [`static void ultro_layer${l}(${act} *in, ${outType} *out) {`, ...calls.map((c) => `  ${c}`), `}`].join('\n'),
      width,
    };
  }
  const W = cIdent(`ULTRO_W${l}`),
    B = cIdent(`ULTRO_B${l}`),
    S = cIdent(`ULTRO_S${l}`);
  const biases = L.B.map((_, i) => storedBias(q, L, i));
  const bType = intType(biases, 'int16_t');
  const uniform = L.shift.every((s) => s === L.shift[0]);
  const tables = [
    head,
    cIntArray(W, act, L.W),
    // Each bias carries its row's rounding term 2^(s-1), so the round-half-up shift is a plain shift.
    cIntArray(B, bType, biases),
    ...(uniform ? [] : [cIntArray(S, 'int8_t', L.shift)]),
  ];
  const shift = uniform ? `(int8_t)${cInt(L.shift[0], 'int16_t')}` : `ULTRO_RD_I8(&${S}[i])`;
  const bias = `${RD[bType]}(&${B}[i])`;
  const dot = {
    16: `int16_t acc = ultro_dot8_16(w, in, ${L.nin}, ${bias});`,
    24: `ultro_acc24_t acc = ultro_dot8_24(w, in, ${L.nin}, ${bias});`,
    32: q.actBits === 8 ? `int32_t acc = ultro_dot8_32(w, in, ${L.nin}, ${bias});` : `int32_t acc = ultro_dot16_32(w, in, ${L.nin}, ${bias});`,
    64: `int64_t acc = ultro_dot16_64(w, in, ${L.nin}, ${bias});`,
  }[width];
  // z = shift(acc, s) as int32 (saturating), for everything but the int8 tanh fast path.
  const z32 = width === 64 ? `ultro_shift64(acc, ${shift})` : `ultro_shift32(acc, ${shift})`;
  let body: string;
  if (last) body = `out[i] = (int16_t)ultro_clamp32(${z32}, -32768, 32767);`;
  else if (L.act === 'tanh' && q.actBits === 8)
    body =
      width === 32
        ? `out[i] = ultro_tanh8(ULTRO_TANH_TABLE, (int16_t)ultro_clamp32(${z32}, -ULTRO_TANH_ZMAX, ULTRO_TANH_ZMAX));`
        : `out[i] = ultro_tanh8(ULTRO_TANH_TABLE, ultro_zclamp24(acc, ${shift}, ULTRO_TANH_ZMAX));`;
  else if (L.act === 'tanh') body = `out[i] = ultro_tanh16(ULTRO_TANH_TABLE, acc < 0, ${width === 64 ? 'ultro_mag64' : 'ultro_mag32'}(acc, ${shift}));`;
  else body = `out[i] = (${act})ultro_clamp32(${z32}, ${cInt(L.act === 'relu' ? 0 : L.outMin, 'int16_t')}, ${cInt(L.outMax, 'int16_t')});`;
  const fn = [
    `static void ultro_layer${l}(${act} *in, ${outType} *out) {`,
    `  const ${act} *w = ${W};`,
    `  uint16_t i; /* layers may be 256 wide */`,
    `  for (i = 0; i < ${L.nout}; i++, w += ${L.nin}) {`,
    `    ${dot}`,
    `    ${body}`,
    `  }`,
    `}`,
  ].join('\n');
  return { tables, fn, width };
}

/** ultro_nn.c for this network. */
export function emitForward(q: QuantizedModel, stamp: string): string {
  const act = q.actBits === 8 ? 'int8_t' : 'int16_t';
  const parts = q.layers.map((L, l) => emitLayer(q, L, l, l === q.layers.length - 1));
  const hidden = q.layers.slice(0, -1);
  const part = partialBytes(q);
  const width = Math.max(1, ...hidden.map((L) => L.nout));
  const tanh = q.tanh
    ? [`/* tanh on [0, 4]: ${1 << q.tanh.m} segments, input Q${q.tanh.fz}, output Q${q.tanh.outFrac}, linear interpolation */`, cIntArray('ULTRO_TANH_TABLE', act, q.tanh.values)]
    : [];
  const calls: string[] = [];
  q.layers.forEach((_, l) => {
    const src = l === 0 ? 'x' : l % 2 === 1 ? 'buf_a' : 'buf_b';
    const dst = l === q.layers.length - 1 ? 'y' : l % 2 === 0 ? 'buf_a' : 'buf_b';
    calls.push(`  ultro_layer${l}(${src}, ${dst});`);
  });
  return [
    '/*',
    ' * ultro_nn.c: the forward pass of this network (see ultro_nn.h for the',
    ' * arithmetic, ultro_kernels.h for the pieces).',
    ' *',
    ` * ${stamp}`,
    ' *',
    ` * accumulators: ${parts.map((p, l) => `layer ${l} ${p.width}-bit`).join(', ')}`,
    ' */',
    '#include "ultro_nn.h"',
    '#include "ultro_kernels.h"',
    '',
    ...tanh,
    '',
    ...(part ? [`/* partial sums of the row kernels of more than one chunk of inputs */`, `static uint8_t ultro_part[${part}];`, ''] : []),
    ...parts.flatMap((p) => [...p.tables, '']),
    ...parts.flatMap((p) => [p.fn, '']),
    'void ultro_nn_forward(ultro_act_t *x, int16_t *y) {',
    ...(hidden.length > 0 ? [`  static ${act} buf_a[${width}];`] : []),
    ...(hidden.length > 1 ? [`  static ${act} buf_b[${width}];`] : []),
    ...calls,
    '}',
    '',
  ].join('\n');
}
