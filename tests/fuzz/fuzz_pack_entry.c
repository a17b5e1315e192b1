/*
 * Fuzz the decoding of a pack entry's stored bytes (storage/pack.c), which a fetch takes
 * from a remote: one byte of flags, a be32 raw length, then the stored bytes (raw, or a
 * zstd frame). What decodes has exactly the raw length (and, raw, the stored bytes); its
 * SHA-256 then passes dv_pack_decode's check and any other id fails it.
 */
#include "core/base/buf.h"
#include "core/base/bytes.h"
#include "core/base/error.h"
#include "core/object/hash.h"
#include "storage/pack.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Larger claimed sizes below the limit only make each run allocate more. */
#define FUZZ_RAW_MAX_BYTES (4u << 20)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    dv_pack_entry e;
    dv_buf out = DV_BUF_INIT, again = DV_BUF_INIT;
    if (size < 5)
        return 0;
    memset(&e, 0, sizeof(e));
    e.type = 1;
    e.flags = data[0];
    e.raw_len = dv_get_be32(data + 1);
    const uint8_t *stored = data + 5;
    size_t stored_len = size - 5;
    e.stored_len = (uint32_t)stored_len;
    if (e.raw_len > FUZZ_RAW_MAX_BYTES && e.raw_len <= DV_OBJECT_MAX_BYTES)
        return 0;

    if (dv_pack_unpack(&out, &e, stored, stored_len, NULL, "fuzz.pack") < 0) {
        if (!dv_error_last()[0])
            abort();
        goto done;
    }
    if (out.len != e.raw_len || (e.flags != DV_PACK_RAW && e.flags != DV_PACK_ZSTD))
        abort();
    if (e.flags == DV_PACK_RAW && (stored_len != out.len || memcmp(out.ptr, stored, out.len)))
        abort();
    if (dv_hash_buffer(&e.id, out.ptr, out.len) < 0 ||
        dv_pack_decode(&again, &e, stored, stored_len, NULL, "fuzz.pack") < 0 ||
        again.len != out.len || memcmp(again.ptr, out.ptr, out.len))
        abort();
    e.id.id[0] ^= 1;
    if (dv_pack_decode(&again, &e, stored, stored_len, NULL, "fuzz.pack") != DV_ECORRUPT)
        abort();
done:
    dv_buf_release(&out);
    dv_buf_release(&again);
    return 0;
}
