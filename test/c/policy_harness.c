/*
 * Test harness for a generated policy: reads commands on stdin, one per line,
 * and prints the results on stdout, so the TypeScript tests can compare the C
 * with the reference bit for bit.
 *   F <x0> <x1> ...   float path; x as C hex floats. Prints: xq... | uq... | u bits (hex)...
 *   Q <xq0> ...       integer path. Prints: uq...
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "policy_line.h"

int main(void) {
  char line[4096];
  while (fgets(line, sizeof line, stdin)) {
    char *p = line + 1;
    int i;
    if (line[0] == 'F') {
      float x[ULTRO_POLICY_NX], u[ULTRO_POLICY_NU];
      for (i = 0; i < ULTRO_POLICY_NX; i++) x[i] = strtof(p, &p);
      print_policy_line(x, u);
      /* the one-call wrapper must agree with the pieces */
      {
        float u2[ULTRO_POLICY_NU];
        ultro_policy(x, u2);
        if (memcmp(u, u2, sizeof u)) printf(" MISMATCH");
      }
      printf("\n");
    } else if (line[0] == 'Q') {
      ultro_act_t xq[ULTRO_POLICY_NX];
      int16_t uq[ULTRO_POLICY_NU];
      for (i = 0; i < ULTRO_POLICY_NX; i++) xq[i] = (ultro_act_t)strtol(p, &p, 10);
      ultro_policy_q(xq, uq);
      for (i = 0; i < ULTRO_POLICY_NU; i++) printf("%d ", (int)uq[i]);
      printf("\n");
    }
  }
  return 0;
}
