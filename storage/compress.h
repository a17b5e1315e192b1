/*
 * compress: zstd compression of one object for a pack entry. An object that
 * does not shrink is stored raw, so incompressible data costs no decode time.
 */
#ifndef DV_COMPRESS_H
#define DV_COMPRESS_H

#include "core/base/error.h"

#include "core/base/buf.h"

#include <stddef.h>
#include <stdint.h>

typedef struct dv_compressor dv_compressor;

/** A compressor at zstd level (1..19; 0 means the default, 3). One per thread. */
DV_NODISCARD int dv_compressor_new(dv_compressor **out, int level);
/**
 * Compress data. On return *stored points at the bytes to store (data itself when
 * stored raw, else the compressor's buffer, valid until the next call), *stored_len
 * their length and *flags DV_PACK_RAW or DV_PACK_ZSTD.
 */
DV_NODISCARD int dv_compressor_run(dv_compressor *c, const void *data, size_t len,
                                   const void **stored, size_t *stored_len, uint8_t *flags);
void dv_compressor_free(dv_compressor *c);

#endif
