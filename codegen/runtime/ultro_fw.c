/*
 * ultro_fw.c: the firmware main loop. Reads framed requests from the serial
 * link, runs the embedded controller (the generated policy and/or the
 * on-board MPC, chosen per request), times it with the cycle counter and
 * replies. Malformed frames are counted and answered with ERROR; they are
 * never acted on. Build-time configuration comes from ultro_fw_config.h.
 */
#include "ultro_fw_config.h"
#include "ultro_hal.h"
#include "ultro_wire.h"
#if ULTRO_FW_WITH_POLICY
#include "ultro_policy.h"
#endif
#if ULTRO_FW_WITH_MPC
#include "ultro_mpc.h"
#endif

#if ULTRO_FW_WITH_POLICY
#define FW_NX ULTRO_POLICY_NX
#define FW_NU ULTRO_POLICY_NU
#else
#define FW_NX ULTRO_MPC_NX
#define FW_NU ULTRO_MPC_NU
#endif
#if ULTRO_FW_WITH_POLICY && ULTRO_FW_WITH_MPC
typedef char ultro_fw_same_dims[(ULTRO_POLICY_NX == ULTRO_MPC_NX && ULTRO_POLICY_NU == ULTRO_MPC_NU) ? 1 : -1];
#endif

enum { CTRL_POLICY = 1, CTRL_MPC = 2 };

static ultro_reader_t reader;
static uint8_t tx_payload[ULTRO_WIRE_MAX_PAYLOAD];
static uint8_t tx_frame[ULTRO_WIRE_MAX_FRAME];
static uint32_t steps_done;
static uint32_t frames_ok;
static uint32_t frames_bad;
static uint16_t bad_by_code[ULTRO_ERR_COUNT];
static uint32_t calib; /* cost of one cycle-counter read, subtracted from every measurement */
/* The last reply, kept so that a retried request gets the same answer without
 * running the controller again: retries are idempotent. A retry is the same
 * request again: same sequence number, same type and the same bytes (their
 * CRC); a different request that reuses the number is a new request. */
static int16_t last_seq = -1;
static uint8_t last_type;
static uint16_t last_crc;
static uint16_t last_len;

/* Encode tx_payload (type, seq, body) into `out` and transmit it; returns the frame length. */
static uint16_t send_into(uint8_t *out, uint8_t type, uint8_t seq, uint16_t body_len) {
  uint16_t n;
  tx_payload[0] = type;
  tx_payload[1] = seq;
  ultro_put_u16(tx_payload + 2 + body_len, ultro_crc16(tx_payload, (uint16_t)(2 + body_len)));
  n = ultro_cobs_encode(tx_payload, (uint16_t)(4 + body_len), out);
  out[n++] = 0;
  ultro_hal_write(out, n);
  return n;
}

/* A reply to a request: kept in tx_frame for retries. */
static void send(uint8_t type, uint8_t seq, uint16_t body_len) {
  last_len = send_into(tx_frame, type, seq, body_len);
}

/* An ERROR for a frame that could not be read: its own buffer, so the cached reply survives. */
/* Count a bad frame and write the 6-byte ERROR body (code, offending type, count). */
static void error_body(uint8_t code, uint8_t offending_type) {
  uint8_t *b = tx_payload + 2;
  frames_bad++;
  if (code < ULTRO_ERR_COUNT) bad_by_code[code]++;
  b[0] = code;
  b[1] = offending_type;
  ultro_put_u32(b + 2, frames_bad);
}

static void send_error_raw(uint8_t seq, uint8_t code, uint8_t offending_type) {
  static uint8_t err_frame[16];
  error_body(code, offending_type);
  (void)send_into(err_frame, ULTRO_MSG_ERROR, seq, 6);
}

/* An ERROR answering a readable request (cached like any reply). */
static void send_error(uint8_t seq, uint8_t code, uint8_t offending_type) {
  error_body(code, offending_type);
  send(ULTRO_MSG_ERROR, seq, 6);
}

