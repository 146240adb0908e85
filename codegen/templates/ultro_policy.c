/*
 * ultro_policy.c: weights, formats and the float wrapper of a generated policy.
 *
 * @@STAMP@@
 *
 * Everything below the tables is fixed code; only the tables come from the
 * model. The network itself is in ultro_nn.c, generated for it.
 */
#include "ultro_policy.h"

/*@@TABLES@@*/

void ultro_policy_q(const ultro_act_t *xq, int16_t *uq) {
  ultro_act_t xc[ULTRO_POLICY_NX];
  uint8_t i;
  /* The overflow proof covers the quantised domain: clamp to it first. */
  for (i = 0; i < ULTRO_POLICY_NX; i++) {
    ultro_act_t lo = ULTRO_RD_ACT(&ULTRO_IN_QMIN[i]);
    ultro_act_t hi = ULTRO_RD_ACT(&ULTRO_IN_QMAX[i]);
    xc[i] = xq[i] < lo ? lo : xq[i] > hi ? hi : xq[i];
  }
  ultro_nn_forward(xc, uq);
}

uint8_t ultro_policy_quantize(const float *x, ultro_act_t *xq) {
  uint8_t i, clamped = 0;
  for (i = 0; i < ULTRO_POLICY_NX; i++) {
    float v = x[i];
    float dmin = ULTRO_RD_F32(&ULTRO_D_MIN[i]);
    float dmax = ULTRO_RD_F32(&ULTRO_D_MAX[i]);
    float t;
    int32_t q;
    if (!(v >= dmin)) {
      v = dmin; /* also maps NaN to the lower bound */
      clamped = 1;
    }
    if (v > dmax) {
      v = dmax;
      clamped = 1;
    }
    t = (v - ULTRO_RD_F32(&ULTRO_IN_OFF[i])) * ULTRO_RD_F32(&ULTRO_IN_K[i]);
    t = t + 0.5f;
    /* floor(t) without libm: |t| < 2^16 here, so the truncation is exact and
     * one step down fixes negative non-integers (the same as floorf). */
    q = (int32_t)t;
    if ((float)q > t) q--;
    if (q > ULTRO_ACT_MAX) q = ULTRO_ACT_MAX;
    if (q < ULTRO_ACT_MIN) q = ULTRO_ACT_MIN;
    xq[i] = (ultro_act_t)q;
  }
  return clamped;
}

void ultro_policy_dequantize(const int16_t *uq, float *u) {
  uint8_t j;
  for (j = 0; j < ULTRO_POLICY_NU; j++) {
    float v = ULTRO_RD_F32(&ULTRO_OUT_OFF[j]) + (float)uq[j] * ULTRO_RD_F32(&ULTRO_OUT_K[j]);
    float lo = ULTRO_RD_F32(&ULTRO_U_MIN[j]);
    float hi = ULTRO_RD_F32(&ULTRO_U_MAX[j]);
    if (v < lo) v = lo;
    if (v > hi) v = hi;
    u[j] = v;
  }
}

uint8_t ultro_policy(const float *x, float *u) {
  ultro_act_t xq[ULTRO_POLICY_NX];
  int16_t uq[ULTRO_POLICY_NU];
  uint8_t clamped = ultro_policy_quantize(x, xq);
  ultro_policy_q(xq, uq);
  ultro_policy_dequantize(uq, u);
  return clamped;
}
