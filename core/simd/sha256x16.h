/*
 * sha256x16: SHA-256 of sixteen messages side by side in the 32-bit lanes of
 * AVX-512 registers. On CPUs whose SHA extensions are slow to start one round
 * after another, this hashes more bytes per second than two SHA-extension lanes,
 * as long as enough messages are in flight; dv_hash_many (hash.h) hands the last
 * few to sha256ni.
 */
#ifndef DV_SHA256X16_H
#define DV_SHA256X16_H

#include "core/base/error.h"

#include "core/simd/sha256mb.h"

#include <stddef.h>
#include <stdint.h>

/** 1 if this CPU and OS can run the AVX-512 code (F and BW, with the zmm state saved). */
DV_NODISCARD int dv_sha256x16_available(void);

/**
 * Run the jobs, starting them in their order as lanes free up, until all are done or
 * fewer than keep lanes would be busy with no job left to start. Each finished job's
 * digest goes to out[job->index]. The unfinished jobs, their state saved, are moved to
 * jobs[0..returned count). Only when dv_sha256x16_available().
 */
size_t dv_sha256x16_run(dv_sha256_job **jobs, size_t n, size_t keep, uint8_t (*out)[32]);

#endif
