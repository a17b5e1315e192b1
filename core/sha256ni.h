/*
 * sha256ni: SHA-256 of many buffers at once with the x86 SHA extensions, two
 * buffers side by side. Used through dv_hash_many (hash.h), which falls back to
 * libcrypto on CPUs without the extensions.
 */
#ifndef DV_SHA256NI_H
#define DV_SHA256NI_H

#include <stddef.h>
#include <stdint.h>

/** 1 if this CPU has the SHA extensions (and the SSE levels the code uses). */
int dv_sha256ni_available(void);

/** out[i] = SHA-256(data[i], lens[i]) for i < n. Only when dv_sha256ni_available(). */
void dv_sha256ni_many(const uint8_t *const *data, const size_t *lens, size_t n, uint8_t (*out)[32]);

#endif
