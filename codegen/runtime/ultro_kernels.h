/*
 * ultro_kernels.h: the building blocks of a generated forward pass
 * (ultro_nn.c). Every function is static inline, so a policy links only the
 * ones its layers call: an int8 network whose sums fit 24 bits carries no
 * 32- or 64-bit code.
 *
 * Dot products return bias + sum_j w[j] * a[j]:
 *   ultro_dot8_16  int8 x int8, 16-bit result
 *   ultro_dot8_24  int8 x int8, 24-bit result (int32 off the AVR)
 *   ultro_dot8_32  int8 x int8, 32-bit result
 *   ultro_dot16_32 int16 x int16, 32-bit result
 *   ultro_dot16_64 int16 x int16, 64-bit result
 * The generator picks the narrowest width whose range holds the row's final
 * value (bias and rounding term included), proven by exact interval
 * arithmetic over the quantised inputs (codegen/quantize.ts). On the AVR the
 * 16- and 24-bit sums are computed modulo 2^16 / 2^24 in assembly: partial
 * sums may wrap, the final value is exact because it is in range. The
 * portable versions accumulate in a type that holds every partial sum (the
 * generator proves that too), so no C expression overflows.
 *
 * Tanh and output layers go through the packed row kernels below
 * (int8: ultro_rows8_* with 24-bit sums, ultro_rows8s_* with 16-bit sums,
 * ultro_rows8c_* above 16 inputs; int16: ultro_rows16_*, ultro_rows16c_*
 * above 8 inputs): assembly on the AVR, the same arithmetic in C elsewhere. The dot products serve the other
 * layers (ReLU and hard-tanh hidden layers, 64-bit sums).
 */
#ifndef ULTRO_KERNELS_H
#define ULTRO_KERNELS_H

#include <stdint.h>
#include "ultro_rom.h"

/* The rounding shifts rely on arithmetic right shift of negative values
 * (implementation-defined in C99; gcc, clang and avr-gcc all do it). */
typedef char ultro_requires_arithmetic_shift[((-1) >> 1) == -1 ? 1 : -1];

#if defined(__AVR__)
__extension__ typedef __int24 ultro_acc24_t;
#else
typedef int32_t ultro_acc24_t;
#endif

#if defined(__AVR__)
/*
 * int8 weights (flash, Z, LPM) times int8 activations (RAM, X), unrolled by
 * four. MULS leaves the signed 16-bit product in r1:r0; r1 is avr-gcc's zero
 * register and is cleared at the end.
 *   16-bit: lpm 3 + ld 2 + muls 2 + add/adc 2 = 9 cycles per MAC.
 *   24-bit: the product plus 2^15 is a non-negative 16-bit number (flip the
 *           top bit: eor 1), added with a carry into the third byte (add,
 *           adc, adc 3): 11 cycles per MAC. The n * 2^15 added this way is
 *           subtracted from the start value (a constant when n is).
 *   32-bit: the product sign-extended into the top bytes: 14 cycles per MAC.
 */
#define ULTRO_MAC8_16 "lpm r24, Z+\n\tld r25, X+\n\tmuls r24, r25\n\tadd %A[acc], r0\n\tadc %B[acc], r1\n\t"
#define ULTRO_MAC8_24 "lpm r24, Z+\n\tld r25, X+\n\tmuls r24, r25\n\teor r1, %[k80]\n\tadd %A[acc], r0\n\tadc %B[acc], r1\n\tadc %C[acc], %[zero]\n\t"
#define ULTRO_MAC8_32                                                                                                                \
  "lpm r24, Z+\n\tld r25, X+\n\tmuls r24, r25\n\tmov r23, r1\n\tlsl r23\n\tsbc r23, r23\n\tadd %A[acc], r0\n\tadc %B[acc], r1\n\t" \
  "adc %C[acc], r23\n\tadc %D[acc], r23\n\t"

/* The loop around a MAC: n/4 unrolled groups, then n%4 single MACs. */
#define ULTRO_MAC_LOOP(MAC)                  \
  "tst %[q]\n\t"                             \
  "breq 2f\n"                                \
  "1:\n\t" MAC MAC MAC MAC "dec %[q]\n\t"    \
  "brne 1b\n"                                \
  "2:\n\t"                                   \
  "tst %[r]\n\t"                             \
  "breq 4f\n"                                \
  "3:\n\t" MAC "dec %[r]\n\t"                \
  "brne 3b\n"                                \
  "4:\n\t"                                   \
  "clr r1\n\t"

static inline int16_t ultro_dot8_16(const int8_t *w, const int8_t *a, uint16_t n, int16_t acc) {
  uint8_t q = (uint8_t)(n >> 2), r = (uint8_t)(n & 3); /* n <= 256 */
  __asm__ volatile(ULTRO_MAC_LOOP(ULTRO_MAC8_16) : [acc] "+r"(acc), [q] "+r"(q), [r] "+r"(r), "+z"(w), "+x"(a) : : "r24", "r25", "memory");
  return acc;
}

static inline ultro_acc24_t ultro_dot8_24(const int8_t *w, const int8_t *a, uint16_t n, ultro_acc24_t acc) {
  uint8_t q = (uint8_t)(n >> 2), r = (uint8_t)(n & 3); /* n <= 256 */
  uint8_t k80 = 0x80, zero = 0;
  acc -= (ultro_acc24_t)n << 15;
  __asm__ volatile(ULTRO_MAC_LOOP(ULTRO_MAC8_24)
                   : [acc] "+r"(acc), [q] "+r"(q), [r] "+r"(r), "+z"(w), "+x"(a)
                   : [k80] "r"(k80), [zero] "r"(zero)
                   : "r24", "r25", "memory");
  return acc;
}

static inline int32_t ultro_dot8_32(const int8_t *w, const int8_t *a, uint16_t n, int32_t acc) {
  uint8_t q = (uint8_t)(n >> 2), r = (uint8_t)(n & 3); /* n <= 256 */
  __asm__ volatile(ULTRO_MAC_LOOP(ULTRO_MAC8_32) : [acc] "+r"(acc), [q] "+r"(q), [r] "+r"(r), "+z"(w), "+x"(a) : : "r23", "r24", "r25", "memory");
  return acc;
}

/*
 * int16 weights (flash) times int16 activations (RAM) into 32 bits: the
 * signed 16x16 multiply-accumulate of Atmel's AVR201 application note. With
 * a = ah*256 + al and b = bh*256 + bl (high bytes signed, low bytes
 * unsigned), a*b = ah*bh*2^16 + (ah*bl + bh*al)*2^8 + al*bl; MULSU leaves the
 * sign of its product in C, and SBC sign-extends it into the top byte. MULSU
 * only takes r16-r23, hence the fixed registers.
 *   lpm 2x3 + ld 2x2 + 4 multiplies x 2 + 14 add/adc/sbc = 32 cycles per MAC.
 */
#define ULTRO_MAC16_32                                                                                       \
  "lpm r18, Z+\n\tlpm r19, Z+\n\tld r20, X+\n\tld r21, X+\n\t"                                                 \
  "muls r19, r21\n\tadd %C[acc], r0\n\tadc %D[acc], r1\n\t"                                                    \
  "mul r18, r20\n\tadd %A[acc], r0\n\tadc %B[acc], r1\n\tadc %C[acc], %[zero]\n\tadc %D[acc], %[zero]\n\t"   \
  "mulsu r19, r20\n\tsbc %D[acc], %[zero]\n\tadd %B[acc], r0\n\tadc %C[acc], r1\n\tadc %D[acc], %[zero]\n\t" \
  "mulsu r21, r18\n\tsbc %D[acc], %[zero]\n\tadd %B[acc], r0\n\tadc %C[acc], r1\n\tadc %D[acc], %[zero]\n\t"

