/* compress: per-thread zstd compression with a raw fallback. */
#include "compress.h"

#include "core/error.h"
#include "pack.h"

#include <stdlib.h>
#include <zstd.h>

struct dv_compressor {
    ZSTD_CCtx *cctx;
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
    if (!(c->cctx = ZSTD_createCCtx())) {
        free(c);
        return dv_error_set(DV_ENOMEM, "out of memory for zstd");
    }
    ZSTD_CCtx_setParameter(c->cctx, ZSTD_c_compressionLevel, c->level);
    ZSTD_CCtx_setParameter(c->cctx, ZSTD_c_checksumFlag, 0);
    ZSTD_CCtx_setParameter(c->cctx, ZSTD_c_contentSizeFlag, 1);
    *out = c;
    return 0;
}

int dv_compressor_run(dv_compressor *c, const void *data, size_t len, const void **stored,
                      size_t *stored_len, uint8_t *flags)
{
    int error;
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
    dv_buf_release(&c->out);
    free(c);
}
