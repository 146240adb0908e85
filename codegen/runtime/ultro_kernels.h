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
 * (ultro_rows8_*, ultro_rows16_*): one assembly loop per layer on the AVR,
 * the same arithmetic in C elsewhere. The dot products serve the other
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
 * tanh of a Q24 pre-activation, int16 table: clamped to |z| <= 4 * 2^24,
 * segment index |z| >> ULTRO_TANH_SHIFT, an 8-bit interpolation fraction
 * (the 8 bits below the index), so the product is 16 x 8 bits.
 */
static inline int16_t ultro_tanh16(const int16_t *T, int32_t z) {
  int32_t zc = ultro_clamp32(z, -ULTRO_TANH_ZMAX, ULTRO_TANH_ZMAX);
  uint32_t a = (uint32_t)(zc < 0 ? -zc : zc);
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
  return (int16_t)(zc < 0 ? -y : y);
}
#endif

/*
 * Packed int8 layers. When every row's final sum fits 24 bits, the generator
 * stores a layer as rows of
 *   [c0 c1 c2 | u0 ... u(nin-1) | s]
 * with u_j = w_j + 128 (the weights in offset binary, 0..255) and
 * c = b + 16384 * nin - 128 * sum_j u_j (mod 2^24, little endian), b the bias
 * with its rounding term, s the row's shift. With a'_j = a_j + 128,
 *   b + sum_j w_j a_j = c + sum_j u_j a'_j - 128 * sum_j a'_j,
 * so on the AVR the products are unsigned (MUL) and add into 24 bits with no
 * sign extension: LPM 3 + LD 2 + MUL 2 + ADD/ADC/ADC 3 = 10 cycles per MAC.
 * The last term is one subtraction per row, from a sum over the inputs
 * taken once per layer while the inputs are moved to offset binary in place
 * (the input vector is scratch), or, when the producing layer is a row
 * kernel too, stored so by its tail, which also sums them. One pointer streams through the layer with
 * LPM; one assembly loop computes a row from bias to stored output (stored
 * through X, which is free by then: no Y, which a function with a stack frame
 * keeps as its frame pointer). Sums are
 * taken modulo 2^24: the final value is proven to fit, so it is exact.
 */
static inline int32_t ultro_sext24(uint32_t u) {
  return (int32_t)((u + 0x800000UL) & 0xFFFFFFUL) - (int32_t)0x800000L;
}

/* Move the input vector to offset binary in place; return 128 * sum of the moved inputs. */
static inline uint32_t ultro_offset_inputs(int8_t *in, uint8_t n) {
  uint16_t s = 0;
  uint8_t j;
  for (j = 0; j < n; j++) {
    uint8_t v = (uint8_t)((uint8_t)in[j] ^ 0x80u);
    in[j] = (int8_t)v;
    s += v;
  }
  return (uint32_t)s << 7;
}

#if defined(__AVR__)
/* 128 * the sum of the layer's inputs in offset binary: from the producing layer's tail when it stored
 * them so (moved, s = their sum), else by moving them in place now. */
#define ultro_in8_k(in_, nin_, moved_, s_) ((moved_) ? (uint32_t)(s_) << 7 : ultro_offset_inputs((in_), (nin_)))
#else
/* The portable kernels read the inputs as they are. */
static inline uint32_t ultro_in8_k(int8_t *in, uint8_t nin, uint8_t moved, uint16_t s) {
  (void)in;
  (void)nin;
  (void)moved;
  (void)s;
  return 0;
}
#endif

#if defined(__AVR__)
/* The end of a row kernel's row: the next row (label 13), or out past label 17. rjmp, since a row is
 * longer than BRNE reaches. */
