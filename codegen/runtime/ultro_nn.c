/*
 * ultro_nn.c: fixed-point layers (see ultro_nn.h for the arithmetic).
 * Portable C99; on AVR the int8 x int8 -> int16 multiply-accumulate is
 * written so that avr-gcc emits MULS (not a library call).
 */
#include "ultro_nn.h"

/* The rounding shifts rely on arithmetic right shift of negative values
 * (implementation-defined in C99; gcc, clang and avr-gcc all do it). */
typedef char ultro_requires_arithmetic_shift[((-1) >> 1) == -1 ? 1 : -1];

/*
 * The stored biases already contain the rounding term 2^(s-1) of their row's
 * shift (the generator adds it, and the overflow proof counts it), so the
 * round-half-up shift (acc + 2^(s-1)) >> s is a plain arithmetic shift here.
 */
/*
 * A negative shift multiplies, and saturates at +-INT32_MAX: a pre-activation
 * that large is past the saturation of every activation and of the output
 * clamp, so the layer's result is exact, and large weights keep their bits
 * (the generator keeps -s <= 30).
 */
static inline int32_t shift32(int32_t v, int8_t s) {
  if (s > 0) return v >> s;
  if (s < 0) {
    int32_t lim = INT32_MAX >> -s;
    if (v > lim) return INT32_MAX;
    if (v < -lim) return -INT32_MAX;
    return v * ((int32_t)1 << -s);
  }
  return v;
}

static int64_t shift64(int64_t v, int8_t s) {
  if (s > 0) return v >> s;
  if (s < 0) {
    int64_t lim = INT64_MAX >> -s;
    if (v > lim) return INT64_MAX;
    if (v < -lim) return -INT64_MAX;
    return v * ((int64_t)1 << -s);
  }
  return v;
}

static inline int32_t clamp32(int32_t v, int32_t lo, int32_t hi) {
  return v < lo ? lo : v > hi ? hi : v;
}

ultro_act_t ultro_tanh_q(const ultro_tanh_t *t, int32_t z) {
#if ULTRO_ACT_BITS == 8 && defined(ULTRO_TANH_SHIFT)
  /* int8 tables: z in Q12 clamped to |z| <= 4 fits 16 bits, and the table
   * parameters are compile-time constants (ultro_config.h), so the index and
   * fraction are byte moves rather than shift loops. */
  int16_t zc = z > ULTRO_TANH_ZMAX ? ULTRO_TANH_ZMAX : z < -ULTRO_TANH_ZMAX ? -ULTRO_TANH_ZMAX : (int16_t)z;
  uint16_t a = (uint16_t)(zc < 0 ? -zc : zc);
  uint16_t i = (uint16_t)(a >> ULTRO_TANH_SHIFT);
  int16_t y;
  (void)t;
  if (i >= ULTRO_TANH_SEGS) {
    y = ULTRO_RD_I8(&ULTRO_TANH_TABLE[ULTRO_TANH_SEGS]);
  } else {
    int16_t f = (int16_t)(a & ((1u << ULTRO_TANH_SHIFT) - 1u));
    int16_t t0 = ULTRO_RD_I8(&ULTRO_TANH_TABLE[i]);
    int16_t t1 = ULTRO_RD_I8(&ULTRO_TANH_TABLE[i + 1]);
    y = (int16_t)(t0 + (int16_t)(((t1 - t0) * f + (1 << (ULTRO_TANH_SHIFT - 1))) >> ULTRO_TANH_SHIFT));
  }
  return (ultro_act_t)(zc < 0 ? -y : y);
#elif ULTRO_ACT_BITS == 16 && defined(ULTRO_TANH_SHIFT)
  /* int16 tables: z in Q24 (|z| <= 4 is 27 bits); constant shifts, an 8-bit
   * interpolation fraction (the top 8 bits below the segment index), so the
   * product is 16 x 8 bits. */
  int32_t zc = clamp32(z, -ULTRO_TANH_ZMAX, ULTRO_TANH_ZMAX);
  uint32_t a = (uint32_t)(zc < 0 ? -zc : zc);
  uint16_t i = (uint16_t)(a >> ULTRO_TANH_SHIFT);
  int16_t y;
  (void)t;
  if (i >= ULTRO_TANH_SEGS) {
    y = ULTRO_RD_I16(&ULTRO_TANH_TABLE[ULTRO_TANH_SEGS]);
  } else {
    uint8_t f = (uint8_t)(a >> (ULTRO_TANH_SHIFT - 8));
    int16_t t0 = ULTRO_RD_I16(&ULTRO_TANH_TABLE[i]);
    int16_t t1 = ULTRO_RD_I16(&ULTRO_TANH_TABLE[i + 1]);
    y = (int16_t)(t0 + (int16_t)(((int32_t)(t1 - t0) * f + 128) >> 8));
  }
  return (ultro_act_t)(zc < 0 ? -y : y);
#else
  /* Table parameters at run time (the same arithmetic as the paths above). */
  int32_t a;
  uint16_t i;
  int32_t y;
  z = clamp32(z, -t->zmax, t->zmax);
  a = z < 0 ? -z : z;
  i = (uint16_t)(a >> t->shift);
  if (i >= t->segs) {
    y = ULTRO_RD_I16(&t->T[t->segs]);
  } else {
    int32_t f = (a >> (t->shift - 8)) & 255;
    int32_t t0 = ULTRO_RD_I16(&t->T[i]);
    int32_t t1 = ULTRO_RD_I16(&t->T[i + 1]);
    y = t0 + (((t1 - t0) * f + 128) >> 8);
  }
  return (ultro_act_t)(z < 0 ? -y : y);
#endif
}

