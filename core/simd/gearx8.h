/*
 * gearx8: the chunker's gear hash over one stretch of bytes in the eight 64-bit
 * lanes of an AVX-512 register. Each lane hashes its own part of the stretch;
 * because the hash of a position depends only on the 64 bytes that end there, a
 * lane needs only the 64 bytes before its part to start. The answer is the one
 * the one-byte rule of docs/formats.md ("Chunking") gives.
 */
#ifndef DV_GEARX8_H
#define DV_GEARX8_H

#include "core/base/error.h"

#include <stddef.h>
#include <stdint.h>

/* A stretch is 8 parts of span bytes and the 64 bytes lane 0 runs ahead. */
#define DV_GEARX8_STRETCH_BYTES(span) (8 * (size_t)(span) + 64)

/** 1 if this CPU can run dv_gearx8_scan (see cpu.h). */
DV_NODISCARD int dv_gearx8_available(void);

/**
 * Hash the stretch data[0, DV_GEARX8_STRETCH_BYTES(span)), span >= 64, continuing from
 * *hash, the gear hash of the position just before data[0] (its 64-byte window). If
 * no position's hash h has (h & mask) == 0, sets *hash to the hash of the stretch's
 * last byte and returns 0. Otherwise returns 1 and sets *bound to an index within
 * the stretch such that the first such position is at or before it; *hash is then
 * unchanged. Only when dv_gearx8_available().
 */
DV_NODISCARD int dv_gearx8_scan(const uint64_t *gear, const uint8_t *data, size_t span,
                                uint64_t mask, uint64_t *hash, size_t *bound);

#endif
