/*
 * ultro_wire.h: the Ultro wire protocol, firmware side (spec: docs/wire-protocol.md).
 *
 * A frame is COBS(payload) followed by a 0x00 delimiter. The payload is
 *   type (u8) | seq (u8) | body | crc16 (u16, little endian)
 * with CRC-16/CCITT-FALSE (poly 0x1021, init 0xFFFF) over type, seq and body.
 * Multi-byte fields are little endian; floats are IEEE-754 binary32.
 */
#ifndef ULTRO_WIRE_H
#define ULTRO_WIRE_H

#include <stdint.h>

#define ULTRO_WIRE_VERSION 2
/* Largest payload (type + seq + body + crc); frames above it are rejected. */
#define ULTRO_WIRE_MAX_PAYLOAD 96
/* Encoded frame buffer: COBS adds one byte per 254, plus the delimiter. */
#define ULTRO_WIRE_MAX_FRAME (ULTRO_WIRE_MAX_PAYLOAD + ULTRO_WIRE_MAX_PAYLOAD / 254 + 2)

enum {
  ULTRO_MSG_HELLO_REQ = 0x01,
  ULTRO_MSG_PING = 0x02,
  ULTRO_MSG_STEP = 0x03,
  ULTRO_MSG_RESET_MPC = 0x04,
  ULTRO_MSG_STATS_REQ = 0x05,
  ULTRO_MSG_BOOT = 0x80,
  ULTRO_MSG_HELLO = 0x81,
  ULTRO_MSG_PONG = 0x82,
  ULTRO_MSG_STEP_REPLY = 0x83,
  ULTRO_MSG_ACK = 0x84,
  ULTRO_MSG_STATS = 0x85,
  ULTRO_MSG_ERROR = 0xEE
};

enum {
  ULTRO_ERR_CRC = 1,
  ULTRO_ERR_LENGTH = 2,
  ULTRO_ERR_TYPE = 3,
  ULTRO_ERR_CONTROLLER = 4,
  ULTRO_ERR_OVERFLOW = 5,
  ULTRO_ERR_COBS = 6,
  ULTRO_ERR_NONFINITE_STATE = 7,  /* a STEP whose state has a NaN or ±Inf: nothing was run */
  ULTRO_ERR_NONFINITE_RESULT = 8  /* the controller's result was not finite: no control, MPC warm start cleared */
};
#define ULTRO_ERR_COUNT 9

/* STEP reply status: the controller's status in the low nibble, flags above. */
enum {
  ULTRO_STATUS_OK = 0,         /* policy computed / MPC converged */
  ULTRO_STATUS_ITER_CAP = 1,   /* MPC stopped at its iteration cap: the control is its last iterate */
  ULTRO_STATUS_CLAMPED = 0x10, /* policy: the state was outside the trained domain; the control is for the clamped state */
  ULTRO_STATUS_FILTERED = 0x20 /* policy: the one-step safety filter moved the network's control */
};

uint16_t ultro_crc16(const uint8_t *p, uint16_t n);

/* COBS-encode n bytes into out (which must hold n + n/254 + 1); returns the encoded length (no delimiter). */
uint16_t ultro_cobs_encode(const uint8_t *in, uint16_t n, uint8_t *out);

/* COBS-decode in place; returns the decoded length, or -1 for a malformed encoding. */
int16_t ultro_cobs_decode(uint8_t *buf, uint16_t n);

/* Incremental frame reader: feed bytes; a complete, decoded payload is reported once. */
typedef struct {
  uint8_t buf[ULTRO_WIRE_MAX_FRAME];
  uint16_t len;
  uint8_t overflow; /* current frame exceeded the buffer: discard until the delimiter */
} ultro_reader_t;

enum { ULTRO_READ_NONE = 0, ULTRO_READ_FRAME = 1, ULTRO_READ_ERROR = 2 };

/*
 * Feed one byte. Returns ULTRO_READ_FRAME with payload and n set to a payload
 * whose CRC checked (CRC bytes removed), ULTRO_READ_ERROR with err set for a
 * malformed frame (payload and n then describe what was decoded, if any), or
 * ULTRO_READ_NONE. Empty frames (two delimiters in a row) are ignored, so
 * garbage can be flushed with a run of zeros.
 */
uint8_t ultro_reader_feed(ultro_reader_t *r, uint8_t byte, uint8_t **payload, uint16_t *n, uint8_t *err);

/* Little-endian field helpers. */
void ultro_put_u16(uint8_t *p, uint16_t v);
void ultro_put_u32(uint8_t *p, uint32_t v);
void ultro_put_f32(uint8_t *p, float v);
uint16_t ultro_get_u16(const uint8_t *p);
uint32_t ultro_get_u32(const uint8_t *p);
float ultro_get_f32(const uint8_t *p);

#endif /* ULTRO_WIRE_H */
