/*
 * ultro_hal_host.c: the firmware on a POSIX host, for tests and desk checks.
 * Bytes come from stdin and go to stdout (binary); cycles are nanoseconds of
 * CLOCK_MONOTONIC, so "cpu_hz" is 1e9.
 */
#if !defined(__AVR__)
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <time.h>
#include <unistd.h>
#include "ultro_hal.h"

void ultro_hal_init(uint32_t baud) {
  (void)baud;
}

int16_t ultro_hal_read(void) {
  unsigned char c;
  ssize_t r = read(0, &c, 1);
  if (r == 1) return c;
  if (r == 0) _exit(0); /* host closed the link */
  return -1;
}

void ultro_hal_write(const uint8_t *p, uint16_t n) {
  uint16_t done = 0;
  while (done < n) {
    ssize_t w = write(1, p + done, (size_t)(n - done));
    if (w <= 0) _exit(1);
    done = (uint16_t)(done + w);
  }
}

static uint64_t t_start;

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

void ultro_hal_timer_start(void) {
  t_start = now_ns();
}

uint32_t ultro_hal_timer_read(void) {
  return (uint32_t)(now_ns() - t_start);
}

uint32_t ultro_hal_cpu_hz(void) {
  return 1000000000UL;
}

void ultro_hal_idle(void) {
  /* read() blocks: nothing to do */
}
#endif