static void send_hello(uint8_t type, uint8_t seq) {
  uint8_t *b = tx_payload + 2;
  b[0] = ULTRO_WIRE_VERSION;
  ultro_put_u16(b + 1, ULTRO_FW_VERSION);
  b[3] = (ULTRO_FW_WITH_POLICY ? CTRL_POLICY : 0) | (ULTRO_FW_WITH_MPC ? CTRL_MPC : 0);
  ultro_put_u32(b + 4, ULTRO_FW_MODEL_HASH32);
  ultro_put_u32(b + 8, ultro_hal_cpu_hz());
  b[12] = FW_NX;
  b[13] = FW_NU;
#if ULTRO_FW_WITH_POLICY
  b[14] = ULTRO_ACT_BITS;
  b[15] = (uint8_t)(int8_t)ULTRO_POLICY_IN_FRAC;
  b[16] = (uint8_t)(int8_t)ULTRO_POLICY_OUT_FRAC;
#else
  b[14] = 0;
  b[15] = 0;
  b[16] = 0;
#endif
#if ULTRO_FW_WITH_MPC
  b[17] = ULTRO_MPC_N;
  ultro_put_u16(b + 18, ULTRO_MPC_MAX_ITERATIONS);
#else
  b[17] = 0;
  ultro_put_u16(b + 18, 0);
#endif
  ultro_put_u32(b + 20, calib);
  send(type, seq, 24);
}

/* A float on the wire is finite unless its exponent bits are all ones (NaN, ±Inf). */
static uint8_t wire_f32_finite(const uint8_t *p) {
  return (ultro_get_u32(p) & 0x7F800000UL) != 0x7F800000UL;
}

/* STEP body: controller (u8), x (FW_NX floats). Reply body:
 * controller, status (ULTRO_STATUS_*), cycles (u32), core cycles (u32), iterations (u16),
 * steps since boot (u32), u (FW_NU floats), then for the policy xq and uq (int16 each).
 * A non-finite state is refused with ERROR before any controller runs; a
 * non-finite result is never sent as a control. */
static void handle_step(uint8_t seq, const uint8_t *body, uint16_t blen) {
  float x[FW_NX], u[FW_NU];
  uint8_t ctrl, i, status = 0;
  uint16_t iterations = 1;
  uint32_t t0, t1, cycles, core;
  uint8_t *b = tx_payload + 2;
  uint16_t len;
  if (blen != 1 + 4 * FW_NX) {
    send_error(seq, ULTRO_ERR_LENGTH, ULTRO_MSG_STEP);
    return;
  }
  ctrl = body[0];
  for (i = 0; i < FW_NX; i++)
    if (!wire_f32_finite(body + 1 + 4 * i)) {
      send_error(seq, ULTRO_ERR_NONFINITE_STATE, ULTRO_MSG_STEP);
      return;
    }
  for (i = 0; i < FW_NX; i++) x[i] = ultro_get_f32(body + 1 + 4 * i);
  if (0) {
  }
#if ULTRO_FW_WITH_POLICY
  else if (ctrl == CTRL_POLICY) {
    ultro_act_t xq[FW_NX];
    int16_t uq[FW_NU];
    uint8_t pflags;
    ultro_hal_timer_start();
    t0 = ultro_hal_timer_read();
    pflags = ultro_policy(x, u);
    t1 = ultro_hal_timer_read();
    cycles = t1 - t0 - calib;
    if (pflags & ULTRO_POLICY_FILTERED) status |= ULTRO_STATUS_FILTERED;
    /* the integer core alone, and the intermediate integers for the host's bit-exact check */
    if (ultro_policy_quantize(x, xq)) status |= ULTRO_STATUS_CLAMPED;
    ultro_hal_timer_start();
    t0 = ultro_hal_timer_read();
    ultro_policy_q(xq, uq);
    t1 = ultro_hal_timer_read();
    core = t1 - t0 - calib;
    for (i = 0; i < FW_NX; i++) ultro_put_u16(b + 17 + 4 * FW_NU + 2 * i, (uint16_t)(int16_t)xq[i]);
    for (i = 0; i < FW_NU; i++) ultro_put_u16(b + 17 + 4 * FW_NU + 2 * FW_NX + 2 * i, (uint16_t)uq[i]);
    len = (uint16_t)(17 + 4 * FW_NU + 2 * FW_NX + 2 * FW_NU);
  }
#endif
#if ULTRO_FW_WITH_MPC
  else if (ctrl == CTRL_MPC) {
    ultro_mpc_info_t info;
    ultro_hal_timer_start();
    t0 = ultro_hal_timer_read();
    status = ultro_mpc_solve(x, u, &info);
    t1 = ultro_hal_timer_read();
    if (status == ULTRO_MPC_NONFINITE) {
      send_error(seq, ULTRO_ERR_NONFINITE_RESULT, ULTRO_MSG_STEP);
      return;
    }
    status = status == ULTRO_MPC_MAX_ITER ? ULTRO_STATUS_ITER_CAP : ULTRO_STATUS_OK;
    cycles = t1 - t0 - calib;
    core = cycles;
    iterations = info.iterations;
    len = (uint16_t)(17 + 4 * FW_NU);
  }
#endif
  else {
    send_error(seq, ULTRO_ERR_CONTROLLER, ULTRO_MSG_STEP);
    return;
  }
  steps_done++;
  frames_ok++;
  b[0] = ctrl;
  b[1] = status;
  ultro_put_u32(b + 2, cycles);
  ultro_put_u32(b + 6, core);
  ultro_put_u16(b + 10, iterations);
  /* b[12..15]: steps since boot; a smaller value than last time means the board reset */
  ultro_put_u32(b + 12, steps_done);
  b[16] = FW_NU;
  for (i = 0; i < FW_NU; i++) ultro_put_f32(b + 17 + 4 * i, u[i]);
  send(ULTRO_MSG_STEP_REPLY, seq, len);
}