/* One weight (flash) times one activation (RAM), exact: int8·int8 fits 16 bits,
 * int16·int16 fits 32. The portable dot products below accumulate it. */
static inline int32_t weight_times_act(const ultro_w_t *w, const ultro_act_t *a, uint8_t j) {
#if ULTRO_ACT_BITS == 8
  return (int16_t)((int16_t)ULTRO_RD_I8(&w[j]) * (int16_t)a[j]);
#else
  return (int32_t)ULTRO_RD_I16(&w[j]) * a[j];
#endif
}

#if defined(__AVR__) && ULTRO_ACT_BITS == 8
/*
 * AVR kernels for int8 weights (flash, via Z with LPM) times int8
 * activations (RAM, via X), unrolled by four. MULS leaves the signed 16-bit
 * product in r1:r0; r1 is avr-gcc's zero register and is cleared afterwards.
 *   acc16: lpm 3 + ld 2 + muls 2 + add/adc 2 = 9 cycles per MAC, plus 3 per four.
 *   acc32: the same plus 5 cycles to sign-extend the product into the top bytes.
 * They compute exactly what the portable C below computes (two's-complement
 * sums whose partial values the generator proved fit the accumulator).
 */
#define ULTRO_MAC16 "lpm r24, Z+\n\tld r25, X+\n\tmuls r24, r25\n\tadd %A[acc], r0\n\tadc %B[acc], r1\n\t"
#define ULTRO_MAC32                                                                                                   \
  "lpm r24, Z+\n\tld r25, X+\n\tmuls r24, r25\n\tmov r23, r1\n\tlsl r23\n\tsbc r23, r23\n\tadd %A[acc], r0\n\tadc %B[acc], r1\n\t" \
  "adc %C[acc], r23\n\tadc %D[acc], r23\n\t"

static int16_t dot16(const ultro_w_t *w, const ultro_act_t *a, uint8_t n, int16_t acc) {
  uint8_t quads = n >> 2, rest = n & 3;
  __asm__ volatile(
      "tst %[q]\n\t"
      "breq 2f\n"
      "1:\n\t" ULTRO_MAC16 ULTRO_MAC16 ULTRO_MAC16 ULTRO_MAC16
      "dec %[q]\n\t"
      "brne 1b\n"
      "2:\n\t"
      "tst %[r]\n\t"
      "breq 4f\n"
      "3:\n\t" ULTRO_MAC16
      "dec %[r]\n\t"
      "brne 3b\n"
      "4:\n\t"
      "clr r1\n\t"
      : [acc] "+r"(acc), [q] "+r"(quads), [r] "+r"(rest), "+z"(w), "+x"(a)
      :
      : "r24", "r25", "memory");
  return acc;
}

static int32_t dot32(const ultro_w_t *w, const ultro_act_t *a, uint8_t n, int32_t acc) {
  uint8_t quads = n >> 2, rest = n & 3;
  __asm__ volatile(
      "tst %[q]\n\t"
      "breq 2f\n"
      "1:\n\t" ULTRO_MAC32 ULTRO_MAC32 ULTRO_MAC32 ULTRO_MAC32
      "dec %[q]\n\t"
      "brne 1b\n"
      "2:\n\t"
      "tst %[r]\n\t"
      "breq 4f\n"
      "3:\n\t" ULTRO_MAC32
      "dec %[r]\n\t"
      "brne 3b\n"
      "4:\n\t"
      "clr r1\n\t"
      : [acc] "+r"(acc), [q] "+r"(quads), [r] "+r"(rest), "+z"(w), "+x"(a)
      :
      : "r23", "r24", "r25", "memory");
  return acc;
}
#else
/* acc16: every partial sum is proven to fit int16 (the rounding term, carried by the bias, included). */
static int16_t dot16(const ultro_w_t *w, const ultro_act_t *a, uint8_t n, int16_t acc) {
  uint8_t j;
  for (j = 0; j < n; j++) acc = (int16_t)(acc + (int16_t)weight_times_act(w, a, j));
  return acc;
}