static inline int32_t ultro_dot16_32(const int16_t *w, const int16_t *a, uint16_t n, int32_t acc) {
  uint8_t p = (uint8_t)(n >> 1), r = (uint8_t)(n & 1); /* n <= 256 */
  uint8_t zero = 0;
  __asm__ volatile(
      "tst %[p]\n\t"
      "breq 2f\n"
      "1:\n\t" ULTRO_MAC16_32 ULTRO_MAC16_32
      "dec %[p]\n\t"
      "brne 1b\n"
      "2:\n\t"
      "tst %[r]\n\t"
      "breq 3f\n\t" ULTRO_MAC16_32
      "3:\n\t"
      "clr r1\n\t"
      : [acc] "+r"(acc), [p] "+r"(p), "+z"(w), "+x"(a)
      : [r] "r"(r), [zero] "r"(zero)
      : "r18", "r19", "r20", "r21", "memory");
  return acc;
}
#else
/* int8 x int8 products summed in int32: no partial sum of <= 255 terms and a 24-bit bias can overflow it. */
static inline int32_t ultro_dot8_wide(const int8_t *w, const int8_t *a, uint16_t n, int32_t acc) {
  uint16_t j;
  for (j = 0; j < n; j++) acc += (int16_t)((int16_t)ULTRO_RD_I8(&w[j]) * (int16_t)a[j]);
  return acc;
}
static inline int16_t ultro_dot8_16(const int8_t *w, const int8_t *a, uint16_t n, int16_t acc) {
  return (int16_t)ultro_dot8_wide(w, a, n, acc); /* the final value is proven to fit */
}
static inline ultro_acc24_t ultro_dot8_24(const int8_t *w, const int8_t *a, uint16_t n, ultro_acc24_t acc) {
  return ultro_dot8_wide(w, a, n, acc);
}
static inline int32_t ultro_dot8_32(const int8_t *w, const int8_t *a, uint16_t n, int32_t acc) {
  return ultro_dot8_wide(w, a, n, acc);
}
/* Every partial sum is proven to fit int32 when the generator picks this one. */
static inline int32_t ultro_dot16_32(const int16_t *w, const int16_t *a, uint16_t n, int32_t acc) {
  uint16_t j;
  for (j = 0; j < n; j++) acc += (int32_t)ULTRO_RD_I16(&w[j]) * a[j];
  return acc;
}
#endif

static inline int64_t ultro_dot16_64(const int16_t *w, const int16_t *a, uint16_t n, int64_t acc) {
  uint16_t j;
  for (j = 0; j < n; j++) acc += (int32_t)ULTRO_RD_I16(&w[j]) * a[j];
  return acc;
}

/*
 * Shifts from the accumulator to z (codegen/quantize.ts, rshiftRound): s > 0
 * is an arithmetic right shift (the bias carries the rounding term 2^(s-1));
 * s < 0 multiplies by 2^-s and saturates at +-INT32_MAX, past the saturation
 * of every activation and of the output clamp, so the layer's result is exact.
 */
static inline int32_t ultro_shift32(int32_t v, int8_t s) {
  if (s > 0) return v >> s;
  if (s < 0) {
    int32_t lim = INT32_MAX >> -s;
    if (v > lim) return INT32_MAX;
    if (v < -lim) return -INT32_MAX;
    return v * ((int32_t)1 << -s);
  }
  return v;
}

static inline int32_t ultro_shift64(int64_t v, int8_t s) {
  if (s > 0) v >>= s;
  else if (s < 0) {
    int64_t lim = INT64_MAX >> -s;
    v = v > lim ? INT64_MAX : v < -lim ? -INT64_MAX : v * ((int64_t)1 << -s);
  }
  return (int32_t)(v < -INT32_MAX ? -INT32_MAX : v > INT32_MAX ? INT32_MAX : v);
}

static inline int32_t ultro_clamp32(int32_t v, int32_t lo, int32_t hi) {
  return v < lo ? lo : v > hi ? hi : v;
}

/*
 * clamp(shift(acc, s), -zmax, zmax) for a 24-bit (or 16-bit) accumulator, in
 * 16 bits (zmax < 2^15): a right shift, or a left shift of an accumulator
 * first compared with zmax >> -s (anything beyond saturates anyway, and
 * zmax is a power of two, so the comparison is exact).
 */
static inline int16_t ultro_zclamp24(ultro_acc24_t acc, int8_t s, int16_t zmax) {
  if (s >= 0) {
    acc >>= s;
    return acc > zmax ? zmax : acc < -zmax ? (int16_t)-zmax : (int16_t)acc;
  } else {
    uint8_t k = (uint8_t)-s;
    int16_t lim = k < 15 ? (int16_t)(zmax >> k) : 0;
    if (acc > lim) return zmax;
    if (acc < -lim) return (int16_t)-zmax;
    return k < 15 ? (int16_t)((int16_t)acc * (int16_t)(1 << k)) : 0; /* |acc| <= lim: exact */
  }
}

#if defined(ULTRO_TANH_SHIFT) && ULTRO_ACT_BITS == 8
/*
 * tanh of a clamped Q12 pre-activation (|zc| <= 4 * 2^12), int8 table of
 * ULTRO_TANH_SEGS segments (T, in ROM): the segment is the high byte of |zc| and the
 * interpolation fraction its low byte (ULTRO_TANH_SHIFT == 8).
 */
static inline int8_t ultro_tanh8(const int8_t *T, int16_t zc) {
  uint16_t a = (uint16_t)(zc < 0 ? -zc : zc);
  uint8_t i = (uint8_t)(a >> 8);
  int8_t y;
  if (i >= ULTRO_TANH_SEGS) {
    y = ULTRO_RD_I8(&T[ULTRO_TANH_SEGS]);
  } else {
    uint8_t f = (uint8_t)a;
    int8_t t0 = ULTRO_RD_I8(&T[i]);
    int8_t t1 = ULTRO_RD_I8(&T[i + 1]);
    y = (int8_t)(t0 + (int8_t)(((uint16_t)(uint8_t)(t1 - t0) * f + 128u) >> 8));
  }
  return zc < 0 ? (int8_t)-y : y;
}
#endif

#if defined(ULTRO_TANH_SHIFT) && ULTRO_ACT_BITS == 16
/*
 * int16 tanh (codegen/tanh.ts, tanhRow): the table takes a = |acc| >> s (a
 * left shift for s < 0, stopped at ULTRO_TANH_ZMAX, where the table
 * saturates) and the result takes acc's sign. Segment a >> ULTRO_TANH_SHIFT,
 * fraction the 8 bits below it, so the product is 16 x 8 bits.
 */
static inline uint32_t ultro_mag_shift(uint32_t m, int8_t s) {
  if (s > 0) return s < 32 ? m >> s : 0;
  for (; s < 0 && m < (uint32_t)ULTRO_TANH_ZMAX; s++) m <<= 1; /* m < 2^24 before each doubling */
  return m < (uint32_t)ULTRO_TANH_ZMAX ? m : (uint32_t)ULTRO_TANH_ZMAX;
}
static inline uint32_t ultro_mag32(int32_t acc, int8_t s) {
  return ultro_mag_shift(acc < 0 ? 0u - (uint32_t)acc : (uint32_t)acc, s);
}
static inline uint32_t ultro_mag64(int64_t acc, int8_t s) {
  uint64_t m = acc < 0 ? 0u - (uint64_t)acc : (uint64_t)acc;
  if (s > 0) m = s < 64 ? m >> s : 0;
  return m < (uint64_t)ULTRO_TANH_ZMAX ? ultro_mag_shift((uint32_t)m, s < 0 ? s : 0) : (uint32_t)ULTRO_TANH_ZMAX;
}
static inline int16_t ultro_tanh16(const int16_t *T, uint8_t neg, uint32_t a) {
  uint16_t i = (uint16_t)(a >> ULTRO_TANH_SHIFT);
  int16_t y;
  if (i >= ULTRO_TANH_SEGS) {
    y = ULTRO_RD_I16(&T[ULTRO_TANH_SEGS]);
  } else {
    uint8_t f = (uint8_t)(a >> (ULTRO_TANH_SHIFT - 8));
    int16_t t0 = ULTRO_RD_I16(&T[i]);
    int16_t t1 = ULTRO_RD_I16(&T[i + 1]);
    y = (int16_t)(t0 + (int16_t)(((int32_t)(t1 - t0) * f + 128) >> 8));
  }
  return (int16_t)(neg ? -y : y);
}
#endif

