/* compress: per-thread zstd compression with a raw fallback. */
#include "storage/compress.h"

#include "core/base/error.h"
#include "storage/pack.h"

#include <stdint.h>
#include <stdlib.h>
#include <zstd.h>

struct dv_compressor {
    ZSTD_CCtx *cctx;
    ZSTD_CCtx *sample_cctx;
    int level;
    dv_buf out;
};

int dv_compressor_new(dv_compressor **out, int level)
{
    dv_compressor *c = calloc(1, sizeof(*c));
    if (!c)
        return dv_error_set(DV_ENOMEM, "out of memory");
    c->out = (dv_buf)DV_BUF_INIT;
    c->level = level > 0 ? level : 3;
    if (!(c->cctx = ZSTD_createCCtx()) || !(c->sample_cctx = ZSTD_createCCtx())) {
        ZSTD_freeCCtx(c->cctx);
        free(c);
        return dv_error_set(DV_ENOMEM, "out of memory for zstd");
    }
    ZSTD_CCtx_setParameter(c->cctx, ZSTD_c_compressionLevel, c->level);
    ZSTD_CCtx_setParameter(c->cctx, ZSTD_c_checksumFlag, 0);
    ZSTD_CCtx_setParameter(c->cctx, ZSTD_c_contentSizeFlag, 1);
    *out = c;
    return 0;
}

/* Bytes of a chunk tried before compressing all of it. */
#define DV_COMPRESS_SAMPLE_BYTES 4096
#define DV_COMPRESS_MIN_BYTES 256

/*
 * Would compressing all of data pay? Compress a sample from the middle at the
 * fastest level: random-looking data (weights, media, encrypted or already
 * compressed files) fails the test at a fraction of a full attempt's cost.
 */
static int worth_compressing(dv_compressor *c, const uint8_t *data, size_t len)
{
    if (len < 2 * DV_COMPRESS_SAMPLE_BYTES)
        return len >= DV_COMPRESS_MIN_BYTES;
    uint8_t out[DV_COMPRESS_SAMPLE_BYTES + 512];
    const uint8_t *sample = data + (len / 2 - DV_COMPRESS_SAMPLE_BYTES / 2);
    size_t n =
        ZSTD_compressCCtx(c->sample_cctx, out, sizeof(out), sample, DV_COMPRESS_SAMPLE_BYTES, 1);
    if (ZSTD_isError(n))
        return 1;
    return n < DV_COMPRESS_SAMPLE_BYTES - DV_COMPRESS_SAMPLE_BYTES / 32;
}

int dv_compressor_run(dv_compressor *c, const void *data, size_t len, const void **stored,
                      size_t *stored_len, uint8_t *flags)
{
    int error;
    if (!worth_compressing(c, data, len)) {
        *stored = data;
        *stored_len = len;
        *flags = DV_PACK_RAW;
        return 0;
    }
    size_t bound = ZSTD_compressBound(len);
    dv_buf_clear(&c->out);
    if ((error = dv_buf_grow(&c->out, bound)) < 0)
        return error;
    size_t n = ZSTD_compress2(c->cctx, c->out.ptr, bound, data, len);
    if (ZSTD_isError(n))
        return dv_error_set(DV_ERROR, "zstd compression failed: %s", ZSTD_getErrorName(n));
    /* Keep compression only when it saves something worth a decode. */
    if (n + len / 64 < len) {
        c->out.len = n;
        *stored = c->out.ptr;
        *stored_len = n;
        *flags = DV_PACK_ZSTD;
    } else {
        *stored = data;
        *stored_len = len;
        *flags = DV_PACK_RAW;
    }
    return 0;
}

void dv_compressor_free(dv_compressor *c)
{
    if (!c)
        return;
    ZSTD_freeCCtx(c->cctx);
    ZSTD_freeCCtx(c->sample_cctx);
    dv_buf_release(&c->out);
    free(c);
}
