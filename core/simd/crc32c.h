/*
 * crc32c: CRC-32C (Castagnoli), the checksum of every stored object in a pack.
 * Folds with carry-less multiplies where the CPU has them, else uses its crc32
 * instruction (either much faster than the SHA-256 that would otherwise re-verify
 * every restored byte).
 */
#ifndef DV_CRC32C_H
#define DV_CRC32C_H

#include "core/base/error.h"

#include <stddef.h>
#include <stdint.h>

/** CRC-32C of data (initial value 0, the standard one: "123456789" gives 0xe3069283),
 *  with the fastest engine this CPU runs. */
uint32_t dv_crc32c(const void *data, size_t len);

/** The ways of computing it, slowest first. */
typedef enum dv_crc32c_engine {
    DV_CRC32C_TABLE,  /* a byte at a time from a table: any CPU */
    DV_CRC32C_SSE42,  /* the crc32 instruction, three streams side by side */
    DV_CRC32C_PCLMUL, /* folding 16-byte blocks with carry-less multiplies */
    DV_CRC32C_VPCLMUL /* the same, sixteen blocks at a time in AVX-512 registers */
} dv_crc32c_engine;

/** 1 if this CPU and operating system run the engine. */
DV_NODISCARD int dv_crc32c_engine_usable(dv_crc32c_engine engine);

/** dv_crc32c with the given engine, which must be usable. */
uint32_t dv_crc32c_with(dv_crc32c_engine engine, const void *data, size_t len);

#endif