/*
 * Packed int8 layers (tanh and output layers whose final sums fit 24 bits).
 * A row is
 *   [c0 c1 c2 | u0 ... u(nin-1) | s]
 * with u_j = w_j + 128 (the weights in offset binary, 0..255),
 * c = b + 16384 * nin - 128 * sum_j u_j (mod 2^24, little endian), b the bias
 * with its rounding term, s the row's shift. With a'_j = a_j + 128,
 *   b + sum_j w_j a_j = c + sum_j u_j a'_j - k,   k = 128 * sum_j a'_j,
 * so on the AVR the products are unsigned (MUL) and add into 24 bits with no
 * sign extension, and k is one subtraction per row. Sums are taken modulo
 * 2^24 (2^16 when the overflow proof gives the layer 16 bits): the final value
 * is in range, so it is exact.
 *
 * On the AVR the inputs live in registers r2..r17 in offset binary, loaded
 * once (per chunk of 16), so a MAC is LPM 3 + MUL 2 + ADD/ADC/ADC 3 = 8 cycles
 * (7 with 16-bit sums) and no LD. The weight and the shift count go through
 * r0; the output pointer is Y, saved and restored around the loop (a function
 * may keep its frame pointer there); the rows, the tanh table and the counts
 * are link-time constants. A layer of more than 16 inputs is stored chunk by
 * chunk: all rows' first 16 weights (after c), then all rows' next 16, ...,
 * the last chunk's rows ending with s; partial sums wait in a 3-byte-per-row
 * scratch (the emitter's ultro_part). The registers r2..r17 are named in the
 * clobber list, so the compiler saves what it needs of them once.
 */
static inline int32_t ultro_sext24(uint32_t u) {
  return (int32_t)((u + 0x800000UL) & 0xFFFFFFUL) - (int32_t)0x800000L;
}

#if defined(__AVR__)
#define ULTRO_REGS_1 "r2"
#define ULTRO_REGS_2 ULTRO_REGS_1, "r3"
#define ULTRO_REGS_3 ULTRO_REGS_2, "r4"
#define ULTRO_REGS_4 ULTRO_REGS_3, "r5"
#define ULTRO_REGS_5 ULTRO_REGS_4, "r6"
#define ULTRO_REGS_6 ULTRO_REGS_5, "r7"
#define ULTRO_REGS_7 ULTRO_REGS_6, "r8"
#define ULTRO_REGS_8 ULTRO_REGS_7, "r9"
#define ULTRO_REGS_9 ULTRO_REGS_8, "r10"
#define ULTRO_REGS_10 ULTRO_REGS_9, "r11"
#define ULTRO_REGS_11 ULTRO_REGS_10, "r12"
#define ULTRO_REGS_12 ULTRO_REGS_11, "r13"
#define ULTRO_REGS_13 ULTRO_REGS_12, "r14"
#define ULTRO_REGS_14 ULTRO_REGS_13, "r15"
#define ULTRO_REGS_15 ULTRO_REGS_14, "r16"
#define ULTRO_REGS_16 ULTRO_REGS_15, "r17"
/* An assembler loop over the input registers r2..r(1+n_) (\j the register number). */
#define ULTRO_IRP(n_) ".irp j,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17\n\t.if \\j < 2 + " n_ "\n\t"
#define ULTRO_IRP_END ".endif\n\t.endr\n\t"
/* Inputs from X into registers, to offset binary (r20 = 0x80); _SUM also adds them into r22:r21. */
#define ULTRO_LOAD8(n_) ULTRO_IRP(n_) "ld r\\j, X+\n\teor r\\j, r20\n\t" ULTRO_IRP_END
#define ULTRO_LOAD8_SUM(n_) ULTRO_IRP(n_) "ld r\\j, X+\n\teor r\\j, r20\n\tadd r21, r\\j\n\tadc r22, r23\n\t" ULTRO_IRP_END
/* k = 128 * (r22:r21) in r22:r21:r25. */
#define ULTRO_K8 "lsr r22\n\tror r21\n\tclr r25\n\tror r25\n\t"
#define ULTRO_MACS24(n_) ULTRO_IRP(n_) "lpm r0, Z+\n\tmul r0, r\\j\n\tadd r18, r0\n\tadc r19, r1\n\tadc r20, r23\n\t" ULTRO_IRP_END
#define ULTRO_MACS16(n_) ULTRO_IRP(n_) "lpm r0, Z+\n\tmul r0, r\\j\n\tadd r18, r0\n\tadc r19, r1\n\t" ULTRO_IRP_END
/* The row's shift (count from the row, in r0): right by s > 0; left by -s, saturating on signed overflow. */
#define ULTRO_SHIFT24                                                                                      \
  "lpm r0, Z+\n\ttst r0\n\tbreq 8f\n\tbrmi 7f\n"                                                              \
  "6:\n\tasr r20\n\tror r19\n\tror r18\n\tdec r0\n\tbrne 6b\n\trjmp 8f\n"                                     \
  "7:\n\tneg r0\n"                                                                                           \
  "9:\n\tlsl r18\n\trol r19\n\trol r20\n\tbrvs 10f\n\tdec r0\n\tbrne 9b\n\trjmp 8f\n"                         \
  "10:\n\tldi r20, 0x7f\n\tbrcc 8f\n\tldi r20, 0x80\n"                                                        \
  "8:\n\t"
#define ULTRO_SHIFT16                                                                                      \
  "lpm r0, Z+\n\ttst r0\n\tbreq 8f\n\tbrmi 7f\n"                                                              \
  "6:\n\tasr r19\n\tror r18\n\tdec r0\n\tbrne 6b\n\trjmp 8f\n"                                                \
  "7:\n\tneg r0\n"                                                                                           \
  "9:\n\tlsl r18\n\trol r19\n\tbrvs 10f\n\tdec r0\n\tbrne 9b\n\trjmp 8f\n"                                    \
  "10:\n\tldi r18, 0xff\n\tldi r19, 0x7f\n\tbrcc 8f\n\tldi r18, 0x00\n\tldi r19, 0x80\n"                          \
  "8:\n\t"
/*
 * tanh: |z| (sign in SREG's T flag) clamped to 4 * 2^12, then the table: the
 * segment is the high byte of |z|, the fraction its low byte, and
 * y = t0 + (((t1 - t0) * f + 128) >> 8), negated for z < 0. (At |z| = 4 the
 * fraction is 0, so the byte read after the table's last entry is multiplied
 * by 0.) Z waits in the pair sv_ while the table is read.
 */
#define ULTRO_ABS24                                                                                        \
  "bst r20, 7\n\tbrtc 14f\n\tcom r20\n\tcom r19\n\tneg r18\n\tsbci r19, 0xff\n\tsbci r20, 0xff\n"                   \
  "14:\n\ttst r20\n\tbrne 19f\n\tcpi r19, 0x40\n\tbrlo 15f\n19:\n\tldi r18, 0x00\n\tldi r19, 0x40\n"
#define ULTRO_ABS16                                                                                        \
  "bst r19, 7\n\tbrtc 14f\n\tcom r19\n\tneg r18\n\tsbci r19, 0xff\n"                                             \
  "14:\n\tcpi r19, 0x40\n\tbrlo 15f\n\tldi r18, 0x00\n\tldi r19, 0x40\n"
#define ULTRO_TANH8(sv_)                                                                                   \
  "15:\n\tmovw " sv_ ", r30\n\tldi r30, lo8(%[tab])\n\tldi r31, hi8(%[tab])\n\tadd r30, r19\n\tadc r31, r23\n\t"      \
  "lpm r20, Z+\n\tlpm r0, Z\n\tmovw r30, " sv_ "\n\t"                                                             \
  "sub r0, r20\n\tmul r0, r18\n\tlsl r0\n\tadc r1, r23\n\tadd r20, r1\n\t"                                       \
  "brtc 18f\n\tneg r20\n18:\n\tst Y+, r20\n\t"
/* The output: z saturated to int16 (it fits when r20 is r19's sign extension), stored little endian. */
#define ULTRO_OUT24                                                                                        \
  "mov r0, r19\n\tlsl r0\n\tsbc r0, r0\n\tcp r0, r20\n\tbreq 12f\n\t"                                             \
  "ldi r18, 0xff\n\tldi r19, 0x7f\n\tsbrs r20, 7\n\trjmp 12f\n\tldi r18, 0x00\n\tldi r19, 0x80\n"                    \
  "12:\n\tst Y+, r18\n\tst Y+, r19\n\t"
