/*
 * Fuzz the bundle header parser (storage/bundle.c): dv_bundle_parse on the input taken as
 * a bundle without its trailer (the file 32 bytes longer), as a whole bundle, and as the
 * start of a very large one. A header that parses must re-encode to exactly the bytes it
 * was read from (the format has one encoding), and its files must lie end to end from the
 * end of the section to the trailer, a pack then its index each.
 */
#include "core/base/buf.h"
#include "core/base/error.h"
#include "core/object/hash.h"
#include "storage/bundle.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(const uint8_t *data, size_t size, uint64_t file_bytes)
{
    dv_bundle_header h;
    if (dv_bundle_parse(&h, data, size, file_bytes, "fuzz") < 0) {
        if (h.n_files || h.n_revs || h.n_paths || h.n_roots)
            abort(); /* a failed parse leaves nothing behind */
        return;
    }
    if (h.data_offset > size || h.data_offset < DV_BUNDLE_FIXED_BYTES)
        abort();
    uint64_t at = h.data_offset;
    if (h.n_files % 2)
        abort();
    for (size_t i = 0; i < h.n_files; i++) {
        const dv_bundle_file *f = &h.files[i];
        if (f->offset != at || f->kind != (i % 2 ? DV_BUNDLE_FILE_INDEX : DV_BUNDLE_FILE_PACK))
            abort();
        if (i % 2 && dv_oid_cmp(&f->pack_id, &h.files[i - 1].pack_id))
            abort();
        at += f->length;
    }
    if (at != file_bytes - DV_BUNDLE_TRAILER_BYTES)
        abort(); /* the files end where the trailer starts */
    for (size_t i = 0; i < h.n_revs; i++)
        if (!h.revs[i].name[0] || strlen(h.revs[i].name) > DV_BUNDLE_NAME_MAX_BYTES)
            abort();
    dv_buf again = DV_BUF_INIT;
    if (dv_bundle_header_encode(&again, &h) < 0)
        abort(); /* what was read can be written */
    if (again.len != h.data_offset || memcmp(again.ptr, data, again.len))
        abort(); /* and is written as it was read */
    dv_buf_release(&again);
    dv_bundle_header_release(&h);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    check(data, size, (uint64_t)size + DV_BUNDLE_TRAILER_BYTES);
    check(data, size, size);
    check(data, size, UINT64_MAX);
    dv_error_clear();
    return 0;
}