#define ULTRO_ROW_NEXT "dec %[r]\n\tbreq 17f\n\trjmp 13b\n17:\n\t"
/* The row head: bias, the MACs (G per loop pass, NG passes; no loop when NG is 1), the shift; acc in r20:r19:r18. r23 = 0. */
#define ULTRO_ROW8_HEAD                                                                                        \
  "lpm r18, Z+\n\tlpm r19, Z+\n\tlpm r20, Z+\n\t"                                                              \
  "sub r18, %A[k]\n\tsbc r19, %B[k]\n\tsbc r20, %C[k]\n\t"                                                     \
  "movw r26, %[in]\n\t.if %[ng] > 1\n\tldi r22, %[ng]\n\t.endif\n"                                                                       \
  "5:\n\t.rept %[g]\n\t" ULTRO_ROW8_MAC ".endr\n\t.if %[ng] > 1\n\tdec r22\n\tbreq 16f\n\trjmp 5b\n16:\n\t.endif\n\t"                    \
  "clr r1\n\tlpm r21, Z+\n\t"                                                                                  \
  /* shift: right by s > 0; left by -s, saturating the top byte on signed overflow */                         \
  "tst r21\n\tbreq 8f\n\tbrmi 7f\n"                                                                            \
  "6:\n\tasr r20\n\tror r19\n\tror r18\n\tdec r21\n\tbrne 6b\n\trjmp 8f\n"                                    \
  "7:\n\tneg r21\n"                                                                                            \
  "9:\n\tlsl r18\n\trol r19\n\trol r20\n\tbrvs 10f\n\tdec r21\n\tbrne 9b\n\trjmp 8f\n"                        \
  "10:\n\tldi r20, 0x7f\n\tbrcc 8f\n\tldi r20, 0x80\n"                                                         \
  "8:\n\t"
#define ULTRO_ROW8_MAC "lpm r24, Z+\n\tld r25, X+\n\tmul r24, r25\n\tadd r18, r0\n\tadc r19, r1\n\tadc r20, r23\n\t"

/* Groups per pass: the largest divisor of n that is at most 16. */
#define ULTRO_G(n) ((n) % 16 == 0 ? 16 : (n) % 15 == 0 ? 15 : (n) % 14 == 0 ? 14 : (n) % 13 == 0 ? 13 : (n) % 12 == 0 ? 12 : \
  (n) % 11 == 0 ? 11 : (n) % 10 == 0 ? 10 : (n) % 9 == 0 ? 9 : (n) % 8 == 0 ? 8 : (n) % 7 == 0 ? 7 : (n) % 6 == 0 ? 6 : \
  (n) % 5 == 0 ? 5 : (n) % 4 == 0 ? 4 : (n) % 3 == 0 ? 3 : (n) % 2 == 0 ? 2 : 1)

/*
 * A hidden tanh layer: |z| (sign in SREG's T flag) clamped to 4 * 2^12 as an
 * unsigned 24-bit number, then the table: the segment is the high byte of
 * |z|, the fraction its low byte, and y = t0 + (((t1 - t0) * f + 128) >> 8),
 * negated for z < 0. (At |z| = 4 the fraction is 0, so the byte read after
 * the table's last entry is multiplied by 0.)
 */
#define ultro_rows8_tanh(P_, nin_, nout_, in_, out_, T_, k_in_, offs_, s_out_)                                                     \
  do {                                                                                                       \
    const uint8_t *p_ = (P_);                                                                                \
    int8_t *o_ = (out_);                                                                                     \
    uint8_t r_ = (nout_);                                                                                    \
    uint32_t k_ = (k_in_);                                                                                   \
    uint16_t *sp_ = (s_out_);                                                                                \
    uint16_t s_ = *sp_;                                                        \
    __asm__ volatile("clr r23\n"                                                                             \
                     "13:\n\t" ULTRO_ROW8_HEAD                                                               \
                     "bst r20, 7\n\tbrtc 14f\n\tcom r20\n\tcom r19\n\tneg r18\n\tsbci r19, 0xff\n\tsbci r20, 0xff\n" \
                     "14:\n\tcpi r18, 0x01\n\tldi r24, 0x40\n\tcpc r19, r24\n\tcpc r20, r23\n\tbrlo 15f\n\t"  \
                     "ldi r18, 0x00\n\tldi r19, 0x40\n"                                                      \
                     "15:\n\tmovw r24, r30\n\tmovw r30, %[tab]\n\tadd r30, r19\n\tadc r31, r23\n\t"         \
                     "lpm r20, Z+\n\tlpm r22, Z\n\tmovw r30, r24\n\t"                                        \
                     "sub r22, r20\n\tmul r22, r18\n\tlsl r0\n\tadc r1, r23\n\tadd r20, r1\n\tclr r1\n\t"   \
                     "brtc 18f\n\tneg r20\n"                                                                 \
                     "18:\n\t.if %[offs]\n\tsubi r20, 0x80\n\tadd %A[s], r20\n\tadc %B[s], r23\n\t.endif\n\t"                \
                     "movw r26, %[o]\n\tst X+, r20\n\tmovw %[o], r26\n\t"                                                             \
                     ULTRO_ROW_NEXT                                                                               \
                     : "+z"(p_), [o] "+r"(o_), [r] "+r"(r_), [s] "+r"(s_)                                                  \
                     : [in] "r"(in_), [tab] "r"(T_), [k] "r"(k_), [ng] "n"((nin_) / ULTRO_G(nin_)),          \
                       [g] "n"(ULTRO_G(nin_)), [offs] "n"(offs_)                                              \
                     : "r18", "r19", "r20", "r21", "r22", "r23", "r24", "r25", "r26", "r27", "memory");    \
    *sp_ = s_;                                                                                               \
  } while (0)

