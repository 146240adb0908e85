/*
 * ultro_size_probe.c: the smallest program that keeps one generated
 * controller alive through --gc-sections (volatile state in, control out),
 * so that `ultro codegen` and the tests can measure its flash and RAM,
 * soft-float library included. Define ULTRO_SIZE_POLICY for the policy,
 * ULTRO_SIZE_FLOAT for its float C baseline, nothing for the on-board MPC.
 */
#include <stdint.h>
#if defined(ULTRO_SIZE_POLICY)
#include "ultro_policy.h"
#elif defined(ULTRO_SIZE_FLOAT)
#include "ultro_float_policy.h"
#else
#include "ultro_mpc.h"
#endif

volatile float state_in[8];
volatile float control_out[8];

int main(void) {
  float x[8], u[8];
  uint8_t i;
  for (;;) {
    for (i = 0; i < 8; i++) x[i] = state_in[i];
#if defined(ULTRO_SIZE_POLICY)
    ultro_policy(x, u);
#elif defined(ULTRO_SIZE_FLOAT)
    ultro_float_policy(x, u);
#else
    ultro_mpc_solve(x, u, 0);
#endif
    for (i = 0; i < 8; i++) control_out[i] = u[i];
  }
}
