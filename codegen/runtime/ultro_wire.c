/* ultro_wire.c: COBS framing and CRC-16 (see ultro_wire.h). */
#include <string.h>
#include "ultro_wire.h"

uint16_t ultro_crc16(const uint8_t *p, uint16_t n) {
  uint16_t crc = 0xFFFF;
  uint16_t i;
  uint8_t b;
  for (i = 0; i < n; i++) {
    crc ^= (uint16_t)p[i] << 8;
    for (b = 0; b < 8; b++) crc = (crc & 0x8000) ? (uint16_t)((crc << 1) ^ 0x1021) : (uint16_t)(crc << 1);
  }
  return crc;
}

uint16_t ultro_cobs_encode(const uint8_t *in, uint16_t n, uint8_t *out) {
  uint16_t read = 0, write = 1, code_at = 0;
  uint8_t code = 1;
  while (read < n) {
    if (in[read] == 0) {
      out[code_at] = code;
      code = 1;
      code_at = write++;
      read++;
    } else {
      out[write++] = in[read++];
      code++;
      if (code == 0xFF) {
        out[code_at] = code;
        code = 1;
        code_at = write++;
      }
    }
  }
  out[code_at] = code;
  return write;
}

int16_t ultro_cobs_decode(uint8_t *buf, uint16_t n) {
  /* In place: the write index always trails the read index. */
  uint16_t read = 0, write = 0;
  while (read < n) {
    uint8_t code = buf[read++];
    uint8_t i;
    if (code == 0) return -1;
    for (i = 1; i < code; i++) {
      if (read >= n) return -1; /* truncated block */
      if (buf[read] == 0) return -1;
      buf[write++] = buf[read++];
    }
    if (code != 0xFF && read < n) buf[write++] = 0;
  }
  return (int16_t)write;
}

uint8_t ultro_reader_feed(ultro_reader_t *r, uint8_t byte, uint8_t **payload, uint16_t *n, uint8_t *err) {
  if (byte != 0) {
    if (r->len < sizeof r->buf) {
      r->buf[r->len++] = byte;
    } else {
      r->overflow = 1;
    }
    return ULTRO_READ_NONE;
  }
  /* delimiter: a frame ends */
  {
    uint16_t len = r->len;
    uint8_t over = r->overflow;
    int16_t dec;
    r->len = 0;
    r->overflow = 0;
    *payload = r->buf;
    *n = 0;
    if (over) {
      *err = ULTRO_ERR_OVERFLOW;
      return ULTRO_READ_ERROR;
    }
    if (len == 0) return ULTRO_READ_NONE;
    dec = ultro_cobs_decode(r->buf, len);
    if (dec < 0) {
      *err = ULTRO_ERR_COBS;
      return ULTRO_READ_ERROR;
    }
    *n = (uint16_t)dec;
    if (dec < 4) {
      *err = ULTRO_ERR_LENGTH;
      return ULTRO_READ_ERROR;
    }
    if (ultro_crc16(r->buf, (uint16_t)(dec - 2)) != ultro_get_u16(r->buf + dec - 2)) {
      *err = ULTRO_ERR_CRC;
      return ULTRO_READ_ERROR;
    }
    *n = (uint16_t)(dec - 2);
    return ULTRO_READ_FRAME;
  }
}

void ultro_put_u16(uint8_t *p, uint16_t v) {
  p[0] = (uint8_t)v;
  p[1] = (uint8_t)(v >> 8);
}

void ultro_put_u32(uint8_t *p, uint32_t v) {
  p[0] = (uint8_t)v;
  p[1] = (uint8_t)(v >> 8);
  p[2] = (uint8_t)(v >> 16);
  p[3] = (uint8_t)(v >> 24);
}

void ultro_put_f32(uint8_t *p, float v) {
  uint32_t u;
  memcpy(&u, &v, 4);
  ultro_put_u32(p, u);
}

uint16_t ultro_get_u16(const uint8_t *p) {
  return (uint16_t)(p[0] | ((uint16_t)p[1] << 8));
}

uint32_t ultro_get_u32(const uint8_t *p) {
  return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

float ultro_get_f32(const uint8_t *p) {
  uint32_t u = ultro_get_u32(p);
  float v;
  memcpy(&v, &u, 4);
  return v;
}
