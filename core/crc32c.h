/*
 * crc32c: CRC-32C (Castagnoli), the checksum of every stored object in a pack.
 * Uses the CPU's crc32 instruction where present (about 10x faster than the
 * SHA-256 that would otherwise re-verify every restored byte).
 */
#ifndef DV_CRC32C_H
#define DV_CRC32C_H

#include <stddef.h>
#include <stdint.h>

/** CRC-32C of data (initial value 0, the standard one: "123456789" gives 0xe3069283). */
uint32_t dv_crc32c(const void *data, size_t len);

#endif
