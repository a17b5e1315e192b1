/*
 * Fuzz the parser of S3 ListObjectsV2 answers (remotes/s3.c). Every key it reports is a
 * non-empty C string; a continuation token is non-empty; the callback's non-zero return
 * stops the parse after exactly that entry and is what the parse returns.
 */
#include "core/base/error.h"
#include "remotes/s3.h"

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

static int on_entry(void *ctx, const char *key, uint64_t size, int64_t modified)
{
    seen *s = ctx;
    (void)size;
    (void)modified;
    if (!key || !key[0])
        abort();
    s->n++;
    return s->stop_after && s->n == s->stop_after ? STOP_CODE : 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    seen all = {0, 0};
    int truncated = -1;
    char *token = NULL;
    int rc = dv_s3__parse_list((const char *)data, size, on_entry, &all, &truncated, &token);
    if (rc > 0 || (truncated != 0 && truncated != 1))
        abort();
    if (rc < 0 && !dv_error_last()[0])
        abort();
    if (token && !token[0])
        abort();
    free(token);
    token = NULL;

    if (all.n > 0) {
        seen part = {0, all.n / 2 + 1};
        rc = dv_s3__parse_list((const char *)data, size, on_entry, &part, &truncated, &token);
        if (rc != STOP_CODE || part.n != part.stop_after)
            abort();
        free(token);
    }
    return 0;
}
