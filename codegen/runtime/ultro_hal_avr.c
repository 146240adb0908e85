/*
 * ultro_hal_avr.c: ATmega328P. USART0 with an interrupt-driven receive ring
 * buffer (the UART has a one-byte buffer, so a polling loop would lose
 * back-to-back bytes), blocking transmit, and Timer1 at prescaler 1 with an
 * overflow interrupt extending it to 32 bits: one count per CPU cycle.
 */
#if defined(__AVR__)
#include <avr/interrupt.h>
#include <avr/io.h>
#include <avr/sleep.h>
#include "ultro_hal.h"

#define RX_SIZE 64 /* power of two */
static volatile uint8_t rx_buf[RX_SIZE];
static volatile uint8_t rx_head, rx_tail;
static volatile uint16_t t1_overflows;

ISR(USART_RX_vect) {
  uint8_t c = UDR0;
  uint8_t next = (uint8_t)((rx_head + 1) & (RX_SIZE - 1));
  if (next != rx_tail) {
    rx_buf[rx_head] = c;
    rx_head = next;
  } /* else: buffer full, byte dropped; the frame's CRC will catch it */
}

ISR(TIMER1_OVF_vect) {
  t1_overflows++;
}

void ultro_hal_init(uint32_t baud) {
  /* double speed mode: UBRR = F_CPU / (8 baud) - 1, rounded */
  uint16_t ubrr = (uint16_t)((F_CPU + 4UL * baud) / (8UL * baud) - 1UL);
  UBRR0H = (uint8_t)(ubrr >> 8);
  UBRR0L = (uint8_t)ubrr;
  UCSR0A = _BV(U2X0);
  UCSR0C = _BV(UCSZ01) | _BV(UCSZ00); /* 8N1 */
  UCSR0B = _BV(RXEN0) | _BV(TXEN0) | _BV(RXCIE0);
  TCCR1A = 0;
  TCNT1 = 0;
  TIFR1 = _BV(TOV1);
  TIMSK1 = _BV(TOIE1);
  TCCR1B = _BV(CS10); /* normal mode, prescaler 1 */
  set_sleep_mode(SLEEP_MODE_IDLE); /* the UART and Timer1 interrupts wake the CPU */
  sei();
}

void ultro_hal_idle(void) {
  cli();
  if (rx_head == rx_tail) {
    sleep_enable();
    sei(); /* the instruction after SEI runs before any interrupt: no lost wake-up */
    sleep_cpu();
    sleep_disable();
  }
  sei();
}

int16_t ultro_hal_read(void) {
  uint8_t c;
  if (rx_head == rx_tail) return -1;
  c = rx_buf[rx_tail];
  rx_tail = (uint8_t)((rx_tail + 1) & (RX_SIZE - 1));
  return c;
}

void ultro_hal_write(const uint8_t *p, uint16_t n) {
  uint16_t i;
  for (i = 0; i < n; i++) {
    while (!(UCSR0A & _BV(UDRE0))) {
    }
    UDR0 = p[i];
  }
}

void ultro_hal_timer_start(void) {
  uint8_t sreg = SREG;
  cli();
  TCNT1 = 0;
  t1_overflows = 0;
  TIFR1 = _BV(TOV1); /* drop a pending overflow */
  SREG = sreg;
}

uint32_t ultro_hal_timer_read(void) {
  uint8_t sreg = SREG;
  uint16_t lo, hi;
  cli();
  lo = TCNT1;
  hi = t1_overflows;
  /* an overflow that happened but is not yet serviced */
  if ((TIFR1 & _BV(TOV1)) && lo < 0x8000) hi++;
  SREG = sreg;
  return ((uint32_t)hi << 16) | lo;
}

uint32_t ultro_hal_cpu_hz(void) {
  return F_CPU;
}
#endif