/* The output layer: z saturated to int16 and stored little endian. */
#define ultro_rows8_out(P_, nin_, nout_, in_, out_, k_in_)                                                          \
  do {                                                                                                       \
    const uint8_t *p_ = (P_);                                                                                \
    int16_t *o_ = (out_);                                                                                    \
    uint8_t r_ = (nout_);                                                                                    \
    uint32_t k_ = (k_in_);                                                        \
    __asm__ volatile("clr r23\n"                                                                             \
                     "13:\n\t" ULTRO_ROW8_HEAD                                                               \
                     "cpi r18, 0x00\n\tldi r24, 0x80\n\tcpc r19, r24\n\tcpc r20, r23\n\tbrlt 11f\n\t"        \
                     "ldi r18, 0xff\n\tldi r19, 0x7f\n\trjmp 12f\n"                                          \
                     "11:\n\tcpi r18, 0x00\n\tldi r24, 0x80\n\tcpc r19, r24\n\tldi r24, 0xff\n\t"            \
                     "cpc r20, r24\n\tbrge 12f\n\tldi r18, 0x00\n\tldi r19, 0x80\n"                          \
                     "12:\n\tmovw r26, %[o]\n\tst X+, r18\n\tst X+, r19\n\tmovw %[o], r26\n\t"                                           \
                     ULTRO_ROW_NEXT                                                                               \
                     : "+z"(p_), [o] "+r"(o_), [r] "+r"(r_)                                                  \
                     : [in] "r"(in_), [k] "r"(k_), [ng] "n"((nin_) / ULTRO_G(nin_)), [g] "n"(ULTRO_G(nin_))   \
                     : "r18", "r19", "r20", "r21", "r22", "r23", "r24", "r25", "r26", "r27", "memory");    \
  } while (0)

/*
 * Register-input row kernels, for packed int8 layers of at most 16 inputs
 * (same rows, same arithmetic): the inputs are loaded once per layer into
 * r2..r(1+nin), moved to offset binary there and summed into
 * k = 128 * sum a'_j (r22:r21:r25), so a MAC is LPM 3 + MUL 2 + ADD/ADC/ADC 3
 * = 8 cycles with no LD. The weight and the shift count go through r0; the
 * output pointer is Y, saved and restored around the loop (a function may
 * keep its frame pointer there), X keeps Z while the tanh table is read, and
 * the table, the layer's rows and the row count are link-time constants. The
 * registers r2..r(1+nin) are named in the clobber list (regs_: ULTRO_REGS_<nin>),
 * so the compiler saves what it needs of them once, in the prologue.
 */
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
#define ULTRO_IRP_INPUTS ".irp j,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17\n\t.if \\j < 2 + %[nin]\n\t"
/* Inputs into registers (offset binary), k; Y = out, Z = the first row, r24 = rows, r23 = 0. */
#define ULTRO_ROW8R_LOAD                                                                                   \
  "push r28\n\tpush r29\n\tmovw r28, r30\n\tclr r23\n\tclr r21\n\tclr r22\n\tldi r24, 0x80\n\t"             \
  ULTRO_IRP_INPUTS "ld r\\j, X+\n\teor r\\j, r24\n\tadd r21, r\\j\n\tadc r22, r23\n\t.endif\n\t.endr\n\t"        \
  "lsr r22\n\tror r21\n\tclr r25\n\tror r25\n\t"                                                             \
  "ldi r30, lo8(%[p])\n\tldi r31, hi8(%[p])\n\tldi r24, %[nout]\n"