#define ULTRO_OUT16 "st Y+, r18\n\tst Y+, r19\n\t"
/*
 * Hard tanh and ReLU: z clamped to [lo, hi] (both within int8), stored as int8. z fits int8 when its
 * upper bytes are r18's sign extension; then r18 is compared with the ends, else z's sign picks one.
 */
/* FITS_ compares r0 (r18's sign extension) with the upper bytes; TOP_ is the top byte. */
#define ULTRO_CLAMP8(FITS_, TOP_)                                                                          \
  "mov r0, r18\n\tlsl r0\n\tsbc r0, r0\n\t" FITS_ "brne 2f\n\t"                                                 \
  "cpi r18, lo8(%[hi])\n\tbrlt 3f\n\tldi r18, lo8(%[hi])\n\trjmp 4f\n"                                        \
  "3:\n\tcpi r18, lo8(%[lo])\n\tbrge 4f\n\tldi r18, lo8(%[lo])\n\trjmp 4f\n"                                 \
  "2:\n\tldi r18, lo8(%[hi])\n\tsbrc " TOP_ ", 7\n\tldi r18, lo8(%[lo])\n4:\n\tst Y+, r18\n\t"
#define ULTRO_CLAMP8_24 ULTRO_CLAMP8("cp r0, r19\n\tcpc r0, r20\n\t", "r20")
#define ULTRO_CLAMP8_16 ULTRO_CLAMP8("cp r0, r19\n\t", "r19")
/* Next row (label 13; rjmp, since a row is longer than BRNE reaches), or restore Y and r1. */
#define ULTRO_ROWS_END(cnt_) "dec " cnt_ "\n\tbreq 17f\n\trjmp 13b\n17:\n\tclr r1\n\tpop r29\n\tpop r28\n\t"

/* At most 16 inputs: load them and k, then each row: bias - k, the MACs, the shift, the tail. */
#define ULTRO_ONE_PASS(BIAS, MACS, SHIFT, TAIL)                                                            \
  "push r28\n\tpush r29\n\tmovw r28, r30\n\tclr r23\n\tclr r21\n\tclr r22\n\tldi r20, 0x80\n\t"                    \
  ULTRO_LOAD8_SUM("%[nin]") ULTRO_K8 "ldi r30, lo8(%[p])\n\tldi r31, hi8(%[p])\n\tldi r24, %[nout]\n"             \
  "13:\n\t" BIAS MACS("%[nin]") SHIFT TAIL ULTRO_ROWS_END("r24")
#define ULTRO_BIAS24 "lpm r18, Z+\n\tlpm r19, Z+\n\tlpm r20, Z+\n\tsub r18, r25\n\tsbc r19, r21\n\tsbc r20, r22\n\t"
#define ULTRO_BIAS16 "lpm r18, Z+\n\tlpm r19, Z+\n\tadiw r30, 1\n\tsub r18, r25\n\tsbc r19, r21\n\t"

/*
 * More than 16 inputs: k from one pass over all inputs; chunk 0 (16 inputs)
 * stores c - k + its products per row in the scratch; each middle chunk
 * (16) adds its products there; the last chunk (the rest) adds its own, then
 * the shift and the tail. Chunk 0's loop keeps the input pointer on the stack.
 */
#define ULTRO_CHUNKED(TAIL)                                                                                \
  "push r28\n\tpush r29\n\tmovw r28, r30\n\tclr r23\n\tclr r21\n\tclr r22\n\t"                                    \
  "movw r24, r26\n\tldi r18, %[nin]\n"                                                                        \
  "30:\n\tld r20, X+\n\tsubi r20, 0x80\n\tadd r21, r20\n\tadc r22, r23\n\tdec r18\n\tbrne 30b\n\t"                  \
  "movw r26, r24\n\t" ULTRO_K8 "ldi r20, 0x80\n\t" ULTRO_LOAD8("16") "push r26\n\tpush r27\n\t"                     \
  "ldi r26, lo8(%[part])\n\tldi r27, hi8(%[part])\n\tldi r30, lo8(%[p])\n\tldi r31, hi8(%[p])\n\tldi r24, %[nout]\n" \
  "31:\n\t" ULTRO_BIAS24 ULTRO_MACS24("16") "st X+, r18\n\tst X+, r19\n\tst X+, r20\n\t"                           \
  "dec r24\n\tbreq 32f\n\trjmp 31b\n32:\n\t"                                                                  \
  ".if %[nmid] > 0\n\tldi r22, %[nmid]\n"                                                                      \
  "33:\n\tpop r27\n\tpop r26\n\tldi r20, 0x80\n\t" ULTRO_LOAD8("16") "push r26\n\tpush r27\n\t"                     \
  "ldi r26, lo8(%[part])\n\tldi r27, hi8(%[part])\n\tldi r24, %[nout]\n"                                         \
  "34:\n\tld r18, X+\n\tld r19, X+\n\tld r20, X\n\tsbiw r26, 2\n\t" ULTRO_MACS24("16")                             \
  "st X+, r18\n\tst X+, r19\n\tst X+, r20\n\tdec r24\n\tbreq 35f\n\trjmp 34b\n35:\n\t"                               \
  "dec r22\n\tbreq 36f\n\trjmp 33b\n36:\n\t.endif\n\t"                                                           \
  "pop r27\n\tpop r26\n\tldi r20, 0x80\n\t" ULTRO_LOAD8("%[nlast]")                                               \
  "ldi r26, lo8(%[part])\n\tldi r27, hi8(%[part])\n\tldi r21, %[nout]\n"                                         \
  "13:\n\tld r18, X+\n\tld r19, X+\n\tld r20, X+\n\t" ULTRO_MACS24("%[nlast]") ULTRO_SHIFT24 TAIL                  \
  ULTRO_ROWS_END("r21")

/* One layer: in through X, out through Z (then Y). The registers come last: the clobber list arrives
 * expanded, commas and all. */
#define ULTRO_ROWS8_LAYER(code_, P_, T_, part_, lo_, hi_, nin_, nout_, in_, out_, outType_, ...)         \
  do {                                                                                                     \
    const int8_t *i_ = (in_);                                                                              \
    outType_ *o_ = (out_);                                                                                 \
    __asm__ volatile(code_                                                                                 \
                     : "+x"(i_), "+z"(o_)                                                                  \
                     : [p] "i"(P_), [tab] "i"(T_), [part] "i"(part_), [lo] "n"(lo_), [hi] "n"(hi_),        \
                       [nin] "n"(nin_), [nout] "n"(nout_),                                                 \
                       [nmid] "n"(((nin_) + 15) / 16 - 2), [nlast] "n"((nin_)-16 * (((nin_) + 15) / 16 - 1)) \
                     : "r0", __VA_ARGS__, "r18", "r19", "r20", "r21", "r22", "r23", "r24", "r25", "memory"); \
  } while (0)

/* At most 16 inputs, 24-bit sums (regs_: ULTRO_REGS_<nin>). */
#define ultro_rows8_tanh(P_, nin_, nout_, in_, out_, T_, regs_) \
  ULTRO_ROWS8_LAYER(ULTRO_ONE_PASS(ULTRO_BIAS24, ULTRO_MACS24, ULTRO_SHIFT24, ULTRO_ABS24 ULTRO_TANH8("r26")), P_, T_, 0, 0, 0, nin_, nout_, in_, out_, int8_t, regs_)
#define ultro_rows8_out(P_, nin_, nout_, in_, out_, regs_) \
  ULTRO_ROWS8_LAYER(ULTRO_ONE_PASS(ULTRO_BIAS24, ULTRO_MACS24, ULTRO_SHIFT24, ULTRO_OUT24), P_, 0, 0, 0, 0, nin_, nout_, in_, out_, int16_t, regs_)
/* At most 16 inputs, 16-bit sums: MAC = LPM 3 + MUL 2 + ADD/ADC 2 = 7 cycles; c's third byte skipped. */
#define ultro_rows8s_tanh(P_, nin_, nout_, in_, out_, T_, regs_) \
  ULTRO_ROWS8_LAYER(ULTRO_ONE_PASS(ULTRO_BIAS16, ULTRO_MACS16, ULTRO_SHIFT16, ULTRO_ABS16 ULTRO_TANH8("r26")), P_, T_, 0, 0, 0, nin_, nout_, in_, out_, int8_t, regs_)
