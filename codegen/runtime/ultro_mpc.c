/*
 * ultro_mpc.c: ADMM MPC (TinyMPC-style) with time-varying Riccati gains.
 * Each iteration: a backward pass for the affine terms, a forward rollout,
 * projections onto the input and state boxes, scaled dual updates.
 * No division, no square root, no allocation; the tables are in ROM.
 */
#include "ultro_mpc.h"
#include "ultro_rom.h"

#define NX ULTRO_MPC_NX
#define NU ULTRO_MPC_NU
#define N ULTRO_MPC_N

static float ws_x[N + 1][NX];
static float ws_u[N][NU];
static float ws_d[N][NU];
static float ws_z[N][NU];
static float ws_y[N][NU];
static float ws_v[N][NX]; /* slack for x_1 .. x_N */
static float ws_g[N][NX];

static float clampf(float v, float lo, float hi) {
  return v < lo ? lo : v > hi ? hi : v;
}

static float absf(float v) {
  return v < 0.0f ? -v : v;
}

/* Not NaN and not ±Inf, by the exponent bits (no libm, immune to fast-math). */
static uint8_t finitef(float v) {
  union {
    float f;
    uint32_t u;
  } c;
  c.f = v;
  return (c.u & 0x7F800000UL) != 0x7F800000UL;
}

void ultro_mpc_reset(void) {
  uint8_t k, i;
  for (k = 0; k < N; k++) {
    for (i = 0; i < NU; i++) ws_z[k][i] = ws_y[k][i] = 0.0f;
    for (i = 0; i < NX; i++) ws_v[k][i] = ws_g[k][i] = 0.0f;
  }
}

/* Drop stage 0 of the warm start and repeat the last stage. */
static void shift(void) {
  uint8_t k, i;
  for (k = 0; k + 1 < N; k++) {
    for (i = 0; i < NU; i++) {
      ws_z[k][i] = ws_z[k + 1][i];
      ws_y[k][i] = ws_y[k + 1][i];
    }
    for (i = 0; i < NX; i++) {
      ws_v[k][i] = ws_v[k + 1][i];
      ws_g[k][i] = ws_g[k + 1][i];
    }
  }
}

uint8_t ultro_mpc_solve(const float *x0, float *u0, ultro_mpc_info_t *info) {
  const float rho = ULTRO_MPC_RHO;
  float p[NX], pn[NX], r[NU], t[NU];
  float pri = 0.0f, dua = 0.0f;
  uint16_t it;
  uint8_t k, i, j, l;
  uint8_t status = ULTRO_MPC_MAX_ITER;

  for (i = 0; i < NX; i++)
    if (!finitef(x0[i])) {
      if (info) {
        info->iterations = 0;
        info->status = ULTRO_MPC_NONFINITE;
        info->primal = info->dual = 0.0f;
      }
      return ULTRO_MPC_NONFINITE;
    }
  for (i = 0; i < NX; i++) ws_x[0][i] = x0[i] * ULTRO_RD_F32(&ULTRO_MPC_SX_INV[i]);

  for (it = 1; it <= ULTRO_MPC_MAX_ITERATIONS; it++) {
    /* backward pass: p_N = -rho (v_N - g_N) */
    for (i = 0; i < NX; i++) p[i] = -rho * (ws_v[N - 1][i] - ws_g[N - 1][i]);
    for (k = N; k-- > 0;) {
      for (j = 0; j < NU; j++) r[j] = -rho * (ws_z[k][j] - ws_y[k][j]);
      for (j = 0; j < NU; j++) {
        float s = r[j];
        for (i = 0; i < NX; i++) s += ULTRO_RD_F32(&ULTRO_MPC_B[i][j]) * p[i];
        t[j] = s;
      }
      for (j = 0; j < NU; j++) {
        float s = 0.0f;
        for (l = 0; l < NU; l++) s += ULTRO_RD_F32(&ULTRO_MPC_C[k][j][l]) * t[l];
        ws_d[k][j] = s;
      }
      if (k == 0) break;
      for (i = 0; i < NX; i++) {
        float s = -rho * (ws_v[k - 1][i] - ws_g[k - 1][i]);
        for (j = 0; j < NU; j++) s -= ULTRO_RD_F32(&ULTRO_MPC_K[k][j][i]) * r[j];
        for (l = 0; l < NX; l++) s += ULTRO_RD_F32(&ULTRO_MPC_AMBKT[k][i][l]) * p[l];
        pn[i] = s;
      }
      for (i = 0; i < NX; i++) p[i] = pn[i];
    }
    /* forward rollout */
    for (k = 0; k < N; k++) {
      for (j = 0; j < NU; j++) {
        float s = -ws_d[k][j];
        for (i = 0; i < NX; i++) s -= ULTRO_RD_F32(&ULTRO_MPC_K[k][j][i]) * ws_x[k][i];
        ws_u[k][j] = s;
      }
      for (i = 0; i < NX; i++) {
        float s = 0.0f;
        for (l = 0; l < NX; l++) s += ULTRO_RD_F32(&ULTRO_MPC_A[i][l]) * ws_x[k][l];
        for (j = 0; j < NU; j++) s += ULTRO_RD_F32(&ULTRO_MPC_B[i][j]) * ws_u[k][j];
        ws_x[k + 1][i] = s;
      }
    }
    /* projections, duals, residuals */
    pri = 0.0f;
    dua = 0.0f;
    for (k = 0; k < N; k++) {
      for (j = 0; j < NU; j++) {
        float zn = clampf(ws_u[k][j] + ws_y[k][j], ULTRO_RD_F32(&ULTRO_MPC_UMIN[j]), ULTRO_RD_F32(&ULTRO_MPC_UMAX[j]));
        float dz = absf(zn - ws_z[k][j]);
        float pr = absf(ws_u[k][j] - zn);
        if (dz > dua) dua = dz;
        if (pr > pri) pri = pr;
        ws_z[k][j] = zn;
        ws_y[k][j] += ws_u[k][j] - zn;
      }
      for (i = 0; i < NX; i++) {
        float xi = ws_x[k + 1][i];
        float vn = clampf(xi + ws_g[k][i], ULTRO_RD_F32(&ULTRO_MPC_XMIN[i]), ULTRO_RD_F32(&ULTRO_MPC_XMAX[i]));
        float dv = absf(vn - ws_v[k][i]);
        float pr = absf(xi - vn);
        if (dv > dua) dua = dv;
        if (pr > pri) pri = pr;
        ws_v[k][i] = vn;
        ws_g[k][i] += xi - vn;
      }
    }
    dua *= rho;
    if (pri <= ULTRO_MPC_TOL && dua <= ULTRO_MPC_TOL) {
      status = ULTRO_MPC_SOLVED;
      break;
    }
  }
  for (j = 0; j < NU; j++) u0[j] = ws_z[0][j] * ULTRO_RD_F32(&ULTRO_MPC_SU[j]);
  /* An overflow anywhere shows in the residuals or in u0: never report it as a
   * control, and do not warm-start the next solve from it. */
  if (!finitef(pri) || !finitef(dua)) status = ULTRO_MPC_NONFINITE;
  for (j = 0; j < NU; j++)
    if (!finitef(u0[j])) status = ULTRO_MPC_NONFINITE;
  if (info) {
    info->iterations = it > ULTRO_MPC_MAX_ITERATIONS ? ULTRO_MPC_MAX_ITERATIONS : it;
    info->status = status;
    info->primal = pri;
    info->dual = dua;
  }
  if (status == ULTRO_MPC_NONFINITE) ultro_mpc_reset();
  else shift();
  return status;
}
