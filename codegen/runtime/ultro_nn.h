/*
 * ultro_nn.h: the fixed-point forward pass of a generated policy.
 *
 * Numbers are integers q meaning q * 2^-f. A layer computes, per output row i,
 *   acc = B[i] + sum_j W[i][j] * a[j]      (in the narrowest width the
 *                                          generator proved to hold it)
 *   z   = round_shift(acc, shift[i])       (s > 0: (v + 2^(s-1)) >> s, round half up;
 *                                          s < 0: v * 2^-s, saturated at +-INT32_MAX;
 *                                          s = 0: v). The generator stores
 *                                          B[i] + 2^(s-1), so the C shifts only.
 *   out = act(z), saturated to the layer's output range
 * with act = tanh (table + linear interpolation), ReLU, hard tanh, or identity.
 * An int16 tanh row instead feeds the table a = |acc| >> s (truncated; a left
 * shift for s < 0) with no rounding term, and gives the result acc's sign:
 * exactly odd, and its bytes are what the AVR reads (codegen/tanh.ts).
 * ultro_nn.c is generated for one network (its layers, widths and shifts);
 * the pieces it is built from are in ultro_kernels.h. These rules are
 * mirrored bit for bit by codegen/reference.ts.
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
#define ULTRO_RD_ACT(p) ULTRO_RD_I8(p)
#elif ULTRO_ACT_BITS == 16
typedef int16_t ultro_act_t;
#define ULTRO_RD_ACT(p) ULTRO_RD_I16(p)
#else
#error "ULTRO_ACT_BITS must be 8 or 16"
#endif

/* The network on quantised inputs x (inside their proven range; x is used as
 * scratch and left changed), int16 outputs y. */
void ultro_nn_forward(ultro_act_t *x, int16_t *y);

#endif /* ULTRO_NN_H */
