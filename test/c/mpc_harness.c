/*
 * Test harness for the generated on-board MPC: one command per line.
 *   R                 reset the warm start
 *   S <x0> <x1> ...   solve at x (C hex floats); prints: u bits... | iterations status
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "ultro_mpc.h"

int main(void) {
  char line[4096];
  while (fgets(line, sizeof line, stdin)) {
    if (line[0] == 'R') {
      ultro_mpc_reset();
      printf("ok\n");
    } else if (line[0] == 'S') {
      float x[ULTRO_MPC_NX], u[ULTRO_MPC_NU];
      ultro_mpc_info_t info;
      char *p = line + 1;
      int i;
      for (i = 0; i < ULTRO_MPC_NX; i++) x[i] = strtof(p, &p);
      ultro_mpc_solve(x, u, &info);
      for (i = 0; i < ULTRO_MPC_NU; i++) printf("%.9g ", (double)u[i]);
      printf("| %u %u\n", (unsigned)info.iterations, (unsigned)info.status);
    }
  }
  return 0;
}
