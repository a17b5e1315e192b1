/*
 * Fuzz the reading of archives by dv import (core/data/archive_read.c): any bytes, in any
 * format libarchive detects, go through the checks of every entry, the streaming of file
 * contents into a (hash-only) ingester, the resolution of symlinks and the encoding of the
 * trees. An archive it accepts must give the same tree again when read a second time and
 * count no more files than it has entries; one it refuses must say why, naming the archive
 * (a message of any other module would be a check the reader missed).
 */
#include "core/base/error.h"
#include "core/data/archive_read.h"
#include "core/data/chunker.h"
#include "core/data/ingest.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static dv_ingest *ingester(void)
{
    static dv_ingest *ing;
    if (!ing) {
        dv_chunk_params params = dv_chunk_params_default();
        if (dv_ingest_new(&ing, NULL, &params, NULL) < 0)
            abort();
    }
    return ing;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    dv_archive_result first, again;
    int error = dv_archive_read_memory(&first, data, size, "fuzz", ingester(), NULL);
    if (error < 0) {
        if (strncmp(dv_error_last(), "archive fuzz", 12) && error != DV_ENOMEM)
            abort(); /* a refusal names the archive */
        return 0;
    }
    if (first.files > first.entries)
        abort();
    if (dv_archive_read_memory(&again, data, size, "fuzz", ingester(), NULL) < 0)
        abort(); /* accepted once, accepted again */
    if (dv_oid_cmp(&first.id, &again.id) || first.size != again.size ||
        first.files != again.files || first.entries != again.entries ||
        first.bytes_read != again.bytes_read)
        abort();
    return 0;
}
