/*
 * ultro_rom.h: where constant tables live, and how they are read.
 * On AVR they go to flash (PROGMEM) and are read with pgm_read_*; elsewhere
 * they are ordinary const data. Generated tables use only these macros.
 */
#ifndef ULTRO_ROM_H
#define ULTRO_ROM_H

#include <stdint.h>

#if defined(__AVR__)
#include <avr/pgmspace.h>
#define ULTRO_ROM PROGMEM
#define ULTRO_RD_I8(p) ((int8_t)pgm_read_byte(p))
#define ULTRO_RD_U8(p) ((uint8_t)pgm_read_byte(p))
#define ULTRO_RD_I16(p) ((int16_t)pgm_read_word(p))
#define ULTRO_RD_I32(p) ((int32_t)pgm_read_dword(p))
#define ULTRO_RD_F32(p) (pgm_read_float(p))
#define ULTRO_RD_I64(p) ((int64_t)((uint64_t)pgm_read_dword(p) | ((uint64_t)pgm_read_dword((const uint8_t *)(p) + 4) << 32)))
#else
#define ULTRO_ROM
#define ULTRO_RD_I8(p) (*(const int8_t *)(p))
#define ULTRO_RD_U8(p) (*(const uint8_t *)(p))
#define ULTRO_RD_I16(p) (*(const int16_t *)(p))
#define ULTRO_RD_I32(p) (*(const int32_t *)(p))
#define ULTRO_RD_F32(p) (*(const float *)(p))
#define ULTRO_RD_I64(p) (*(const int64_t *)(p))
#endif

#endif /* ULTRO_ROM_H */
