/*
 * ultro_mpc_data.c: precomputed matrices of a generated on-board MPC
 * (box-normalised coordinates; see ultro_mpc.c).
 *
 * @@STAMP@@
 */
#include "ultro_mpc_data.h"

/*@@TABLES@@*/
