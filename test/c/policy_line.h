/*
 * The float path of a generated policy for one state, printed as one line:
 * xq... | uq... | the float32 bits of u (hex) | clamped, and with a safety filter
 * | the bits of the filtered u | moved. Shared by the host harness
 * (policy_harness.c) and the Cortex-M image (cortex-m/policy_main.c); the
 * tests build the same line from the TS reference (test/helpers/policy-lines.ts).
 * Leaves the controls in u.
 */
#ifndef ULTRO_POLICY_LINE_H
#define ULTRO_POLICY_LINE_H
#include <stdio.h>
#include <string.h>
#include "ultro_policy.h"

static void print_bits(const float *u) {
  int i;
  for (i = 0; i < ULTRO_POLICY_NU; i++) {
    uint32_t b;
    memcpy(&b, &u[i], 4);
    printf(" %08lx", (unsigned long)b);
  }
}

static void print_policy_line(const float *x, float *u) {
  ultro_act_t xq[ULTRO_POLICY_NX];
  int16_t uq[ULTRO_POLICY_NU];
  int i;
  uint8_t clamped = ultro_policy_quantize(x, xq);
  ultro_policy_q(xq, uq);
  ultro_policy_dequantize(uq, u);
  for (i = 0; i < ULTRO_POLICY_NX; i++) printf("%d ", (int)xq[i]);
  printf("|");
  for (i = 0; i < ULTRO_POLICY_NU; i++) printf(" %d", (int)uq[i]);
  printf(" |");
  print_bits(u);
  printf(" | %d", (int)clamped);
#if ULTRO_POLICY_FILTER
  {
    uint8_t moved = ultro_safety_filter(x, u);
    printf(" |");
    print_bits(u);
    printf(" | %d", (int)moved);
  }
#endif
}
#endif
