/*
 * ultro_hal.h: what the firmware needs from a board. One implementation per
 * platform: ultro_hal_avr.c (USART0 + Timer1), ultro_hal_host.c (stdin/stdout,
 * for tests), ultro_hal_arduino.cpp (ESP32 and other Arduino cores).
 */
#ifndef ULTRO_HAL_H
#define ULTRO_HAL_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

void ultro_hal_init(uint32_t baud);
/* Next received byte, or -1 when none is waiting. */
int16_t ultro_hal_read(void);
void ultro_hal_write(const uint8_t *p, uint16_t n);
/* Restart the cycle counter at zero. Every measurement starts with this, so
 * that interrupts inside the window (Timer1 overflows on AVR) fall at the same
 * offsets every time: a count depends only on the code measured. */
void ultro_hal_timer_start(void);
/* CPU cycles since ultro_hal_timer_start(). */
uint32_t ultro_hal_timer_read(void);
/* Cycles one ultro_hal_timer_read() itself costs (the least of 8 back-to-back
 * reads), subtracted from every measurement by the firmware and the benches. */
static inline uint32_t ultro_hal_timer_overhead(void) {
  uint32_t best = 0xFFFFFFFFUL, a, d;
  uint8_t k;
  for (k = 0; k < 8; k++) {
    ultro_hal_timer_start();
    a = ultro_hal_timer_read();
    d = ultro_hal_timer_read() - a;
    if (d < best) best = d;
  }
  return best;
}
/* CPU clock in Hz, as reported in HELLO. */
uint32_t ultro_hal_cpu_hz(void);
/* Nothing to read: wait for an interrupt (AVR: SLEEP in idle mode). May return at once. */
void ultro_hal_idle(void);

#ifdef __cplusplus
}
#endif

#endif /* ULTRO_HAL_H */
