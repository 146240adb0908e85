/*
 * ultro_hal_arduino.cpp: Arduino cores (ESP32 and others). Serial for the
 * link; the CPU cycle counter where the core exposes one (ESP32: CCOUNT via
 * ESP.getCycleCount()), micros() scaled to the CPU clock otherwise.
 */
#if defined(ARDUINO)
#include <Arduino.h>
#include "ultro_hal.h"

extern "C" {

void ultro_hal_init(uint32_t baud) {
  Serial.begin(baud);
}

int16_t ultro_hal_read(void) {
  return Serial.available() > 0 ? (int16_t)Serial.read() : (int16_t)-1;
}

void ultro_hal_write(const uint8_t *p, uint16_t n) {
  Serial.write(p, n);
}

static uint32_t cycles_now(void) {
#if defined(ESP32)
  return ESP.getCycleCount();
#else
  return micros() * (F_CPU / 1000000UL);
#endif
}

static uint32_t t_start;

void ultro_hal_timer_start(void) {
  t_start = cycles_now();
}

uint32_t ultro_hal_timer_read(void) {
  return cycles_now() - t_start;
}

void ultro_hal_idle(void) {
  yield();
}

uint32_t ultro_hal_cpu_hz(void) {
#if defined(ESP32)
  return (uint32_t)ESP.getCpuFreqMHz() * 1000000UL;
#else
  return F_CPU;
#endif
}
}
#endif
