/*
 * hash: SHA-256 object ids (dv_oid) and their hex form. Incremental hashing
 * through OpenSSL's libcrypto, which uses the CPU's SHA extensions where present.
 */
#ifndef DV_HASH_H
#define DV_HASH_H

#include "core/base/error.h"

#include <stddef.h>
#include <stdint.h>

#define DV_OID_BYTES 32
#define DV_OID_HEX_CHARS 64

typedef struct dv_oid {
    uint8_t id[DV_OID_BYTES];
} dv_oid;

typedef struct dv_hasher dv_hasher;

/** One-shot SHA-256 of data into out. Returns 0 or DV_ERROR. */
DV_NODISCARD int dv_hash_buffer(dv_oid *out, const void *data, size_t len);
/** out[i] = SHA-256 of data[i] (lens[i] bytes) for i < n. With AVX-512, sixteen buffers
 *  are hashed side by side, and the last few of each 64 with the CPU's SHA extensions,
 *  two side by side; with only the extensions, two at a time; otherwise one by one
 *  through libcrypto. Returns 0 or DV_ERROR. */
DV_NODISCARD int dv_hash_many(dv_oid *out, const uint8_t *const *data, const size_t *lens,
                              size_t n);

DV_NODISCARD int dv_hasher_new(dv_hasher **out);
DV_NODISCARD int dv_hasher_update(dv_hasher *hasher, const void *data, size_t len);
/** Finish into out and reset the hasher for reuse. */
DV_NODISCARD int dv_hasher_final(dv_oid *out, dv_hasher *hasher);
void dv_hasher_free(dv_hasher *hasher);

/** Write 64 lowercase hex digits and a NUL into hex (65 bytes). */
void dv_oid_tohex(char hex[DV_OID_HEX_CHARS + 1], const dv_oid *oid);
/** Parse exactly 64 hex digits (either case). Returns 0 or DV_ECORRUPT (no message set). */
DV_NODISCARD int dv_oid_fromhex(dv_oid *out, const char *hex, size_t len);
DV_NODISCARD int dv_oid_cmp(const dv_oid *a, const dv_oid *b);
DV_NODISCARD int dv_oid_is_zero(const dv_oid *oid);

/** Short form for messages: first 12 hex digits, in a static per-thread ring of buffers. */
const char *dv_oid_short(const dv_oid *oid);
/** Full hex in a static per-thread ring of buffers (valid for the next 7 calls on this thread). */
const char *dv_oid_hex(const dv_oid *oid);

#endif
