/* buf: growable byte buffer. */
#include "core/base/buf.h"

#include "core/base/bytes.h"
#include "core/base/error.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

char dv_buf__empty[1];
/* ptr of a buffer whose allocation failed: "" like dv_buf__empty, but remembered. */
char dv_buf__oom[1];

/* Give up buf's storage after a failed allocation, and remember that it failed. */
static int set_oom(dv_buf *buf, int code)
{
    if (buf->alloc)
        free(buf->ptr);
    buf->ptr = dv_buf__oom;
    buf->len = buf->alloc = 0;
    return code;
}

int dv_buf_oom(const dv_buf *buf)
{
    return buf->ptr == dv_buf__oom;
}

int dv_buf_grow(dv_buf *buf, size_t extra)
{
    size_t want;
    if (dv_buf_oom(buf))
        return dv_error_set(DV_ENOMEM, "out of memory (an earlier allocation failed)");
    /* len + extra + 1 wraps for an extra taken from a corrupt length field: check the sum
     * before comparing it, or a huge request would look satisfied. */
    if (__builtin_add_overflow(buf->len, extra, &want) || __builtin_add_overflow(want, 1, &want))
        return set_oom(buf, dv_error_set(DV_ENOMEM, "buffer size overflow (%zu + %zu bytes)",
                                         buf->len, extra));
    if (want <= buf->alloc)
        return 0;
    size_t alloc = buf->alloc ? buf->alloc : 64;
    while (alloc < want)
        alloc = alloc < SIZE_MAX / 2 ? alloc * 2 : want;
    char *p;
    if (buf->alloc && !buf->len) {
        /* nothing to keep: a new allocation, not a realloc that copies the old one whole */
        free(buf->ptr);
        buf->ptr = dv_buf__empty;
        buf->alloc = 0;
        p = malloc(alloc);
    } else {
        p = realloc(buf->alloc ? buf->ptr : NULL, alloc);
    }
    if (!p)
        return set_oom(
            buf, dv_error_set(DV_ENOMEM, "out of memory growing a buffer to %zu bytes", alloc));
    if (!buf->alloc)
        p[0] = '\0';
    buf->ptr = p;
    buf->alloc = alloc;
    return 0;
}

int dv_buf_put(dv_buf *buf, const void *data, size_t len)
{
    int error;
    if ((error = dv_buf_grow(buf, len)) < 0)
        return error;
    if (len)
        memmove(buf->ptr + buf->len, data, len);
    buf->len += len;
    buf->ptr[buf->len] = '\0';
    return 0;
}

int dv_buf_puts(dv_buf *buf, const char *str)
{
    return dv_buf_put(buf, str, strlen(str));
}

int dv_buf_putc(dv_buf *buf, char c)
{
    return dv_buf_put(buf, &c, 1);
}

int dv_buf_set(dv_buf *buf, const char *str)
{
    dv_buf_clear(buf);
    return dv_buf_puts(buf, str);
}

int dv_buf_vprintf(dv_buf *buf, const char *fmt, va_list ap)
{
    va_list copy;
    va_copy(copy, ap);
    int n = vsnprintf(NULL, 0, fmt, copy);
    va_end(copy);
    if (n < 0)
        return dv_error_set(DV_ERROR, "bad format string");
    int error;
    if ((error = dv_buf_grow(buf, (size_t)n)) < 0)
        return error;
    vsnprintf(buf->ptr + buf->len, (size_t)n + 1, fmt, ap);
    buf->len += (size_t)n;
    return 0;
}

int dv_buf_printf(dv_buf *buf, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int error = dv_buf_vprintf(buf, fmt, ap);
    va_end(ap);
    return error;
}

int dv_buf_put_be16(dv_buf *buf, uint16_t v)
{
    uint8_t b[2];
    dv_put_be16(b, v);
    return dv_buf_put(buf, b, 2);
}

int dv_buf_put_be32(dv_buf *buf, uint32_t v)
{
    uint8_t b[4];
    dv_put_be32(b, v);
    return dv_buf_put(buf, b, 4);
}

int dv_buf_put_be64(dv_buf *buf, uint64_t v)
{
    uint8_t b[8];
    dv_put_be64(b, v);
    return dv_buf_put(buf, b, 8);
}

int dv_buf_joinpath(dv_buf *buf, const char *dir, const char *name)
{
    dv_buf out = DV_BUF_INIT;
    int error = 0;
    size_t dir_len = strlen(dir);
    if ((error = dv_buf_put(&out, dir, dir_len)) < 0)
        goto done;
    if (dir_len && dir[dir_len - 1] != '/' && (error = dv_buf_putc(&out, '/')) < 0)
        goto done;
    if ((error = dv_buf_puts(&out, name)) < 0)
        goto done;
    dv_buf_release(buf);
    *buf = out;
    return 0;
done:
    dv_buf_release(&out);
    return error;
}

void dv_buf_truncate(dv_buf *buf, size_t len)
{
    if (len < buf->len) { /* never for an out-of-memory buffer, whose len is 0 */
        buf->len = len;
        buf->ptr[len] = '\0';
    }
}

void dv_buf_clear(dv_buf *buf)
{
    dv_buf_truncate(buf, 0);
}

char *dv_buf_detach(dv_buf *buf)
{
    char *p = dv_buf_oom(buf) ? NULL : buf->alloc ? buf->ptr : strdup("");
    buf->ptr = dv_buf__empty;
    buf->len = buf->alloc = 0;
    return p;
}

void dv_buf_release(dv_buf *buf)
{
    if (buf->alloc)
        free(buf->ptr);
    buf->ptr = dv_buf__empty;
    buf->len = buf->alloc = 0;
}
