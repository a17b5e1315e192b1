/*
 * chunker: FastCDC content-defined chunking with normalized chunking.
 * Boundaries depend only on the bytes since the previous boundary, never on
 * how the input is split into buffers or on threads. The rule is specified
 * in docs/formats.md ("Chunking").
 */
#ifndef DV_CHUNKER_H
#define DV_CHUNKER_H

#include "core/base/error.h"

#include <stddef.h>
#include <stdint.h>

#define DV_CHUNK_MIN_DEFAULT (16u * 1024)
#define DV_CHUNK_AVG_DEFAULT (64u * 1024)
#define DV_CHUNK_MAX_DEFAULT (256u * 1024)
/* Limits on configurable sizes: bounded so one chunk always fits a read buffer. */
#define DV_CHUNK_MIN_LIMIT 64u
#define DV_CHUNK_MAX_LIMIT (16u * 1024 * 1024)

typedef struct dv_chunk_params {
    uint32_t min; /* no boundary before this many bytes */
    uint32_t avg; /* a power of two; the normalization point */
    uint32_t max; /* a boundary is forced at this many bytes */
} dv_chunk_params;

/** Default parameters (16 KiB / 64 KiB / 256 KiB). */
dv_chunk_params dv_chunk_params_default(void);

/** 0 if p is usable: min >= 64, avg a power of two, min < avg < max <= 16 MiB; else DV_EUSAGE with
 * a message. */
DV_NODISCARD int dv_chunk_params_check(const dv_chunk_params *p);

/** The 256-entry gear table (see docs/formats.md); computed once, thread-safe. */
const uint64_t *dv_chunker_gear_table(void);

/* Visible so it can live on the stack; treat the fields as private. */
typedef struct dv_chunker {
    const uint64_t *gear;
    uint64_t mask_small; /* used while the chunk is shorter than N: more bits, cuts harder */
    uint64_t mask_large; /* used from N on: fewer bits, cuts easier */
    uint64_t hash;
    uint32_t min, avg, max; /* avg holds the normalization point N = avg - min */
    uint32_t pos;           /* bytes of the current chunk already scanned */
    int wide;               /* 1: long stretches are hashed in eight AVX-512 lanes (gearx8.h) */
} dv_chunker;

/** Prepare c for a new stream with parameters p (which must pass dv_chunk_params_check). */
void dv_chunker_init(dv_chunker *c, const dv_chunk_params *p);

/**
 * Scan data, the continuation of the current chunk. Returns how many bytes were
 * consumed. If *cut is set to 1, the current chunk ends right after those bytes and
 * the chunker is reset for the next chunk; otherwise all len bytes were consumed
 * and the chunk continues. End of stream is the caller's boundary.
 */
size_t dv_chunker_scan(dv_chunker *c, const uint8_t *data, size_t len, int *cut);

/** Forget the current chunk (start the next one from scratch). */
void dv_chunker_reset(dv_chunker *c);

#endif
