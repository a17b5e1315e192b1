/*
 * sha256ni: SHA-256 of many buffers at once with the x86 SHA extensions, two
 * buffers side by side. Used through dv_hash_many (hash.h), which uses the wider
 * AVX-512 engine where it is faster and falls back to libcrypto on CPUs without
 * either.
 */
#ifndef DV_SHA256NI_H
#define DV_SHA256NI_H

#include "core/base/error.h"

#include "core/simd/sha256mb.h"

#include <stddef.h>
#include <stdint.h>

/** 1 if this CPU has the SHA extensions (and the SSE levels the code uses). */
DV_NODISCARD int dv_sha256ni_available(void);

/** Run the jobs to the end, in their order, writing each digest to out[job->index].
 *  Jobs may have been started by another engine. Only when dv_sha256ni_available(). */
void dv_sha256ni_run(dv_sha256_job *const *jobs, size_t n, uint8_t (*out)[32]);

#endif