#if defined(__AVR__) && ULTRO_ACT_BITS == 16
/*
 * AVR kernel for int16 weights (flash) times int16 activations (RAM) into a
 * 32-bit accumulator: the signed 16×16 multiply–accumulate of Atmel's AVR201
 * application note. With a = ah·256 + al and b = bh·256 + bl (high bytes
 * signed, low bytes unsigned), a·b = ah·bh·2¹⁶ + (ah·bl + bh·al)·2⁸ + al·bl;
 * MULSU leaves the sign of its product in C, and SBC sign-extends it into the
 * top byte. MULSU only takes r16–r23, hence the fixed registers.
 *   lpm 2×3 + ld 2×2 + 4 multiplies × 2 + 14 add/adc/sbc = 32 cycles per MAC.
 * Exactly the portable C's two's-complement sum (proven not to overflow).
 */
#define ULTRO_MAC16X16                                                                                              \
  "lpm r18, Z+\n\tlpm r19, Z+\n\tld r20, X+\n\tld r21, X+\n\t"                                                  \
  "muls r19, r21\n\tadd %C[acc], r0\n\tadc %D[acc], r1\n\t"                                                     \
  "mul r18, r20\n\tadd %A[acc], r0\n\tadc %B[acc], r1\n\tadc %C[acc], %[zero]\n\tadc %D[acc], %[zero]\n\t"          \
  "mulsu r19, r20\n\tsbc %D[acc], %[zero]\n\tadd %B[acc], r0\n\tadc %C[acc], r1\n\tadc %D[acc], %[zero]\n\t"        \
  "mulsu r21, r18\n\tsbc %D[acc], %[zero]\n\tadd %B[acc], r0\n\tadc %C[acc], r1\n\tadc %D[acc], %[zero]\n\t"

static int32_t dot32(const ultro_w_t *w, const ultro_act_t *a, uint8_t n, int32_t acc) {
  uint8_t pairs = n >> 1, rest = n & 1;
  uint8_t zero = 0;
  __asm__ volatile(
      "tst %[p]\n\t"
      "breq 2f\n"
      "1:\n\t" ULTRO_MAC16X16 ULTRO_MAC16X16
      "dec %[p]\n\t"
      "brne 1b\n"
      "2:\n\t"
      "tst %[r]\n\t"
      "breq 3f\n\t" ULTRO_MAC16X16
      "3:\n\t"
      "clr r1\n\t"
      : [acc] "+r"(acc), [p] "+r"(pairs), "+z"(w), "+x"(a)
      : [r] "r"(rest), [zero] "r"(zero)
      : "r18", "r19", "r20", "r21", "memory");
  return acc;
}
#else
static int32_t dot32(const ultro_w_t *w, const ultro_act_t *a, uint8_t n, int32_t acc) {
  uint8_t j;
  for (j = 0; j < n; j++) acc += weight_times_act(w, a, j);
  return acc;
}

#endif

#endif

static int64_t dot64(const ultro_w_t *w, const ultro_act_t *a, uint8_t n, int64_t acc) {
  uint8_t j;
  for (j = 0; j < n; j++) acc += weight_times_act(w, a, j);
  return acc;
}

static int32_t activate(const ultro_layer_t *L, const ultro_tanh_t *tanh, int32_t z) {
  switch (L->act) {
    case ULTRO_ACT_TANH:
      return ultro_tanh_q(tanh, z);
    case ULTRO_ACT_RELU:
      return clamp32(z, 0, L->out_max);
    default: /* linear, hard tanh */
      return clamp32(z, L->out_min, L->out_max);
  }
}

#if defined(ULTRO_TANH_SHIFT)
/* Arithmetic right shift by a small per-row amount, as constant shifts (no shift loop). */
static inline int32_t asr_small(int32_t v, int8_t s) {
  switch (s) {
    case 0: return v;
    case 1: return v >> 1;
    case 2: return v >> 2;
    case 3: return v >> 3;
    case 4: return v >> 4;
    case 5: return v >> 5;
    case 6: return v >> 6;
    case 7: return v >> 7;
    case 8: return v >> 8;
    case 9: return v >> 9;
    case 10: return v >> 10;
    case 11: return v >> 11;
    case 12: return v >> 12;
    case 13: return v >> 13;
    case 14: return v >> 14;
    case 15: return v >> 15;
    case 16: return v >> 16;
    case 17: return v >> 17;
    case 18: return v >> 18;
    case 19: return v >> 19;
    case 20: return v >> 20;
    default: return shift32(v, s);
  }
}

