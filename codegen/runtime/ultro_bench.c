/*
 * ultro_bench.c: cycle counts of the generated policy on the target, for
 * `npm run bench` and the tests. Runs the integer core and the whole float
 * policy on a fixed set of states, times each with the firmware's own method
 * (ultro_hal_timer_start/read, minus the calibrated read overhead) and prints
 * "core <cycles>" / "full <cycles>" / "wrap <cycles>" (the float wrapper:
 * quantise and dequantise) and, with a safety filter, "filter <cycles>" lines
 * on the UART, then "DONE".
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

/* Cycles of one statement, timed as the firmware times a step. */
#define ULTRO_TIMED(cycles, stmt)      \
  do {                                 \
    uint32_t t0_, t1_;                 \
    ultro_hal_timer_start();           \
    t0_ = ultro_hal_timer_read();      \
    stmt;                              \
    t1_ = ultro_hal_timer_read();      \
    (cycles) = t1_ - t0_ - calib;      \
  } while (0)

int main(void) {
  uint32_t calib, cycles;
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
    ULTRO_TIMED(cycles, ultro_policy_q(xq, uq));
    snprintf(line, sizeof line, "core %lu %d\n", (unsigned long)cycles, (int)uq[0]);
    print(line);
    ULTRO_TIMED(cycles, ultro_policy(x, u));
    snprintf(line, sizeof line, "full %lu\n", (unsigned long)cycles);
    print(line);
    /* the float wrapper alone: quantise and dequantise, as ultro_policy calls them */
    ULTRO_TIMED(cycles, (ultro_policy_quantize(x, xq), ultro_policy_dequantize(uq, u)));
    snprintf(line, sizeof line, "wrap %lu\n", (unsigned long)cycles);
    print(line);
#if ULTRO_POLICY_FILTER
    /* the safety filter alone (already part of "full"), on the unfiltered control */
    ultro_policy_dequantize(uq, u);
    ULTRO_TIMED(cycles, ultro_safety_filter(x, u));
    snprintf(line, sizeof line, "filter %lu\n", (unsigned long)cycles);
    print(line);
#endif
  }
  print("DONE\n");
  for (;;) {
  }
}
