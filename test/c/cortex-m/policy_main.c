/*
 * The generated policy on a Cortex-M4 (QEMU mps2-an386): evaluates the float
 * path on the states in cortex_m_inputs.h and prints, per state, the same line
 * as test/c/policy_harness.c (xq | uq | u bits), then DONE.
 */
#include "policy_line.h"
#include "cortex_m_inputs.h"

int main(void) {
  int k;
  for (k = 0; k < CM_N; k++) {
    float u[ULTRO_POLICY_NU];
    print_policy_line(CM_X[k], u);
    printf("\n");
  }
  printf("DONE\n");
  return 0;
}
