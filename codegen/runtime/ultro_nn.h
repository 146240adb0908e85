/*
 * ultro_nn.h: the fixed-point forward pass shared by every generated policy.
 *
 * Numbers are integers q meaning q * 2^-f. A layer computes, per output row i,
 *   acc = B[i] + sum_j W[i][j] * a[j]      (accumulator: int16, int32 or int64,
 *                                          the narrowest proven to hold every
 *                                          partial sum by the generator)
 *   z   = round_shift(acc, shift[i])       (s > 0: (v + 2^(s-1)) >> s, round half up;
 *                                          s < 0: v * 2^-s; s = 0: v). The generator
 *                                          stores B[i] + 2^(s-1), so the C shifts only.
 *   out = act(z), saturated to [out_min, out_max]
 * with act = tanh (table + linear interpolation), ReLU, hard tanh, or identity.
 * These rules are mirrored bit for bit by codegen/reference.ts.
 *
 * ULTRO_ACT_BITS (8 or 16) comes from the generated ultro_config.h.
 */
#ifndef ULTRO_NN_H
#define ULTRO_NN_H

#include <stdint.h>
#include "ultro_config.h"
#include "ultro_rom.h"

#if !defined(ULTRO_ACT_BITS)
#error "define ULTRO_ACT_BITS (8 or 16); the generated ultro_config.h does"
#elif ULTRO_ACT_BITS == 8
typedef int8_t ultro_act_t;
typedef int8_t ultro_w_t;
#define ULTRO_RD_ACT(p) ULTRO_RD_I8(p)
#elif ULTRO_ACT_BITS == 16
typedef int16_t ultro_act_t;
typedef int16_t ultro_w_t;
#define ULTRO_RD_ACT(p) ULTRO_RD_I16(p)
#else
#error "ULTRO_ACT_BITS must be 8 or 16"
#endif

enum { ULTRO_ACT_LINEAR = 0, ULTRO_ACT_TANH = 1, ULTRO_ACT_RELU = 2, ULTRO_ACT_HARDTANH = 3 };
enum { ULTRO_ACC16 = 0, ULTRO_ACC32 = 1, ULTRO_ACC64 = 2 };

/* One layer; the pointers point to ROM tables. */
typedef struct {
  uint8_t nin;
  uint8_t nout;
  uint8_t act;   /* ULTRO_ACT_* */
  uint8_t acc;   /* ULTRO_ACC*: accumulator width proven safe */
  const ultro_w_t *W; /* nout x nin, row-major */
  const void *B;      /* bias per row: int16_t, int32_t or int64_t by acc */
  const int8_t *shift;
  int16_t out_min;
  int16_t out_max;
} ultro_layer_t;

/* tanh table: T[0..segs], z in Q(fz); index shift = fz + 2 - log2(segs). */
typedef struct {
  const ultro_act_t *T;
  uint16_t segs;
  uint8_t shift;
  int32_t zmax; /* 4 * 2^fz: |z| is clamped to this before the lookup */
} ultro_tanh_t;

ultro_act_t ultro_tanh_q(const ultro_tanh_t *t, int32_t z);

#if defined(ULTRO_TANH_SHIFT)
/* The policy's tanh table (defined in ultro_policy.c), for the constant-parameter path. */
extern const ultro_act_t ULTRO_TANH_TABLE[ULTRO_TANH_SEGS + 1] ULTRO_ROM;
#endif

/*
 * Run nlayers layers on x. The last layer writes int16 outputs to y; hidden
 * layers ping-pong between buf_a and buf_b (each at least as wide as the
 * widest hidden layer).
 */
void ultro_nn_forward(const ultro_layer_t *layers, uint8_t nlayers, const ultro_tanh_t *tanh, const ultro_act_t *x, int16_t *y,
                      ultro_act_t *buf_a, ultro_act_t *buf_b);

#endif /* ULTRO_NN_H */