#define ultro_rows8s_out(P_, nin_, nout_, in_, out_, regs_) \
  ULTRO_ROWS8_LAYER(ULTRO_ONE_PASS(ULTRO_BIAS16, ULTRO_MACS16, ULTRO_SHIFT16, ULTRO_OUT16), P_, 0, 0, 0, 0, nin_, nout_, in_, out_, int16_t, regs_)
/* Hard-tanh and ReLU layers: the output clamped to [lo_, hi_]. */
#define ultro_rows8_clamp(P_, nin_, nout_, in_, out_, lo_, hi_, regs_) \
  ULTRO_ROWS8_LAYER(ULTRO_ONE_PASS(ULTRO_BIAS24, ULTRO_MACS24, ULTRO_SHIFT24, ULTRO_CLAMP8_24), P_, 0, 0, lo_, hi_, nin_, nout_, in_, out_, int8_t, regs_)
#define ultro_rows8s_clamp(P_, nin_, nout_, in_, out_, lo_, hi_, regs_) \
  ULTRO_ROWS8_LAYER(ULTRO_ONE_PASS(ULTRO_BIAS16, ULTRO_MACS16, ULTRO_SHIFT16, ULTRO_CLAMP8_16), P_, 0, 0, lo_, hi_, nin_, nout_, in_, out_, int8_t, regs_)
#define ultro_rows8c_clamp(P_, nin_, nout_, in_, out_, lo_, hi_, part_) \
  ULTRO_ROWS8_LAYER(ULTRO_CHUNKED(ULTRO_CLAMP8_24), P_, 0, part_, lo_, hi_, nin_, nout_, in_, out_, int8_t, ULTRO_REGS_16)
/* More than 16 inputs (chunk-major rows; part_: 3 bytes of scratch per row). */
#define ultro_rows8c_tanh(P_, nin_, nout_, in_, out_, T_, part_) \
  ULTRO_ROWS8_LAYER(ULTRO_CHUNKED(ULTRO_ABS24 ULTRO_TANH8("r24")), P_, T_, part_, 0, 0, nin_, nout_, in_, out_, int8_t, ULTRO_REGS_16)
#define ultro_rows8c_out(P_, nin_, nout_, in_, out_, part_) \
  ULTRO_ROWS8_LAYER(ULTRO_CHUNKED(ULTRO_OUT24), P_, 0, part_, 0, 0, nin_, nout_, in_, out_, int16_t, ULTRO_REGS_16)
#else
/*
 * Portable: the row's sum as the AVR computes it (modulo 2^24), from the
 * inputs as they are. p points at c, w at the row's weights of a chunk; the
 * chunk-major offsets are those of the layout above.
 */
static inline int32_t ultro_row8_part(const uint8_t *w, const int8_t *in, uint8_t n, int32_t v) {
  uint8_t j;
  for (j = 0; j < n; j++) {
    int32_t a = (int32_t)in[j] + 128;
    v += (int32_t)ULTRO_RD_U8(w + j) * a - 128 * a; /* |v| < 2^25 + 255 * 2^16: no overflow */
  }
  return ultro_sext24((uint32_t)v);
}
/* Row i's sum and shift: one pass (nin <= 16, rows [c | u | s]) or chunk-major (nin > 16). */
static inline int32_t ultro_c24(const uint8_t *p) {
  return ultro_sext24((uint32_t)ULTRO_RD_U8(p) | ((uint32_t)ULTRO_RD_U8(p + 1) << 8) | ((uint32_t)ULTRO_RD_U8(p + 2) << 16));
}
static inline int32_t ultro_row8_sum(const uint8_t *P, uint8_t nin, uint8_t nout, uint8_t i, const int8_t *in, int8_t *shift) {
  const uint8_t *p;
  int32_t v;
  uint8_t m, chunks, last;
  if (nin <= 16) {
    p = P + (uint16_t)i * (nin + 4u);
    *shift = (int8_t)ULTRO_RD_U8(p + 3 + nin);
    return ultro_row8_part(p + 3, in, nin, ultro_c24(p));
  }
  chunks = (uint8_t)((nin + 15u) / 16u);
  last = (uint8_t)(nin - 16u * (chunks - 1u));
  p = P + (uint16_t)i * 19u;
  v = ultro_row8_part(p + 3, in, 16, ultro_c24(p));
  P += (uint16_t)nout * 19u;
  for (m = 1; m + 1 < chunks; m++, P += (uint16_t)nout * 16u) v = ultro_row8_part(P + (uint16_t)i * 16u, in + 16u * m, 16, v);
  p = P + (uint16_t)i * (last + 1u);
  *shift = (int8_t)ULTRO_RD_U8(p + last);
  return ultro_row8_part(p, in + 16u * (chunks - 1u), last, v);
}
#if defined(ULTRO_TANH_SHIFT) && ULTRO_ACT_BITS == 8
static inline void ultro_rows8_tanh_c(const uint8_t *P, uint8_t nin, uint8_t nout, const int8_t *in, int8_t *out, const int8_t *T) {
  uint8_t i;
  int8_t s;
  for (i = 0; i < nout; i++) {
    int32_t v = ultro_row8_sum(P, nin, nout, i, in, &s);
    out[i] = ultro_tanh8(T, ultro_zclamp24(v, s, ULTRO_TANH_ZMAX));
  }
}
#define ultro_rows8_tanh(P_, nin_, nout_, in_, out_, T_, regs_) ultro_rows8_tanh_c((P_), (nin_), (nout_), (in_), (out_), (T_))
#define ultro_rows8s_tanh ultro_rows8_tanh
#define ultro_rows8c_tanh(P_, nin_, nout_, in_, out_, T_, part_) ((void)(part_), ultro_rows8_tanh_c((P_), (nin_), (nout_), (in_), (out_), (T_)))
#endif
static inline void ultro_rows8_clamp_c(const uint8_t *P, uint8_t nin, uint8_t nout, const int8_t *in, int8_t *out, int8_t lo, int8_t hi) {
  uint8_t i;
  int8_t s;
  for (i = 0; i < nout; i++) {
    int32_t v = ultro_row8_sum(P, nin, nout, i, in, &s);
    out[i] = (int8_t)ultro_clamp32(ultro_shift32(v, s), lo, hi);
  }
}
#define ultro_rows8_clamp(P_, nin_, nout_, in_, out_, lo_, hi_, regs_) ultro_rows8_clamp_c((P_), (nin_), (nout_), (in_), (out_), (lo_), (hi_))
#define ultro_rows8s_clamp ultro_rows8_clamp
#define ultro_rows8c_clamp(P_, nin_, nout_, in_, out_, lo_, hi_, part_) ((void)(part_), ultro_rows8_clamp_c((P_), (nin_), (nout_), (in_), (out_), (lo_), (hi_)))
static inline void ultro_rows8_out_c(const uint8_t *P, uint8_t nin, uint8_t nout, const int8_t *in, int16_t *out) {
  uint8_t i;
  int8_t s;
  for (i = 0; i < nout; i++) {
    int32_t v = ultro_row8_sum(P, nin, nout, i, in, &s);
    out[i] = (int16_t)ultro_clamp32(ultro_shift32(v, s), -32768, 32767);
  }
}
#define ultro_rows8_out(P_, nin_, nout_, in_, out_, regs_) ultro_rows8_out_c((P_), (nin_), (nout_), (in_), (out_))
#define ultro_rows8s_out ultro_rows8_out
#define ultro_rows8c_out(P_, nin_, nout_, in_, out_, part_) ((void)(part_), ultro_rows8_out_c((P_), (nin_), (nout_), (in_), (out_)))
#endif

