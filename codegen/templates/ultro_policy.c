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

/* A float's bits as an int32 that orders like the float: -0 as +0, negative
 * magnitudes flipped. A positive NaN is above +Inf's key, a negative one below -Inf's. */
static int32_t ultro_f32_key(float f) {
  union {
    float f;
    int32_t i;
  } u; /* C99 reads a union's other member as the same bytes (6.5.2.3 footnote 82); no libc memcpy */
  int32_t b;
  u.f = f;
  b = u.i;
  if (b == INT32_MIN) return 0;
  return b < 0 ? b ^ INT32_C(0x7FFFFFFF) : b;
}

uint8_t ultro_policy_quantize(const float *x, ultro_act_t *xq) {
  uint8_t i, clamped = 0;
  for (i = 0; i < ULTRO_POLICY_NX; i++) {
    /* The domain test on the float's bits (integer compares, no float library
     * call); outside the domain, or NaN, the input is the domain edge's q. */
    int32_t key = ultro_f32_key(x[i]);
    float t;
    int32_t q;
    if (key < ULTRO_RD_I32(&ULTRO_D_KMIN[i]) || key > INT32_C(0x7F800000)) {
      xq[i] = ULTRO_RD_ACT(&ULTRO_IN_QMIN[i]);
      clamped = 1;
      continue;
    }
    if (key > ULTRO_RD_I32(&ULTRO_D_KMAX[i])) {
      xq[i] = ULTRO_RD_ACT(&ULTRO_IN_QMAX[i]);
      clamped = 1;
      continue;
    }
    /* t = (x - off) * k + 0.5 + B >= 1 over the domain, so the conversion's
     * truncation is the floor; B (a power of two) comes off as an integer. */
#if ULTRO_IN_CENTRED
    t = x[i] * ULTRO_RD_F32(&ULTRO_IN_K[i]) + ULTRO_IN_C;
#else
    t = (x[i] - ULTRO_RD_F32(&ULTRO_IN_OFF[i])) * ULTRO_RD_F32(&ULTRO_IN_K[i]) + ULTRO_IN_C;
#endif
    q = (int32_t)t - ULTRO_IN_BIAS;
    if (q > ULTRO_ACT_MAX) q = ULTRO_ACT_MAX;
    if (q < ULTRO_ACT_MIN) q = ULTRO_ACT_MIN;
    xq[i] = (ultro_act_t)q;
  }
  return clamped;
}

void ultro_policy_dequantize(const int16_t *uq, float *u) {
  uint8_t j;
  for (j = 0; j < ULTRO_POLICY_NU; j++) {
    /* u = off + q * k clamped to the actuator box; the thresholds on q are
     * exactly where that float sum leaves the box, so a saturated output
     * costs no float arithmetic and an unsaturated one no float compare. */
    int16_t q = uq[j];
    if (q < ULTRO_RD_I32(&ULTRO_U_QLO[j]))
      u[j] = ULTRO_RD_F32(&ULTRO_U_MIN[j]);
    else if (q > ULTRO_RD_I32(&ULTRO_U_QHI[j]))
      u[j] = ULTRO_RD_F32(&ULTRO_U_MAX[j]);
    else
      u[j] = ULTRO_RD_F32(&ULTRO_OUT_OFF[j]) + (float)q * ULTRO_RD_F32(&ULTRO_OUT_K[j]);
  }
}

uint8_t ultro_policy(const float *x, float *u) {
  ultro_act_t xq[ULTRO_POLICY_NX];
  int16_t uq[ULTRO_POLICY_NU];
  uint8_t clamped = ultro_policy_quantize(x, xq);
  /* No second clamp: the quantiser is monotone, so every xq lies between the
   * domain edges' q (ULTRO_IN_QMIN/QMAX), which ultro_policy_q would clamp to. */
  ultro_nn_forward(xq, uq);
  ultro_policy_dequantize(uq, u);
  return clamped;
}