static void handle(uint8_t *p, uint16_t n) {
  uint8_t type = p[0], seq = p[1];
  const uint8_t *body = p + 2;
  uint16_t blen = (uint16_t)(n - 2);
  uint8_t *b = tx_payload + 2;
  uint16_t crc = ultro_crc16(p, n);
  if ((int16_t)seq == last_seq && type == last_type && crc == last_crc) {
    /* a retry: the host did not get (or could not read) our reply */
    ultro_hal_write(tx_frame, last_len);
    return;
  }
  last_seq = seq;
  last_type = type;
  last_crc = crc;
  switch (type) {
    case ULTRO_MSG_HELLO_REQ:
      if (blen != 0) break;
      frames_ok++;
      send_hello(ULTRO_MSG_HELLO, seq);
      return;
    case ULTRO_MSG_PING:
      if (blen != 4) break;
      frames_ok++;
      b[0] = body[0];
      b[1] = body[1];
      b[2] = body[2];
      b[3] = body[3];
      send(ULTRO_MSG_PONG, seq, 4);
      return;
    case ULTRO_MSG_STEP:
      handle_step(seq, body, blen);
      return;
    case ULTRO_MSG_RESET_MPC:
      if (blen != 0) break;
      frames_ok++;
#if ULTRO_FW_WITH_MPC
      ultro_mpc_reset();
#endif
      b[0] = ULTRO_MSG_RESET_MPC;
      send(ULTRO_MSG_ACK, seq, 1);
      return;
    case ULTRO_MSG_STATS_REQ: {
      uint8_t i;
      if (blen != 0) break;
      frames_ok++;
      ultro_put_u32(b, frames_ok);
      ultro_put_u32(b + 4, frames_bad);
      for (i = 1; i < ULTRO_ERR_COUNT; i++) ultro_put_u16(b + 8 + 2 * (i - 1), bad_by_code[i]);
      ultro_put_u32(b + 8 + 2 * (ULTRO_ERR_COUNT - 1), steps_done);
      send(ULTRO_MSG_STATS, seq, 12 + 2 * (ULTRO_ERR_COUNT - 1));
      return;
    }
    default:
      send_error(seq, ULTRO_ERR_TYPE, type);
      return;
  }
  send_error(seq, ULTRO_ERR_LENGTH, type);
}

void ultro_fw_init(void);
void ultro_fw_poll(void);

void ultro_fw_init(void) {
  ultro_hal_init(ULTRO_FW_BAUD);
  calib = ultro_hal_timer_overhead();
  /* announce a (re)start: the host treats it as a reset */
  send_hello(ULTRO_MSG_BOOT, 0);
}

/* Handle at most one received byte (call it in a loop). */
void ultro_fw_poll(void) {
  int16_t c = ultro_hal_read();
  uint8_t *payload;
  uint16_t n;
  uint8_t err = 0;
  uint8_t r;
  if (c < 0) {
    ultro_hal_idle();
    return;
  }
  r = ultro_reader_feed(&reader, (uint8_t)c, &payload, &n, &err);
  if (r == ULTRO_READ_FRAME) {
    handle(payload, n);
  } else if (r == ULTRO_READ_ERROR) {
    /* the sequence number is only meaningful if the frame decoded */
    send_error_raw(n >= 2 ? payload[1] : 0, err, n >= 1 ? payload[0] : 0);
  }
}

#if !defined(ULTRO_FW_NO_MAIN)
int main(void) {
  ultro_fw_init();
  for (;;) ultro_fw_poll();
}
#endif
