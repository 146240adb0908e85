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
    else {
      float v;
#if ULTRO_OUT_POW2
      /* k = 2^e: q * k is float(q) with e added to its exponent (exact, and the
       * generator checked it stays normal); 0 stays +0. */
      union {
        float f;
        uint32_t i;
      } b;
      b.f = (float)q;
      /* e * 2^23 added as e * 2^7 to the top half (|e| <= 126: no int16 overflow; avr-gcc moves bytes for << 16) */
      if (q) b.i += (uint32_t)(uint16_t)(ULTRO_RD_I8(&ULTRO_OUT_E[j]) * 128) << 16;
      v = b.f;
#else
      v = (float)q * ULTRO_RD_F32(&ULTRO_OUT_K[j]);
#endif
#if ULTRO_OUT_CENTRED
      u[j] = v;
#else
      u[j] = ULTRO_RD_F32(&ULTRO_OUT_OFF[j]) + v;
#endif
    }
  }
}

#if ULTRO_POLICY_FILTER
/* The one-step safety filter: per input, the interval ends of the rows that
 * bound it, intersected with the actuator box, then the clamp (definition:
 * docs/model-file.md). Float32 arithmetic in the reference's order. A NaN end
 * tightens nothing (its compares are false); crossing ends give the box value
 * nearest their middle, so u stays finite and in its box. */
uint8_t ultro_safety_filter(const float *x, float *u) {
  uint8_t j, r = 0, n = 0, moved = 0;
  for (j = 0; j < ULTRO_POLICY_NU; j++) {
    float lo = ULTRO_RD_F32(&ULTRO_U_MIN[j]), hi = ULTRO_RD_F32(&ULTRO_U_MAX[j]), v;
    if (r >= ULTRO_SF_ROWS || ULTRO_RD_U8(&ULTRO_SF_INPUT[r]) != j) continue;
    for (; r < ULTRO_SF_ROWS && ULTRO_RD_U8(&ULTRO_SF_INPUT[r]) == j; r++) {
      uint8_t k, nt = ULTRO_RD_U8(&ULTRO_SF_NT[r]), flags = ULTRO_RD_U8(&ULTRO_SF_FLAGS[r]);
      float t = 0.0f;
      for (k = 0; k < nt; k++, n++) {
        float p = x[ULTRO_RD_U8(&ULTRO_SF_IDX[n])] * ULTRO_RD_F32(&ULTRO_SF_COEF[n]);
        t = k ? t + p : p;
      }
      if (flags & 1) {
        v = t + ULTRO_RD_F32(&ULTRO_SF_CLO[r]);
        if (v > lo) lo = v;
      }
      if (flags & 2) {
        v = t + ULTRO_RD_F32(&ULTRO_SF_CHI[r]);
        if (v < hi) hi = v;
      }
    }
    v = u[j];
    if (lo <= hi) {
      if (v < lo)
        v = lo;
      else if (v > hi)
        v = hi;
    } else {
      float m = (lo + hi) * 0.5f, umin = ULTRO_RD_F32(&ULTRO_U_MIN[j]), umax = ULTRO_RD_F32(&ULTRO_U_MAX[j]);
      v = m >= umin ? (m > umax ? umax : m) : umin;
    }
    if (v < u[j] || v > u[j]) moved = 1;
    u[j] = v;
  }
  return moved;
}
#endif

uint8_t ultro_policy(const float *x, float *u) {
  ultro_act_t xq[ULTRO_POLICY_NX];
  int16_t uq[ULTRO_POLICY_NU];
  uint8_t flags = ultro_policy_quantize(x, xq) ? ULTRO_POLICY_CLAMPED : 0;
  /* No second clamp: the quantiser is monotone, so every xq lies between the
   * domain edges' q (ULTRO_IN_QMIN/QMAX), which ultro_policy_q would clamp to. */
  ultro_nn_forward(xq, uq);
  ultro_policy_dequantize(uq, u);
#if ULTRO_POLICY_FILTER
  /* the filter sees the state as measured, not the clamped one */
  if (ultro_safety_filter(x, u)) flags |= ULTRO_POLICY_FILTERED;
#endif
  return flags;
}