/*
 * Packed int16 layers (32-bit final sums). A row is
 *   [c0 c1 c2 c3 | u0 ... u(nin-1) (2 bytes each) | s]
 * with u_j = w_j + 32768 (offset binary, 0..65535) and
 * c = b + 2^30 * nin - 2^15 * sum_j u_j (mod 2^32), b the bias with its
 * rounding term. With a'_j = a_j + 32768,
 *   b + sum_j w_j a_j = c + sum_j u_j a'_j - k,   k = 2^15 * sum_j a'_j,
 * all modulo 2^32; the final value fits int32 (the overflow proof), so it is
 * exact. A layer of more than 8 inputs is stored chunk by chunk (8 inputs a
 * chunk), as the int8 rows are by 16.
 *
 * On the AVR the inputs of a chunk live in r2..r17 in offset binary, and a
 * MAC is four unsigned MULs into one 32-bit sum:
 *   lpm 2x3 + mul 4x2 + 12 add/adc = 26 cycles (the AVR201 signed MAC with
 *   its loads from RAM is 32).
 * Then either the row's shift and the output (saturated to int16), or tanh
 * (ULTRO_TANH16: a = |acc| >> s in Q22 is below 4 * 2^22 exactly when its
 * top byte is 0; then its byte 2 is the table segment and byte 1 the
 * interpolation fraction). r24 is zero; the output pointer is Y (saved and
 * restored); k waits in r25:r27 (bytes 1..3: its byte 0 is 0); a one-chunk
 * layer's row loop ends on Z's address.
 */
#if defined(__AVR__)
/* n int16 inputs take the registers of 2n int8 ones. */
#define ULTRO_REGS16_1 ULTRO_REGS_2
#define ULTRO_REGS16_2 ULTRO_REGS_4
#define ULTRO_REGS16_3 ULTRO_REGS_6
#define ULTRO_REGS16_4 ULTRO_REGS_8
#define ULTRO_REGS16_5 ULTRO_REGS_10
#define ULTRO_REGS16_6 ULTRO_REGS_12
#define ULTRO_REGS16_7 ULTRO_REGS_14
#define ULTRO_REGS16_8 ULTRO_REGS_16
/* An assembler loop over the chunk's inputs: input \j in r(2+2j) (low byte) and r(3+2j) (high). */
#define ULTRO_IRP16(n_) ".irp j,0,1,2,3,4,5,6,7\n\t.if \\j < " n_ "\n\t"
/* Inputs from X into registers, in offset binary (r23 = 0x80); _SUM also adds them into r20:r19:r18. */
#define ULTRO_LOAD16(n_) ULTRO_IRP16(n_) "ld 2+2*\\j, X+\n\tld 3+2*\\j, X+\n\teor 3+2*\\j, r23\n\t" ULTRO_IRP_END
#define ULTRO_LOAD16_SUM(n_) \
  ULTRO_IRP16(n_) "ld 2+2*\\j, X+\n\tld 3+2*\\j, X+\n\teor 3+2*\\j, r23\n\tadd r18, 2+2*\\j\n\tadc r19, 3+2*\\j\n\tadc r20, r24\n\t" ULTRO_IRP_END
/* k = 2^15 * (r20:r19:r18): bytes 1..3 in r25, r26, r27. */
#define ULTRO_K16 "lsr r20\n\tror r19\n\tror r18\n\tclr r25\n\tror r25\n\tmovw r26, r18\n\t"
/* u_j * a'_j into r21:r18, modulo 2^32: lo*lo, hi*hi, then the two cross products. */
#define ULTRO_MACS16X(n_)                                                                                            \
  ULTRO_IRP16(n_) "lpm r22, Z+\n\tlpm r23, Z+\n\t"                                                                     \
  "mul r22, 2+2*\\j\n\tadd r18, r0\n\tadc r19, r1\n\tadc r20, r24\n\tadc r21, r24\n\t"                                 \
  "mul r23, 3+2*\\j\n\tadd r20, r0\n\tadc r21, r1\n\t"                                                                 \
  "mul r22, 3+2*\\j\n\tadd r19, r0\n\tadc r20, r1\n\tadc r21, r24\n\t"                                                 \
  "mul r23, 2+2*\\j\n\tadd r19, r0\n\tadc r20, r1\n\tadc r21, r24\n\t" ULTRO_IRP_END
/* c - k: c from the row, k from r27:r25. */
#define ULTRO_BIAS32K "lpm r18, Z+\n\tlpm r19, Z+\n\tlpm r20, Z+\n\tlpm r21, Z+\n\tsub r19, r25\n\tsbc r20, r26\n\tsbc r21, r27\n\t"
/* The row's shift (count from the row, in r22): right by s > 0, a byte at a time while s >= 8; left by -s,
 * saturating on signed overflow. */
#define ULTRO_SHIFT32                                                                                                \
  "lpm r22, Z+\n\ttst r22\n\tbreq 8f\n\tbrmi 7f\n"                                                                       \
  "5:\n\tcpi r22, 8\n\tbrlo 6f\n\tmov r18, r19\n\tmov r19, r20\n\tmov r20, r21\n\tlsl r21\n\tsbc r21, r21\n\t"             \
  "subi r22, 8\n\tbrne 5b\n\trjmp 8f\n"                                                                                 \
  "6:\n\tasr r21\n\tror r20\n\tror r19\n\tror r18\n\tdec r22\n\tbrne 6b\n\trjmp 8f\n"                                    \
  "7:\n\tneg r22\n"                                                                                                    \
  "9:\n\tlsl r18\n\trol r19\n\trol r20\n\trol r21\n\tbrvs 10f\n\tdec r22\n\tbrne 9b\n\trjmp 8f\n"                        \
  "10:\n\tldi r21, 0x7f\n\tbrcc 8f\n\tldi r21, 0x80\n"                                                                  \
  "8:\n\t"
/*
 * tanh (codegen/tanh.ts, tanhRow): |acc| (its sign in SREG's T flag), then
 * the bytes of a = |acc| >> s the table reads: byte 1 the fraction f (r19),
 * byte 2 the segment i (r20), a >= 2^24 saturated. For 1 <= s <= 8 the row
 * gives m = 2^(8-s), and those are bytes 2..4 of |acc| * m: three MULs
 * whose bytes do not overlap (no carries). Other shifts go bit by bit.
 * Then y = t0 + (((t1 - t0) * f + 128) >> 8) computed as dh*f + ((dl*f + 128) >> 8)
 * (0 <= t1 - t0 < 2^10: the table is non-decreasing), negated for acc < 0.
 * Z waits in r23:r22 while the table is read.
 */
#define ULTRO_TANH16                                                                                                 \
  "bst r21, 7\n\tbrtc 14f\n\tcom r21\n\tcom r20\n\tcom r19\n\tneg r18\n\tsbci r19, 0xff\n\tsbci r20, 0xff\n\tsbci r21, 0xff\n" \
  "14:\n\tlpm r22, Z+\n\ttst r22\n\tbreq 20f\n\tadiw r30, 1\n\t"                                                        \
  "mul r19, r22\n\tmov r23, r1\n\tmul r20, r22\n\tor r23, r0\n\tmov r19, r23\n\tmov r20, r1\n\t"                           \
  "mul r21, r22\n\tor r20, r0\n\ttst r1\n\tbreq 21f\n\trjmp 19f\n"                                                         \
  "20:\n\tlpm r22, Z+\n\ttst r22\n\tbreq 22f\n\tbrmi 23f\n"                                                               \
  "24:\n\tlsr r21\n\tror r20\n\tror r19\n\tdec r22\n\tbrne 24b\n\trjmp 22f\n"                                             \
  "23:\n\tlsl r18\n\trol r19\n\trol r20\n\trol r21\n\tbrcs 19f\n\tinc r22\n\tbrne 23b\n"                                  \
  "22:\n\ttst r21\n\tbrne 19f\n"                                                                                        \
  "21:\n\tmovw r22, r30\n\tldi r30, lo8(%[tab])\n\tldi r31, hi8(%[tab])\n\tadd r30, r20\n\tadc r31, r24\n\tadd r30, r20\n\tadc r31, r24\n\t" \
  "lpm r18, Z+\n\tlpm r21, Z+\n\tlpm r0, Z+\n\tlpm r1, Z\n\tsub r0, r18\n\tsbc r1, r21\n\tmov r20, r1\n\t"                \
  "mul r0, r19\n\tlsl r0\n\tadc r1, r24\n\tadd r18, r1\n\tadc r21, r24\n\t"                                              \
  "mul r20, r19\n\tadd r18, r0\n\tadc r21, r1\n\trjmp 15f\n"                                                             \
  "19:\n\tmovw r22, r30\n\tldi r30, lo8(%[tsat])\n\tldi r31, hi8(%[tsat])\n\tlpm r18, Z+\n\tlpm r21, Z\n"                 \
  "15:\n\tmovw r30, r22\n\tbrtc 18f\n\tcom r21\n\tneg r18\n\tsbci r21, 0xff\n18:\n\tst Y+, r18\n\tst Y+, r21\n\t"
