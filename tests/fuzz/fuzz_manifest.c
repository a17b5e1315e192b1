/*
 * Fuzz the file-manifest decoder (core/object.c). The encoding is canonical, so a
 * manifest the decoder accepts must encode to exactly the bytes it came from, and its
 * size must be the sum of its chunk lengths, none of them zero.
 */
#include "core/base/buf.h"
#include "core/base/error.h"
#include "core/object/object.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    dv_manifest m = DV_MANIFEST_INIT;
    dv_buf encoded = DV_BUF_INIT;

    if (dv_manifest_decode(&m, data, size) < 0) {
        if (m.n_chunks || m.chunks || m.size || !dv_error_last()[0])
            abort(); /* a rejected manifest leaves out empty and says why */
        return 0;
    }
    uint64_t sum = 0;
    for (size_t i = 0; i < m.n_chunks; i++) {
        if (m.chunks[i].len == 0)
            abort();
        sum += m.chunks[i].len;
    }
    if (sum != m.size)
        abort();
    if (dv_manifest_encode(&encoded, &m) < 0 || encoded.len != size ||
        memcmp(encoded.ptr, data, size))
        abort();
    dv_buf_release(&encoded);
    dv_manifest_release(&m);
    return 0;
}
