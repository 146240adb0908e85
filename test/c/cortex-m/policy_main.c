/*
 * The generated policy on a Cortex-M4 (QEMU mps2-an386): evaluates the float
 * path on the states in cortex_m_inputs.h and prints, per state, the same line
 * as test/c/policy_harness.c (xq | uq | u bits), then DONE.
 */
#include <stdio.h>
#include <string.h>
#include "ultro_policy.h"
#include "cortex_m_inputs.h"

int main(void) {
  int k, i;
  for (k = 0; k < CM_N; k++) {
    float u[ULTRO_POLICY_NU];
    ultro_act_t xq[ULTRO_POLICY_NX];
    int16_t uq[ULTRO_POLICY_NU];
    ultro_policy_quantize(CM_X[k], xq);
    ultro_policy_q(xq, uq);
    ultro_policy_dequantize(uq, u);
    for (i = 0; i < ULTRO_POLICY_NX; i++) printf("%d ", (int)xq[i]);
    printf("|");
    for (i = 0; i < ULTRO_POLICY_NU; i++) printf(" %d", (int)uq[i]);
    printf(" |");
    for (i = 0; i < ULTRO_POLICY_NU; i++) {
      uint32_t b;
      memcpy(&b, &u[i], 4);
      printf(" %08lx", (unsigned long)b);
    }
    printf("\n");
  }
  printf("DONE\n");
  return 0;
}
