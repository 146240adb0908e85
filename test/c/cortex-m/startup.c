/*
 * Minimal start-up for the Cortex-M4 test image (QEMU's mps2-an386 board):
 * the vector table, and a reset handler that enables the FPU (the policy is
 * built for the hard-float ABI) before newlib's semihosting crt0 (_start)
 * clears .bss, copies nothing (the image runs from RAM-like memory) and calls
 * main. Output and exit go through semihosting.
 */
#include <stdint.h>

extern void _start(void);
extern uint32_t __stack;

void Reset_Handler(void);
void Fault_Handler(void);

void Reset_Handler(void) {
  /* CPACR: full access to CP10 and CP11 (the FPU). */
  *(volatile uint32_t *)0xE000ED88u |= 0xFu << 20;
  __asm volatile("dsb\n\tisb");
  _start();
  for (;;) {
  }
}

void Fault_Handler(void) {
  for (;;) {
  }
}

/* The vector table: the initial stack pointer, then the handlers. */
struct vector_table {
  const void *stack;
  void (*handlers[15])(void);
};

__attribute__((section(".vectors"), used)) static const struct vector_table vectors = {
    &__stack,
    {Reset_Handler, Fault_Handler, Fault_Handler, Fault_Handler, Fault_Handler, Fault_Handler, 0, 0, 0, 0, Fault_Handler, Fault_Handler, 0, Fault_Handler, Fault_Handler},
};