/* The output: z saturated to int16 (it fits when r21 and r20 are r19's sign extension). */
#define ULTRO_OUT32                                                                                                  \
  "mov r0, r19\n\tlsl r0\n\tsbc r0, r0\n\tcp r0, r20\n\tcpc r0, r21\n\tbreq 12f\n\t"                                    \
  "ldi r18, 0xff\n\tldi r19, 0x7f\n\tsbrs r21, 7\n\trjmp 12f\n\tldi r18, 0x00\n\tldi r19, 0x80\n"                         \
  "12:\n\tst Y+, r18\n\tst Y+, r19\n\t"

/* Hard tanh and ReLU: z clamped to [lo, hi] (both within int16): compared as int16 when it fits (r21 and
 * r20 are r19's sign extension), else its sign picks an end. */
#define ULTRO_CLAMP16                                                                                                \
  "mov r0, r19\n\tlsl r0\n\tsbc r0, r0\n\tcp r0, r20\n\tcpc r0, r21\n\tbrne 2f\n\t"                                     \
  "cpi r18, lo8(%[hi])\n\tldi r22, hi8(%[hi])\n\tcpc r19, r22\n\tbrlt 3f\n\tldi r18, lo8(%[hi])\n\tldi r19, hi8(%[hi])\n\trjmp 4f\n" \
  "3:\n\tcpi r18, lo8(%[lo])\n\tldi r22, hi8(%[lo])\n\tcpc r19, r22\n\tbrge 4f\n\tldi r18, lo8(%[lo])\n\tldi r19, hi8(%[lo])\n\trjmp 4f\n" \
  "2:\n\tldi r18, lo8(%[hi])\n\tldi r19, hi8(%[hi])\n\tsbrs r21, 7\n\trjmp 4f\n\tldi r18, lo8(%[lo])\n\tldi r19, hi8(%[lo])\n" \
  "4:\n\tst Y+, r18\n\tst Y+, r19\n\t"

/* At most 8 inputs: load them and k, then each row: c - k, the MACs, the tail (shift and output, or tanh); until Z
 * passes the rows. */
#define ULTRO_ONE_PASS16(TAIL)                                                                                       \
  "push r28\n\tpush r29\n\tmovw r28, r30\n\tclr r24\n\tclr r18\n\tclr r19\n\tclr r20\n\tldi r23, 0x80\n\t"              \
  ULTRO_LOAD16_SUM("%[nin]") ULTRO_K16 "ldi r30, lo8(%[p])\n\tldi r31, hi8(%[p])\n"                                     \
  "13:\n\t" ULTRO_BIAS32K ULTRO_MACS16X("%[nin]") TAIL                                                     \
  "cpi r30, lo8(%[pend])\n\tldi r22, hi8(%[pend])\n\tcpc r31, r22\n\tbreq 17f\n\trjmp 13b\n17:\n\tclr r1\n\tpop r29\n\tpop r28\n\t"

/*
 * More than 8 inputs: k from chunk 0's inputs as they are loaded and a pass over the rest; chunk 0 stores c - k
 * + its products per row in the scratch (through Y; X holds k); each middle
 * chunk adds its products there; the last chunk adds its own, then the
 * shift and the tail (X the scratch, Y the output, r25 the row count). The
 * input and output pointers wait on the stack.
 */
#define ULTRO_CHUNKED16(TAIL)                                                                                        \
  "push r28\n\tpush r29\n\tpush r30\n\tpush r31\n\tclr r24\n\tclr r18\n\tclr r19\n\tclr r20\n\tldi r23, 0x80\n\t"        \
  ULTRO_LOAD16_SUM("8") "push r26\n\tpush r27\n\tldi r25, %[nin] - 8\n"                                                  \
  "30:\n\tld r22, X+\n\tld r23, X+\n\tsubi r23, 0x80\n\tadd r18, r22\n\tadc r19, r23\n\tadc r20, r24\n\tdec r25\n\tbrne 30b\n\t" \
  ULTRO_K16                                                                                                            \
  "ldi r28, lo8(%[part])\n\tldi r29, hi8(%[part])\n\tldi r30, lo8(%[p])\n\tldi r31, hi8(%[p])\n"                        \
  "31:\n\t" ULTRO_BIAS32K ULTRO_MACS16X("8") "st Y+, r18\n\tst Y+, r19\n\tst Y+, r20\n\tst Y+, r21\n\t"                \
  "cpi r30, lo8(%[pend0])\n\tldi r22, hi8(%[pend0])\n\tcpc r31, r22\n\tbreq 32f\n\trjmp 31b\n32:\n\t"                   \
  ".if %[nmid] > 0\n\tldi r25, %[nmid]\n"                                                                             \
  "33:\n\tpop r27\n\tpop r26\n\tldi r23, 0x80\n\t" ULTRO_LOAD16("8") "push r26\n\tpush r27\n\t"                           \
  "ldi r28, lo8(%[part])\n\tldi r29, hi8(%[part])\n\tldi r26, %[nout]\n"                                               \
  "34:\n\tldd r18, Y+0\n\tldd r19, Y+1\n\tldd r20, Y+2\n\tldd r21, Y+3\n\t" ULTRO_MACS16X("8")                           \
  "st Y+, r18\n\tst Y+, r19\n\tst Y+, r20\n\tst Y+, r21\n\tdec r26\n\tbreq 35f\n\trjmp 34b\n35:\n\t"                      \
  "dec r25\n\tbreq 36f\n\trjmp 33b\n36:\n\t.endif\n\t"                                                                 \
  "pop r27\n\tpop r26\n\tldi r23, 0x80\n\t" ULTRO_LOAD16("%[nlast]")                                                      \
  "ldi r26, lo8(%[part])\n\tldi r27, hi8(%[part])\n\tpop r29\n\tpop r28\n\tldi r25, %[nout]\n"                          \
  "13:\n\tld r18, X+\n\tld r19, X+\n\tld r20, X+\n\tld r21, X+\n\t" ULTRO_MACS16X("%[nlast]") TAIL            \
  "dec r25\n\tbreq 17f\n\trjmp 13b\n17:\n\tclr r1\n\tpop r29\n\tpop r28\n\t"

/* One layer: in through X, out through Z (then Y). The registers come last: the clobber list arrives
 * expanded, commas and all. Row bytes: 4 + 2 * nin + tail_ (one chunk; tail_ 2 for tanh: m and s);
 * chunk 0 of a chunked layer 4 + 16. */
#define ULTRO_ROWS16_LAYER(code_, P_, T_, part_, tail_, lo_, hi_, nin_, nout_, in_, out_, ...)                          \
  do {                                                                                                                  \
    const int16_t *i_ = (in_);                                                                                          \
    int16_t *o_ = (out_);                                                                                               \
    __asm__ volatile(code_                                                                                              \
                     : "+x"(i_), "+z"(o_)                                                                               \
                     : [p] "i"(P_), [pend] "i"((P_) + (uint16_t)(nout_) * (4u + 2u * (nin_) + (tail_))),                     \
                       [pend0] "i"((P_) + (uint16_t)(nout_) * 20u), [tab] "i"(T_), [tsat] "i"((T_) + ULTRO_TANH_SEGS16), \
                       [part] "i"(part_), [lo] "n"(lo_), [hi] "n"(hi_), [nin] "n"(nin_), [nout] "n"(nout_),             \
                       [nmid] "n"(((nin_) + 7) / 8 - 2),                                                                \
                       [nlast] "n"((nin_)-8 * (((nin_) + 7) / 8 - 1))                                                   \
                     : "r0", __VA_ARGS__, "r18", "r19", "r20", "r21", "r22", "r23", "r24", "r25", "memory");             \
  } while (0)
#if defined(ULTRO_TANH_SHIFT) && ULTRO_ACT_BITS == 16
#define ULTRO_TANH_SEGS16 ULTRO_TANH_SEGS
#else
#define ULTRO_TANH_SEGS16 0
#endif