/* A row up to its shifted sum in r20:r19:r18 (the shift as in ULTRO_ROW8_HEAD, its count in r0). */
#define ULTRO_ROW8R_HEAD                                                                                   \
  "13:\n\tlpm r18, Z+\n\tlpm r19, Z+\n\tlpm r20, Z+\n\tsub r18, r25\n\tsbc r19, r21\n\tsbc r20, r22\n\t"      \
  ULTRO_IRP_INPUTS "lpm r0, Z+\n\tmul r0, r\\j\n\tadd r18, r0\n\tadc r19, r1\n\tadc r20, r23\n\t.endif\n\t.endr\n\t" \
  "lpm r0, Z+\n\ttst r0\n\tbreq 8f\n\tbrmi 7f\n"                                                              \
  "6:\n\tasr r20\n\tror r19\n\tror r18\n\tdec r0\n\tbrne 6b\n\trjmp 8f\n"                                  \
  "7:\n\tneg r0\n"                                                                                          \
  "9:\n\tlsl r18\n\trol r19\n\trol r20\n\tbrvs 10f\n\tdec r0\n\tbrne 9b\n\trjmp 8f\n"                      \
  "10:\n\tldi r20, 0x7f\n\tbrcc 8f\n\tldi r20, 0x80\n"                                                       \
  "8:\n\t"
#define ULTRO_ROW8R_END "dec r24\n\tbreq 17f\n\trjmp 13b\n17:\n\tclr r1\n\tpop r29\n\tpop r28\n\t"

/* |z| (r19:r18, sign in T) looked up as in ultro_rows8_tanh; stored as plain int8, then the next row. */
#define ULTRO_ROW8R_TABLE                                                                                  \
  "15:\n\tmovw r26, r30\n\tldi r30, lo8(%[tab])\n\tldi r31, hi8(%[tab])\n\tadd r30, r19\n\tadc r31, r23\n\t"        \
  "lpm r20, Z+\n\tlpm r0, Z\n\tmovw r30, r26\n\t"                                                               \
  "sub r0, r20\n\tmul r0, r18\n\tlsl r0\n\tadc r1, r23\n\tadd r20, r1\n\t"                                      \
  "brtc 18f\n\tneg r20\n"                                                                                   \
  "18:\n\tst Y+, r20\n\t" ULTRO_ROW8R_END
/* One register-input layer: in through X, out through Z (then Y); the rows, table and counts are constants. */
#define ULTRO_ROW8R_ASM(code_, P_, T_, nin_, nout_, ...)                                                 \
  __asm__ volatile(code_                                                                                   \
                   : "+x"(i_), "+z"(o_)                                                                    \
                   : [p] "i"(P_), [tab] "i"(T_), [nin] "n"(nin_), [nout] "n"(nout_)                         \
                   : "r0", __VA_ARGS__, "r18", "r19", "r20", "r21", "r22", "r23", "r24", "r25", "memory")
/* (the registers last: the clobber list arrives expanded, commas and all) */
#define ULTRO_ROW8R_LAYER(code_, P_, nin_, nout_, in_, out_, outType_, T_, ...)                          \
  do {                                                                                                     \
    const int8_t *i_ = (in_);                                                                              \
    outType_ *o_ = (out_);                                                                                 \
    ULTRO_ROW8R_ASM(code_, P_, T_, nin_, nout_, __VA_ARGS__);                                                    \
  } while (0)

/* Hidden tanh layer: |z| (sign in T) clamped to 4 * 2^12, then the table; plain int8 out. */
#define ultro_rows8r_tanh(P_, nin_, nout_, in_, out_, T_, regs_)                                                  \
  ULTRO_ROW8R_LAYER(ULTRO_ROW8R_LOAD ULTRO_ROW8R_HEAD                                                       \
                    "bst r20, 7\n\tbrtc 14f\n\tcom r20\n\tcom r19\n\tneg r18\n\tsbci r19, 0xff\n\tsbci r20, 0xff\n"  \
                    "14:\n\ttst r20\n\tbrne 19f\n\tcpi r19, 0x40\n\tbrlo 15f\n"                                  \
                    "19:\n\tldi r18, 0x00\n\tldi r19, 0x40\n" ULTRO_ROW8R_TABLE,                                  \
                    P_, nin_, nout_, in_, out_, int8_t, T_, regs_)

