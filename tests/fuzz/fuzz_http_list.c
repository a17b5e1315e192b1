/*
 * Fuzz the parser of HTML directory listings (remotes/http.c). It never fails on junk,
 * only skips it; every name it reports is "<64 lowercase hex>.pack" or ".idx" with an
 * unknown size; the callback's non-zero return stops the parse and is returned.
 */
#include "core/base/error.h"
#include "core/object/hash.h"
#include "remotes/http.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define STOP_CODE 7

typedef struct seen {
    size_t n;
    size_t stop_after; /* 0: never stop */
} seen;

static int on_entry(void *ctx, const char *name, uint64_t size, int64_t modified)
{
    seen *s = ctx;
    size_t len = strlen(name);
    if (size != DV_REMOTE_SIZE_UNKNOWN || modified != DV_REMOTE_TIME_UNKNOWN)
        abort();
    if (len < DV_OID_HEX_CHARS)
        abort();
    for (size_t i = 0; i < DV_OID_HEX_CHARS; i++)
        if (!((name[i] >= '0' && name[i] <= '9') || (name[i] >= 'a' && name[i] <= 'f')))
            abort();
    if (strcmp(name + DV_OID_HEX_CHARS, ".pack") && strcmp(name + DV_OID_HEX_CHARS, ".idx"))
        abort();
    s->n++;
    return s->stop_after && s->n == s->stop_after ? STOP_CODE : 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    seen all = {0, 0};
    if (dv_http__parse_listing((const char *)data, size, on_entry, &all) != 0)
        abort(); /* only out of memory fails, and these inputs are small */
    if (all.n > 0) {
        seen part = {0, all.n / 2 + 1};
        if (dv_http__parse_listing((const char *)data, size, on_entry, &part) != STOP_CODE ||
            part.n != part.stop_after)
            abort();
    }
    return 0;
}