#define ultro_rows16_tanh(P_, nin_, nout_, in_, out_, T_, regs_) \
  ULTRO_ROWS16_LAYER(ULTRO_ONE_PASS16(ULTRO_TANH16), P_, T_, 0, 2u, 0, 0, nin_, nout_, in_, out_, regs_)
#define ultro_rows16_out(P_, nin_, nout_, in_, out_, regs_) \
  ULTRO_ROWS16_LAYER(ULTRO_ONE_PASS16(ULTRO_SHIFT32 ULTRO_OUT32), P_, (const int16_t *)0, 0, 1u, 0, 0, nin_, nout_, in_, out_, regs_)
#define ultro_rows16_clamp(P_, nin_, nout_, in_, out_, lo_, hi_, regs_) \
  ULTRO_ROWS16_LAYER(ULTRO_ONE_PASS16(ULTRO_SHIFT32 ULTRO_CLAMP16), P_, (const int16_t *)0, 0, 1u, lo_, hi_, nin_, nout_, in_, out_, regs_)
#define ultro_rows16c_clamp(P_, nin_, nout_, in_, out_, lo_, hi_, part_) \
  ULTRO_ROWS16_LAYER(ULTRO_CHUNKED16(ULTRO_SHIFT32 ULTRO_CLAMP16), P_, (const int16_t *)0, part_, 1u, lo_, hi_, nin_, nout_, in_, out_, ULTRO_REGS16_8)
#define ultro_rows16c_tanh(P_, nin_, nout_, in_, out_, T_, part_) \
  ULTRO_ROWS16_LAYER(ULTRO_CHUNKED16(ULTRO_TANH16), P_, T_, part_, 2u, 0, 0, nin_, nout_, in_, out_, ULTRO_REGS16_8)
#define ultro_rows16c_out(P_, nin_, nout_, in_, out_, part_) \
  ULTRO_ROWS16_LAYER(ULTRO_CHUNKED16(ULTRO_SHIFT32 ULTRO_OUT32), P_, (const int16_t *)0, part_, 1u, 0, 0, nin_, nout_, in_, out_, ULTRO_REGS16_8)
#else
/*
 * Portable: the row's sum as the AVR computes it (modulo 2^32, from the
 * offset-binary weights and inputs). p points at c, w at a chunk's weights
 * of the row; the chunk-major offsets are those of the layout above.
 */
static inline uint32_t ultro_u32le(const uint8_t *p) {
  return (uint32_t)ULTRO_RD_U8(p) | ((uint32_t)ULTRO_RD_U8(p + 1) << 8) | ((uint32_t)ULTRO_RD_U8(p + 2) << 16) | ((uint32_t)ULTRO_RD_U8(p + 3) << 24);
}
static inline uint32_t ultro_row16_part(const uint8_t *w, const int16_t *in, uint8_t n, uint32_t v) {
  uint8_t j;
  for (j = 0; j < n; j++) {
    uint32_t u = (uint32_t)ULTRO_RD_U8(w + 2 * j) | ((uint32_t)ULTRO_RD_U8(w + 2 * j + 1) << 8);
    uint32_t a = (uint32_t)((uint16_t)in[j] ^ 0x8000u);
    v += u * a; /* unsigned: wraps modulo 2^32 */
  }
  return v;
}
/* Row i's sum and shift (tail: the bytes after the weights, the shift last). */
/* k = 2^15 * sum_j a'_j (mod 2^32), once per layer. */
static inline uint32_t ultro_k16(const int16_t *in, uint8_t nin) {
  uint32_t k = 0;
  uint8_t j;
  for (j = 0; j < nin; j++) k += (uint32_t)((uint16_t)in[j] ^ 0x8000u);
  return k << 15;
}
/* Row i's sum and shift (tail: the bytes after the weights, the shift last). */
static inline int32_t ultro_row16_sum(const uint8_t *P, uint8_t nin, uint8_t nout, uint8_t tail, uint8_t i, const int16_t *in, uint32_t k, int8_t *shift) {
  const uint8_t *p;
  uint32_t v;
  uint8_t m, chunks, last;
  if (nin <= 8) {
    p = P + (uint16_t)i * (2u * nin + 4u + tail);
    *shift = (int8_t)ULTRO_RD_U8(p + 3 + 2 * nin + tail);
    v = ultro_row16_part(p + 4, in, nin, ultro_u32le(p) - k);
  } else {
    chunks = (uint8_t)((nin + 7u) / 8u);
    last = (uint8_t)(nin - 8u * (chunks - 1u));
    p = P + (uint16_t)i * 20u;
    v = ultro_row16_part(p + 4, in, 8, ultro_u32le(p) - k);
    P += (uint16_t)nout * 20u;
    for (m = 1; m + 1 < chunks; m++, P += (uint16_t)nout * 16u) v = ultro_row16_part(P + (uint16_t)i * 16u, in + 8u * m, 8, v);
    p = P + (uint16_t)i * (2u * last + tail);
    *shift = (int8_t)ULTRO_RD_U8(p + 2 * last + tail - 1);
    v = ultro_row16_part(p, in + 8u * (chunks - 1u), last, v);
  }
  return v <= (uint32_t)INT32_MAX ? (int32_t)v : -(int32_t)(~v) - 1;
}
#if defined(ULTRO_TANH_SHIFT) && ULTRO_ACT_BITS == 16
static inline void ultro_rows16_tanh_c(const uint8_t *P, uint8_t nin, uint8_t nout, const int16_t *in, int16_t *out, const int16_t *T) {
  uint8_t i;
  int8_t s;
  uint32_t k = ultro_k16(in, nin);
  for (i = 0; i < nout; i++) {
    int32_t v = ultro_row16_sum(P, nin, nout, 2, i, in, k, &s);
    out[i] = ultro_tanh16(T, v < 0, ultro_mag32(v, s));
  }
}
#define ultro_rows16_tanh(P_, nin_, nout_, in_, out_, T_, regs_) ultro_rows16_tanh_c((P_), (nin_), (nout_), (in_), (out_), (T_))
#define ultro_rows16c_tanh(P_, nin_, nout_, in_, out_, T_, part_) ((void)(part_), ultro_rows16_tanh_c((P_), (nin_), (nout_), (in_), (out_), (T_)))
#endif
static inline void ultro_rows16_clamp_c(const uint8_t *P, uint8_t nin, uint8_t nout, const int16_t *in, int16_t *out, int16_t lo, int16_t hi) {
  uint8_t i;
  int8_t s;
  uint32_t k = ultro_k16(in, nin);
  for (i = 0; i < nout; i++) {
    int32_t v = ultro_row16_sum(P, nin, nout, 1, i, in, k, &s);
    out[i] = (int16_t)ultro_clamp32(ultro_shift32(v, s), lo, hi);
  }
}
#define ultro_rows16_clamp(P_, nin_, nout_, in_, out_, lo_, hi_, regs_) ultro_rows16_clamp_c((P_), (nin_), (nout_), (in_), (out_), (lo_), (hi_))
#define ultro_rows16c_clamp(P_, nin_, nout_, in_, out_, lo_, hi_, part_) ((void)(part_), ultro_rows16_clamp_c((P_), (nin_), (nout_), (in_), (out_), (lo_), (hi_)))
static inline void ultro_rows16_out_c(const uint8_t *P, uint8_t nin, uint8_t nout, const int16_t *in, int16_t *out) {
  uint8_t i;
  int8_t s;
  uint32_t k = ultro_k16(in, nin);
  for (i = 0; i < nout; i++) {
    int32_t v = ultro_row16_sum(P, nin, nout, 1, i, in, k, &s);
    out[i] = (int16_t)ultro_clamp32(ultro_shift32(v, s), -32768, 32767);
  }
}
#define ultro_rows16_out(P_, nin_, nout_, in_, out_, regs_) ultro_rows16_out_c((P_), (nin_), (nout_), (in_), (out_))
#define ultro_rows16c_out(P_, nin_, nout_, in_, out_, part_) ((void)(part_), ultro_rows16_out_c((P_), (nin_), (nout_), (in_), (out_)))
#endif

#endif /* ULTRO_KERNELS_H */