/* Output layer: z saturated to int16 (it fits when r20 is r19's sign extension), stored little endian. */
#define ultro_rows8r_out(P_, nin_, nout_, in_, out_, regs_)                                                       \
  ULTRO_ROW8R_LAYER(ULTRO_ROW8R_LOAD ULTRO_ROW8R_HEAD                                                       \
                    "mov r0, r19\n\tlsl r0\n\tsbc r0, r0\n\tcp r0, r20\n\tbreq 12f\n\t"                          \
                    "ldi r18, 0xff\n\tldi r19, 0x7f\n\tsbrs r20, 7\n\trjmp 12f\n\tldi r18, 0x00\n\tldi r19, 0x80\n"    \
                    "12:\n\tst Y+, r18\n\tst Y+, r19\n\t" ULTRO_ROW8R_END,                                        \
                    P_, nin_, nout_, in_, out_, int16_t, 0, regs_)

/*
 * The same for layers whose every final sum fits 16 bits (the 16-bit accumulator of the overflow
 * proof): the rows are the same bytes, the third byte of c is skipped, and the sum is taken modulo
 * 2^16 (exact, as the final value is in range): MAC = LPM 3 + MUL 2 + ADD/ADC 2 = 7 cycles. A left
 * shift that overflows saturates both bytes (0x7fff / 0x8000).
 */
#define ULTRO_ROW8R16_HEAD                                                                                 \
  "13:\n\tlpm r18, Z+\n\tlpm r19, Z+\n\tadiw r30, 1\n\tsub r18, r25\n\tsbc r19, r21\n\t"                        \
  ULTRO_IRP_INPUTS "lpm r0, Z+\n\tmul r0, r\\j\n\tadd r18, r0\n\tadc r19, r1\n\t.endif\n\t.endr\n\t"           \
  "lpm r0, Z+\n\ttst r0\n\tbreq 8f\n\tbrmi 7f\n"                                                              \
  "6:\n\tasr r19\n\tror r18\n\tdec r0\n\tbrne 6b\n\trjmp 8f\n"                                               \
  "7:\n\tneg r0\n"                                                                                          \
  "9:\n\tlsl r18\n\trol r19\n\tbrvs 10f\n\tdec r0\n\tbrne 9b\n\trjmp 8f\n"                                   \
  "10:\n\tldi r18, 0xff\n\tldi r19, 0x7f\n\tbrcc 8f\n\tldi r18, 0x00\n\tldi r19, 0x80\n"                         \
  "8:\n\t"

#define ultro_rows8r16_tanh(P_, nin_, nout_, in_, out_, T_, regs_)                                                \
  ULTRO_ROW8R_LAYER(ULTRO_ROW8R_LOAD ULTRO_ROW8R16_HEAD                                                     \
                    "bst r19, 7\n\tbrtc 14f\n\tcom r19\n\tneg r18\n\tsbci r19, 0xff\n"                             \
                    "14:\n\tcpi r19, 0x40\n\tbrlo 15f\n\tldi r18, 0x00\n\tldi r19, 0x40\n" ULTRO_ROW8R_TABLE,       \
                    P_, nin_, nout_, in_, out_, int8_t, T_, regs_)

#define ultro_rows8r16_out(P_, nin_, nout_, in_, out_, regs_)                                                     \
  ULTRO_ROW8R_LAYER(ULTRO_ROW8R_LOAD ULTRO_ROW8R16_HEAD "st Y+, r18\n\tst Y+, r19\n\t" ULTRO_ROW8R_END,           \
                    P_, nin_, nout_, in_, out_, int16_t, 0, regs_)
