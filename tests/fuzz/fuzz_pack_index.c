/*
 * Fuzz the pack index reader (storage/pack.c): dv_pack_check_index on the bytes as a
 * remote sends them, and dv_pack_open_index on them as a file. The input is taken as an
 * index of the pack it names (bytes 12..44), so that the fuzzer gets past the id check;
 * it is checked twice, as it is and with its trailer made the right checksum, so that it
 * gets past that too. An index that opens must give lookups that stay inside it, and
 * entries that dv_pack_check_bounds accepts must lie inside the pack.
 */
#include "core/base/error.h"
#include "core/object/hash.h"
#include "storage/pack.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Pack sizes to open the index against: the one taken from the index, a small and a
 * large one (a remote's listing gives any size it likes). */
static const uint64_t pack_sizes[] = {DV_PACK_BYTES_FROM_INDEX, 40, (uint64_t)1 << 30,
                                      UINT64_MAX - 1};

static int index_fd = -1;
static char index_path[64];

static void check_opened(dv_pack *pack)
{
    uint64_t pack_bytes = dv_pack_bytes(pack);
    size_t count = dv_pack_count(pack);
    for (size_t i = 0; i < count; i++) {
        dv_pack_entry e, found;
        dv_pack_entry_at(pack, i, &e);
        if (dv_pack_find(pack, &e.id, &found) && dv_oid_cmp(&found.id, &e.id))
            abort(); /* a lookup returns the entry it was asked for */
        if (dv_pack_check_bounds(pack, &e) == 0) {
            uint64_t end;
            if (e.offset < DV_PACK_HEADER_BYTES ||
                __builtin_add_overflow(e.offset,
                                       DV_PACK_ENTRY_HEADER_BYTES + (uint64_t)e.stored_len, &end) ||
                pack_bytes < DV_PACK_TRAILER_BYTES || end > pack_bytes - DV_PACK_TRAILER_BYTES)
                abort(); /* accepted an entry outside the pack */
        }
    }
    /* Lookups at both ends of the id space: either may be found in a fuzzed index, and a
     * hit must be the id asked for. */
    for (int fill = 0; fill <= 0xff; fill += 0xff) {
        dv_oid edge;
        dv_pack_entry hit;
        memset(edge.id, fill, sizeof(edge.id));
        if (dv_pack_find(pack, &edge, &hit) && memcmp(hit.id.id, edge.id, DV_OID_BYTES))
            abort();
    }
}

static void check_index(const uint8_t *data, size_t size, const dv_oid *pack_id)
{
    int checked = dv_pack_check_index(data, size, pack_id, "fuzz.idx");
    /* Only the full check asks that the ids rise (the structural one of opening does not). */
    int out_of_order = checked < 0 && strstr(dv_error_last(), "out of order") != NULL;

    if (ftruncate(index_fd, 0) < 0 || pwrite(index_fd, data, size, 0) != (ssize_t)size)
        abort();
    for (size_t i = 0; i < sizeof(pack_sizes) / sizeof(pack_sizes[0]); i++) {
        dv_pack *pack = NULL;
        if (dv_pack_open_index(&pack, index_path, "fuzz.pack", pack_id, pack_sizes[i]) < 0) {
            if (pack || !dv_error_last()[0])
                abort();
            /* bytes that pass every check open against any pack size given */
            if (checked == 0 && pack_sizes[i] != DV_PACK_BYTES_FROM_INDEX)
                abort();
            continue;
        }
        /* the file opened with the structural checks only: its bytes pass them */
        if (checked < 0 && size >= DV_INDEX_TRAILER_BYTES) {
            dv_oid sum;
            if (dv_hash_buffer(&sum, data, size - DV_INDEX_TRAILER_BYTES) < 0)
                abort();
            if (!memcmp(sum.id, data + size - DV_INDEX_TRAILER_BYTES, DV_OID_BYTES) &&
                !out_of_order)
                abort(); /* the right checksum and ids in order, yet the bytes were refused */
        }
        check_opened(pack);
        dv_pack_free(pack);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    dv_oid pack_id;
    memset(&pack_id, 0, sizeof(pack_id));
    if (index_fd < 0) {
        if ((index_fd = memfd_create("fuzz.idx", 0)) < 0)
            abort();
        snprintf(index_path, sizeof(index_path), "/proc/self/fd/%d", index_fd);
    }
    if (size >= DV_INDEX_HEADER_BYTES)
        memcpy(pack_id.id, data + 12, DV_OID_BYTES);

    check_index(data, size, &pack_id);
    if (size >= DV_INDEX_TRAILER_BYTES) {
        uint8_t *fixed = malloc(size);
        dv_oid sum;
        if (!fixed)
            abort();
        memcpy(fixed, data, size);
        if (dv_hash_buffer(&sum, fixed, size - DV_INDEX_TRAILER_BYTES) < 0)
            abort();
        memcpy(fixed + size - DV_INDEX_TRAILER_BYTES, sum.id, DV_OID_BYTES);
        check_index(fixed, size, &pack_id);
        free(fixed);
    }
    return 0;
}
