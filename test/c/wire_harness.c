/*
 * Harness for ultro_wire.c: reads lines of hex bytes ("E <type> <seq> <hex body>")
 * and prints the encoded frame in hex, or ("D <hex frame bytes>") feeds the
 * bytes to the reader and prints each event (F <hex payload> / X <error code>).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "ultro_wire.h"

static int hexval(char c) {
  return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

static uint16_t parse_hex(const char *s, uint8_t *out, uint16_t cap) {
  uint16_t n = 0;
  while (*s && n < cap) {
    int hi = hexval(s[0]), lo;
    if (hi < 0) {
      s++;
      continue;
    }
    lo = hexval(s[1]);
    if (lo < 0) break;
    out[n++] = (uint8_t)(hi * 16 + lo);
    s += 2;
  }
  return n;
}

int main(void) {
  static char line[8192];
  static uint8_t buf[4096], enc[4200];
  ultro_reader_t reader;
  memset(&reader, 0, sizeof reader);
  while (fgets(line, sizeof line, stdin)) {
    if (line[0] == 'E') {
      unsigned type, seq;
      char hexbody[8192] = "";
      uint16_t n, i, m;
      if (sscanf(line + 1, "%u %u %8191s", &type, &seq, hexbody) < 2) continue;
      buf[0] = (uint8_t)type;
      buf[1] = (uint8_t)seq;
      n = (uint16_t)(2 + parse_hex(hexbody, buf + 2, 2000));
      ultro_put_u16(buf + n, ultro_crc16(buf, n));
      n = (uint16_t)(n + 2);
      m = ultro_cobs_encode(buf, n, enc);
      for (i = 0; i < m; i++) printf("%02x", enc[i]);
      printf("00\n");
    } else if (line[0] == 'D') {
      uint16_t n = parse_hex(line + 1, buf, sizeof buf), i;
      for (i = 0; i < n; i++) {
        uint8_t *payload;
        uint16_t len, k;
        uint8_t err = 0;
        uint8_t r = ultro_reader_feed(&reader, buf[i], &payload, &len, &err);
        if (r == ULTRO_READ_FRAME) {
          printf("F ");
          for (k = 0; k < len; k++) printf("%02x", payload[k]);
          printf("\n");
        } else if (r == ULTRO_READ_ERROR) {
          printf("X %u\n", err);
        }
      }
      printf("END\n");
    }
  }
  return 0;
}
