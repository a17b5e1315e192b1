/*
 * buf: a growable byte buffer. ptr is never NULL and always NUL-terminated,
 * so a dv_buf holding text is a valid C string.
 */
#ifndef DV_BUF_H
#define DV_BUF_H

#include "core/base/error.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

typedef struct dv_buf {
    char *ptr;
    size_t len;
    size_t alloc;
} dv_buf;

extern char dv_buf__empty[];
extern char dv_buf__oom[];
#define DV_BUF_INIT                                                                                \
    {                                                                                              \
        dv_buf__empty, 0, 0                                                                        \
    }

/** Make room for extra more bytes (plus the NUL). Returns 0 or DV_ENOMEM. A failed
 *  allocation frees the buffer and leaves it out of memory (dv_buf_oom): every later
 *  call fails at once, so a function that builds output may check once at the end: the
 *  appends below are the one family whose results may be left to that check. */
DV_NODISCARD int dv_buf_grow(dv_buf *buf, size_t extra);
int dv_buf_put(dv_buf *buf, const void *data, size_t len);
int dv_buf_puts(dv_buf *buf, const char *str);
int dv_buf_putc(dv_buf *buf, char c);
int dv_buf_printf(dv_buf *buf, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int dv_buf_vprintf(dv_buf *buf, const char *fmt, va_list ap);
int dv_buf_set(dv_buf *buf, const char *str);
int dv_buf_put_be16(dv_buf *buf, uint16_t v);
int dv_buf_put_be32(dv_buf *buf, uint32_t v);
int dv_buf_put_be64(dv_buf *buf, uint64_t v);
/** Join dir and name with one '/' (dir may be empty). */
DV_NODISCARD int dv_buf_joinpath(dv_buf *buf, const char *dir, const char *name);
void dv_buf_truncate(dv_buf *buf, size_t len);
void dv_buf_clear(dv_buf *buf);
/** Hand the storage to the caller (free() it); buf is reset. Returns NULL on ENOMEM. */
char *dv_buf_detach(dv_buf *buf);
void dv_buf_release(dv_buf *buf);
/** 1 if an allocation for buf failed since it was last released (as libgit2's git_str_oom):
 *  its content is gone; ptr is "" still. */
DV_NODISCARD int dv_buf_oom(const dv_buf *buf);

#endif
