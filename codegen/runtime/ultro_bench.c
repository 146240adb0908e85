/*
 * ultro_bench.c: cycle counts of the generated policy on the target, for
 * `npm run bench` and the tests. Runs the integer core and the whole float
 * policy on a fixed set of states, times each with the firmware's own method
 * (ultro_hal_timer_start/read, minus the calibrated read overhead) and prints
 * "core <cycles>" / "full <cycles>" lines on the UART, then "DONE".
 */
#include <stdio.h>
#include "ultro_hal.h"
#include "ultro_policy.h"
#include "ultro_bench_inputs.h"

static void print(const char *s) {
  uint16_t n = 0;
  while (s[n]) n++;
  ultro_hal_write((const uint8_t *)s, n);
}

int main(void) {
  uint32_t calib, t0, t1;
  uint16_t k;
  uint8_t i;
  char line[48];
  ultro_hal_init(115200);
  calib = ultro_hal_timer_overhead();
  for (k = 0; k < ULTRO_BENCH_N; k++) {
    float x[ULTRO_POLICY_NX], u[ULTRO_POLICY_NU];
    ultro_act_t xq[ULTRO_POLICY_NX];
    int16_t uq[ULTRO_POLICY_NU];
    for (i = 0; i < ULTRO_POLICY_NX; i++) x[i] = ULTRO_RD_F32(&ULTRO_BENCH_X[k][i]);
    ultro_policy_quantize(x, xq);
    ultro_hal_timer_start();
    t0 = ultro_hal_timer_read();
    ultro_policy_q(xq, uq);
    t1 = ultro_hal_timer_read();
    snprintf(line, sizeof line, "core %lu %d\n", (unsigned long)(t1 - t0 - calib), (int)uq[0]);
    print(line);
    ultro_hal_timer_start();
    t0 = ultro_hal_timer_read();
    ultro_policy(x, u);
    t1 = ultro_hal_timer_read();
    snprintf(line, sizeof line, "full %lu\n", (unsigned long)(t1 - t0 - calib));
    print(line);
  }
  print("DONE\n");
  for (;;) {
  }
}
