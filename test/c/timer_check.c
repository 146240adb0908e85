/*
 * AVR program for checking cycle measurement: times __builtin_avr_delay_cycles(N)
 * (exactly N cycles) with the firmware's HAL timer, calibrated like the
 * firmware, and prints "N measured" lines on the UART, then "DONE".
 */
#include <avr/io.h>
#include <stdio.h>
#include "ultro_hal.h"

static void print(const char *s) {
  const char *p = s;
  uint16_t n = 0;
  while (p[n]) n++;
  ultro_hal_write((const uint8_t *)s, n);
}

#define MEASURE(N)                                           \
  do {                                                       \
    uint32_t t0, t1;                                         \
    char line[40];                                           \
    ultro_hal_timer_start();                                 \
    t0 = ultro_hal_timer_read();                             \
    __builtin_avr_delay_cycles(N);                           \
    t1 = ultro_hal_timer_read();                             \
    snprintf(line, sizeof line, "%lu %lu\n", (unsigned long)(N), (unsigned long)(t1 - t0 - calib)); \
    print(line);                                             \
  } while (0)

int main(void) {
  uint32_t calib;
  ultro_hal_init(115200);
  calib = ultro_hal_timer_overhead();
  MEASURE(10);
  MEASURE(1000);
  MEASURE(60000);
  MEASURE(70000);
  MEASURE(300000);
  print("DONE\n");
  for (;;) {
  }
}