#else
/* The row's sum as the AVR computes it (modulo 2^24), from the unmoved inputs. */
static inline int32_t ultro_row8_sum(const uint8_t *P, const int8_t *in, uint8_t nin) {
  int32_t v = ultro_sext24((uint32_t)ULTRO_RD_U8(P) | ((uint32_t)ULTRO_RD_U8(P + 1) << 8) | ((uint32_t)ULTRO_RD_U8(P + 2) << 16));
  uint8_t j;
  for (j = 0; j < nin; j++) {
    int32_t a = (int32_t)in[j] + 128;
    v += (int32_t)ULTRO_RD_U8(P + 3 + j) * a - 128 * a; /* |v| < 2^25: no overflow */
  }
  return ultro_sext24((uint32_t)v);
}
#if defined(ULTRO_TANH_SHIFT) && ULTRO_ACT_BITS == 8
static inline void ultro_rows8_tanh(const uint8_t *P, uint8_t nin, uint8_t nout, const int8_t *in, int8_t *out, const int8_t *T, uint32_t k, uint8_t offs, uint16_t *s) {
  uint8_t i;
  (void)k; /* the portable kernel reads and writes activations as they are */
  (void)offs;
  (void)s;
  for (i = 0; i < nout; i++, P += nin + 4) out[i] = ultro_tanh8(T, ultro_zclamp24(ultro_row8_sum(P, in, nin), (int8_t)ULTRO_RD_U8(P + 3 + nin), ULTRO_TANH_ZMAX));
}
#endif
static inline void ultro_rows8_out(const uint8_t *P, uint8_t nin, uint8_t nout, const int8_t *in, int16_t *out, uint32_t k) {
  uint8_t i;
  (void)k;
  for (i = 0; i < nout; i++, P += nin + 4) out[i] = (int16_t)ultro_clamp32(ultro_shift32(ultro_row8_sum(P, in, nin), (int8_t)ULTRO_RD_U8(P + 3 + nin)), -32768, 32767);
}
/* The register-input kernels compute the same as the row kernels. */
#if defined(ULTRO_TANH_SHIFT) && ULTRO_ACT_BITS == 8
#define ultro_rows8r_tanh(P_, nin_, nout_, in_, out_, T_, regs_) \
  do {                                                            \
    uint16_t s_ = 0;                                              \
    ultro_rows8_tanh((P_), (nin_), (nout_), (in_), (out_), (T_), 0, 0, &s_); \
  } while (0)
#endif
#define ultro_rows8r_out(P_, nin_, nout_, in_, out_, regs_) ultro_rows8_out((P_), (nin_), (nout_), (in_), (out_), 0)
#define ultro_rows8r16_tanh ultro_rows8r_tanh
#define ultro_rows8r16_out ultro_rows8r_out
#endif

/*
 * Packed int16 layers (32-bit final sums): rows of
 *   [b0 b1 b2 b3 | w0 ... w(nin-1) (little endian) | s]
 * computed on the AVR by one assembly loop per layer: the AVR201 16x16
 * multiply-accumulate (32 cycles per MAC), the shift (saturating on
 * overflow), the clamp and the int16 tanh table with its 8-bit fraction.
 */
static inline int32_t ultro_bias32(const uint8_t *p) {
  uint32_t u = (uint32_t)ULTRO_RD_U8(p) | ((uint32_t)ULTRO_RD_U8(p + 1) << 8) | ((uint32_t)ULTRO_RD_U8(p + 2) << 16) | ((uint32_t)ULTRO_RD_U8(p + 3) << 24);
  return u <= (uint32_t)INT32_MAX ? (int32_t)u : -(int32_t)(~u) - 1;
}

#if defined(__AVR__)
#define ULTRO_ROW16_MAC                                                                                       \
  "lpm r20, Z+\n\tlpm r21, Z+\n\tld r22, X+\n\tld r23, X+\n\t"                                                \
  "muls r21, r23\n\tadd r18, r0\n\tadc r19, r1\n\t"                                                           \
  "mul r20, r22\n\tadd r16, r0\n\tadc r17, r1\n\tadc r18, r24\n\tadc r19, r24\n\t"                            \
  "mulsu r21, r22\n\tsbc r19, r24\n\tadd r17, r0\n\tadc r18, r1\n\tadc r19, r24\n\t"                          \
  "mulsu r23, r20\n\tsbc r19, r24\n\tadd r17, r0\n\tadc r18, r1\n\tadc r19, r24\n\t"
/* Bias, MACs (G per pass), shift; acc in r19:r18:r17:r16. r24 = 0. */
#define ULTRO_ROW32_BODY(MAC)                                                                                   \
  "lpm r16, Z+\n\tlpm r17, Z+\n\tlpm r18, Z+\n\tlpm r19, Z+\n\t"                                               \
  "movw r26, %[in]\n\t.if %[ng] > 1\n\tldi r25, %[ng]\n\t.endif\n"                                             \
  "5:\n\t.rept %[g]\n\t" MAC ".endr\n\t.if %[ng] > 1\n\tdec r25\n\tbreq 16f\n\trjmp 5b\n16:\n\t.endif\n\t"    \
  "clr r1\n\tlpm r25, Z+\n\t"                                                                                  \
  "tst r25\n\tbreq 8f\n\tbrmi 7f\n"                                                                            \
  "6:\n\tasr r19\n\tror r18\n\tror r17\n\tror r16\n\tdec r25\n\tbrne 6b\n\trjmp 8f\n"                         \
  "7:\n\tneg r25\n"                                                                                            \
  "9:\n\tlsl r16\n\trol r17\n\trol r18\n\trol r19\n\tbrvs 10f\n\tdec r25\n\tbrne 9b\n\trjmp 8f\n"             \
  "10:\n\tldi r19, 0x7f\n\tbrcc 8f\n\tldi r19, 0x80\n"                                                         \
  "8:\n\t"
