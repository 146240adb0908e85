/*
 * ultro_mpc.h: on-board linear MPC by ADMM with Riccati primal steps
 * (see codegen/mpc-admm.ts for the algorithm and why it suits an AVR).
 * Float32; gains in ROM; one static workspace.
 */
#ifndef ULTRO_MPC_H
#define ULTRO_MPC_H

#include <stdint.h>
#include "ultro_mpc_data.h"

/*
 * SOLVED: converged to the tolerance. MAX_ITER: stopped at the iteration cap;
 * u0 is the last (finite) iterate. NONFINITE: the iterates overflowed or the
 * state was not finite; u0 must not be used, and the warm start has been
 * cleared so that the next solve starts clean.
 */
enum { ULTRO_MPC_SOLVED = 0, ULTRO_MPC_MAX_ITER = 1, ULTRO_MPC_NONFINITE = 2 };

typedef struct {
  uint16_t iterations;
  uint8_t status;   /* ULTRO_MPC_SOLVED, ULTRO_MPC_MAX_ITER or ULTRO_MPC_NONFINITE */
  float primal;     /* final primal residual (normalised units) */
  float dual;       /* final dual residual */
} ultro_mpc_info_t;

/* Forget the warm start (z, v, y, g back to zero). */
void ultro_mpc_reset(void);

/* Solve at state x0 (physical units); writes the first input u0 (inside its
 * bounds). Warm-starts from the previous solve, shifted one stage. A
 * non-finite x0 returns ULTRO_MPC_NONFINITE at once and leaves the warm start
 * untouched. */
uint8_t ultro_mpc_solve(const float *x0, float *u0, ultro_mpc_info_t *info);

#endif /* ULTRO_MPC_H */
