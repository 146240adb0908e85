/*
 * ultro_mpc_data.h: sizes and settings of a generated on-board MPC.
 *
 * @@STAMP@@
 */
#ifndef ULTRO_MPC_DATA_H
#define ULTRO_MPC_DATA_H

#include <stdint.h>
#include "ultro_rom.h"

/*@@DEFINES@@*/

extern const float ULTRO_MPC_A[ULTRO_MPC_NX][ULTRO_MPC_NX] ULTRO_ROM;
extern const float ULTRO_MPC_B[ULTRO_MPC_NX][ULTRO_MPC_NU] ULTRO_ROM;
extern const float ULTRO_MPC_K[ULTRO_MPC_N][ULTRO_MPC_NU][ULTRO_MPC_NX] ULTRO_ROM;
extern const float ULTRO_MPC_C[ULTRO_MPC_N][ULTRO_MPC_NU][ULTRO_MPC_NU] ULTRO_ROM;
extern const float ULTRO_MPC_AMBKT[ULTRO_MPC_N][ULTRO_MPC_NX][ULTRO_MPC_NX] ULTRO_ROM;
extern const float ULTRO_MPC_UMIN[ULTRO_MPC_NU] ULTRO_ROM;
extern const float ULTRO_MPC_UMAX[ULTRO_MPC_NU] ULTRO_ROM;
extern const float ULTRO_MPC_XMIN[ULTRO_MPC_NX] ULTRO_ROM;
extern const float ULTRO_MPC_XMAX[ULTRO_MPC_NX] ULTRO_ROM;
extern const float ULTRO_MPC_SX_INV[ULTRO_MPC_NX] ULTRO_ROM;
extern const float ULTRO_MPC_SU[ULTRO_MPC_NU] ULTRO_ROM;

#endif /* ULTRO_MPC_DATA_H */