/* acc (r19..r16) clamped to [lo, hi]. */
#define ULTRO_CLAMP32                                                                                                  \
  "cpi r16, lo8(%[hi1])\n\tldi r25, hi8(%[hi1])\n\tcpc r17, r25\n\tldi r25, hlo8(%[hi1])\n\tcpc r18, r25\n\t"         \
  "ldi r25, hhi8(%[hi1])\n\tcpc r19, r25\n\tbrlt 11f\n\t"                                                              \
  "ldi r16, lo8(%[hi])\n\tldi r17, hi8(%[hi])\n\tldi r18, hlo8(%[hi])\n\tldi r19, hhi8(%[hi])\n\trjmp 12f\n"         \
  "11:\n\tcpi r16, lo8(%[lo])\n\tldi r25, hi8(%[lo])\n\tcpc r17, r25\n\tldi r25, hlo8(%[lo])\n\tcpc r18, r25\n\t"     \
  "ldi r25, hhi8(%[lo])\n\tcpc r19, r25\n\tbrge 12f\n\t"                                                               \
  "ldi r16, lo8(%[lo])\n\tldi r17, hi8(%[lo])\n\tldi r18, hlo8(%[lo])\n\tldi r19, hhi8(%[lo])\n"                     \
  "12:\n\t"
#define ULTRO_ROW16_HEAD ULTRO_ROW32_BODY(ULTRO_ROW16_MAC) ULTRO_CLAMP32
#define ULTRO_G16(n) ((n) % 4 == 0 ? 4 : (n) % 3 == 0 ? 3 : (n) % 2 == 0 ? 2 : 1)

/*
 * Hidden tanh layer, int16: |z| (sign in SREG's T flag) clamped to 4 * 2^24; segment
 * i = |z| >> 18 (9 bits), fraction f = (|z| >> 10) & 255, and
 * y = t0 + (((t1 - t0) * f + 128) >> 8) computed as dh*f + ((dl*f + 128) >> 8)
 * (t1 >= t0: the table is non-decreasing). The sign waits in SREG's T flag.
 */
#define ultro_rows16_tanh(P_, nin_, nout_, in_, out_, T_)                                                                     \
  do {                                                                                                                        \
    const uint8_t *p_ = (P_);                                                                                                 \
    int16_t *o_ = (out_);                                                                                                     \
    uint8_t r_ = (nout_);                                                                                                     \
    __asm__ volatile("clr r24\n"                                                                                              \
                     "13:\n\t" ULTRO_ROW32_BODY(ULTRO_ROW16_MAC)                                                           \
                     "bst r19, 7\n\tbrtc 14f\n\tcom r19\n\tcom r18\n\tcom r17\n\tneg r16\n\t"                                 \
                     "sbci r17, 0xff\n\tsbci r18, 0xff\n\tsbci r19, 0xff\n"                                                   \
                     /* |z| clamped to 4 * 2^24 as an unsigned number (-2^31 stays above it) */                              \
                     "14:\n\tcpi r16, 0x01\n\tcpc r17, r24\n\tcpc r18, r24\n\tldi r25, 0x04\n\tcpc r19, r25\n\tbrlo 19f\n\t" \
                     "ldi r16, 0x00\n\tldi r17, 0x00\n\tldi r18, 0x00\n\tldi r19, 0x04\n"                                         \
                     "19:\n\tmovw r20, r18\n\tlsr r21\n\tror r20\n\tlsr r21\n\tror r20\n\t"                                   \
                     "mov r25, r17\n\tmov r23, r18\n\tlsr r23\n\tror r25\n\tlsr r23\n\tror r25\n\t"                           \
                     "movw r26, r30\n\tmovw r30, %[tab]\n\tlsl r20\n\trol r21\n\tadd r30, r20\n\tadc r31, r21\n\t"            \
                     "lpm r20, Z+\n\tlpm r21, Z+\n\tlpm r22, Z+\n\tlpm r23, Z\n\tmovw r30, r26\n\t"                           \
                     "sub r22, r20\n\tsbc r23, r21\n\t"                                                                       \
                     "mul r22, r25\n\tlsl r0\n\tadc r1, r24\n\tmov r22, r1\n\t"                                               \
                     "mul r23, r25\n\tadd r0, r22\n\tadc r1, r24\n\t"                                                         \
                     "add r20, r0\n\tadc r21, r1\n\tclr r1\n\t"                                                               \
                     "brtc 15f\n\tcom r21\n\tneg r20\n\tsbci r21, 0xff\n"                                                     \
                     "15:\n\tmovw r26, %[o]\n\tst X+, r20\n\tst X+, r21\n\tmovw %[o], r26\n\t"                                                            \
                     ULTRO_ROW_NEXT                                                                                                \
                     : "+z"(p_), [o] "+r"(o_), [r] "+r"(r_)                                                                   \
                     : [in] "r"(in_), [tab] "r"(T_), [ng] "n"((nin_) / ULTRO_G16(nin_)), [g] "n"(ULTRO_G16(nin_))             \
                     : "r16", "r17", "r18", "r19", "r20", "r21", "r22", "r23", "r24", "r25", "r26", "r27", "memory");       \
  } while (0)