#if ULTRO_ACT_BITS == 8
/* tanh of a Q12 pre-activation, int8 table, inlined (same arithmetic as ultro_tanh_q). */
static inline int8_t tanh8(int32_t z) {
  int16_t zc = z > ULTRO_TANH_ZMAX ? ULTRO_TANH_ZMAX : z < -ULTRO_TANH_ZMAX ? -ULTRO_TANH_ZMAX : (int16_t)z;
  uint16_t a = (uint16_t)(zc < 0 ? -zc : zc);
  uint8_t i = (uint8_t)(a >> ULTRO_TANH_SHIFT);
  int8_t y;
  if (i >= ULTRO_TANH_SEGS) {
    y = ULTRO_RD_I8(&ULTRO_TANH_TABLE[ULTRO_TANH_SEGS]);
  } else {
    uint8_t f = (uint8_t)a; /* ULTRO_TANH_SHIFT == 8: the low byte */
    int8_t t0 = ULTRO_RD_I8(&ULTRO_TANH_TABLE[i]);
    int8_t t1 = ULTRO_RD_I8(&ULTRO_TANH_TABLE[i + 1]);
    y = (int8_t)(t0 + (int8_t)(((uint16_t)(uint8_t)(t1 - t0) * f + 128u) >> 8));
  }
  return zc < 0 ? (int8_t)-y : y;
}

#define ULTRO_TANH_FAST(z) tanh8(z)
#else
#define ULTRO_TANH_FAST(z) ultro_tanh_q(0, z)
#endif

/* Hidden tanh layer: the hot path, with nothing generic left per neuron. */
static void layer_tanh_fast(const ultro_layer_t *L, const ultro_act_t *in, ultro_act_t *out) {
  const ultro_w_t *w = L->W;
  const int8_t *sh = L->shift;
  uint8_t nin = L->nin, nout = L->nout, i;
  if (L->acc == ULTRO_ACC16) {
    const int16_t *b = (const int16_t *)L->B;
    for (i = 0; i < nout; i++, w += nin) out[i] = ULTRO_TANH_FAST(asr_small(dot16(w, in, nin, ULTRO_RD_I16(&b[i])), ULTRO_RD_I8(&sh[i])));
  } else {
    const int32_t *b = (const int32_t *)L->B;
    for (i = 0; i < nout; i++, w += nin) out[i] = ULTRO_TANH_FAST(asr_small(dot32(w, in, nin, ULTRO_RD_I32(&b[i])), ULTRO_RD_I8(&sh[i])));
  }
}
#endif

static void layer_forward(const ultro_layer_t *L, const ultro_tanh_t *tanh, const ultro_act_t *in, ultro_act_t *out_act, int16_t *out_y) {
  uint8_t i;
  const ultro_w_t *w = L->W;
  const uint8_t nin = L->nin, nout = L->nout, accw = L->acc;
  const int8_t *shifts = L->shift;
  for (i = 0; i < nout; i++, w += nin) {
    int8_t s = ULTRO_RD_I8(&shifts[i]);
    int32_t z;
    if (accw == ULTRO_ACC16) {
      int16_t acc = dot16(w, in, nin, ULTRO_RD_I16(&((const int16_t *)L->B)[i]));
      if (s > 0) {
        z = (int16_t)(acc >> s); /* 16-bit shift (the rounding term is in the bias) */
      } else {
        z = shift32(acc, s);
      }
    } else if (accw == ULTRO_ACC32) {
      z = shift32(dot32(w, in, nin, ULTRO_RD_I32(&((const int32_t *)L->B)[i])), s);
    } else {
      int64_t v = shift64(dot64(w, in, nin, ULTRO_RD_I64(&((const int64_t *)L->B)[i])), s);
      z = (int32_t)(v < INT32_MIN ? INT32_MIN : v > INT32_MAX ? INT32_MAX : v);
    }
    if (out_y) {
      out_y[i] = (int16_t)clamp32(z, L->out_min, L->out_max);
    } else {
      out_act[i] = (ultro_act_t)activate(L, tanh, z);
    }
  }
}

void ultro_nn_forward(const ultro_layer_t *layers, uint8_t nlayers, const ultro_tanh_t *tanh, const ultro_act_t *x, int16_t *y,
                      ultro_act_t *buf_a, ultro_act_t *buf_b) {
  uint8_t l;
  const ultro_act_t *in = x;
  for (l = 0; l < nlayers; l++) {
    ultro_act_t *out = (l & 1) ? buf_b : buf_a;
    if (l + 1 == nlayers) {
      layer_forward(&layers[l], tanh, in, 0, y);
    } else {
#if defined(ULTRO_TANH_SHIFT)
      if (layers[l].act == ULTRO_ACT_TANH && layers[l].acc != ULTRO_ACC64) {
        layer_tanh_fast(&layers[l], in, out);
        in = out;
        continue;
      }
#endif
      layer_forward(&layers[l], tanh, in, out, 0);
      in = out;
    }
  }
}