#define ultro_rows16_out(P_, nin_, nout_, in_, out_)                                                                          \
  do {                                                                                                                        \
    const uint8_t *p_ = (P_);                                                                                                 \
    int16_t *o_ = (out_);                                                                                                     \
    uint8_t r_ = (nout_);                                                                                                     \
    __asm__ volatile("clr r24\n"                                                                                              \
                     "13:\n\t" ULTRO_ROW16_HEAD "movw r26, %[o]\n\tst X+, r16\n\tst X+, r17\n\tmovw %[o], r26\n\t"                                        \
                     ULTRO_ROW_NEXT                                                                                                \
                     : "+z"(p_), [o] "+r"(o_), [r] "+r"(r_)                                                                   \
                     : [in] "r"(in_), [ng] "n"((nin_) / ULTRO_G16(nin_)), [g] "n"(ULTRO_G16(nin_)), [hi1] "n"(32768L),        \
                       [hi] "n"(32767L), [lo] "n"(-32768L)                                                                    \
                     : "r16", "r17", "r18", "r19", "r20", "r21", "r22", "r23", "r24", "r25", "r26", "r27", "memory");       \
  } while (0)
#else
static inline int32_t ultro_dot16_packed(const uint8_t *w, const int16_t *a, uint8_t n, int32_t acc) {
  uint8_t j;
  for (j = 0; j < n; j++) {
    uint16_t u = (uint16_t)(ULTRO_RD_U8(w + 2 * j) | ((uint16_t)ULTRO_RD_U8(w + 2 * j + 1) << 8));
    int16_t wj = u <= 32767u ? (int16_t)u : (int16_t)(-(int16_t)(~u) - 1);
    acc += (int32_t)wj * a[j]; /* every partial sum is proven to fit int32 */
  }
  return acc;
}
#if defined(ULTRO_TANH_SHIFT) && ULTRO_ACT_BITS == 16
static inline void ultro_rows16_tanh(const uint8_t *P, uint8_t nin, uint8_t nout, const int16_t *in, int16_t *out, const int16_t *T) {
  uint8_t i;
  for (i = 0; i < nout; i++, P += 2 * nin + 5) {
    int32_t acc = ultro_dot16_packed(P + 4, in, nin, ultro_bias32(P));
    out[i] = ultro_tanh16(T, ultro_shift32(acc, (int8_t)ULTRO_RD_U8(P + 4 + 2 * nin)));
  }
}
#endif
static inline void ultro_rows16_out(const uint8_t *P, uint8_t nin, uint8_t nout, const int16_t *in, int16_t *out) {
  uint8_t i;
  for (i = 0; i < nout; i++, P += 2 * nin + 5) {
    int32_t acc = ultro_dot16_packed(P + 4, in, nin, ultro_bias32(P));
    out[i] = (int16_t)ultro_clamp32(ultro_shift32(acc, (int8_t)ULTRO_RD_U8(P + 4 + 2 * nin)), -32768, 32767);
  }
}
#endif

#endif /* ULTRO_KERNELS_H */
