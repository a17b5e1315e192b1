/*
 * sha256mb: one message as the multi-buffer SHA-256 engines (sha256ni, sha256x16)
 * see it: a chaining state and the blocks still to hash, first the message's whole
 * blocks, then its padded last block or two. An engine may stop a job part way and
 * another carry on from its state, which is how the wide engine hands the last few
 * long messages to the narrow one.
 */
#ifndef DV_SHA256MB_H
#define DV_SHA256MB_H

#include <stddef.h>
#include <stdint.h>

/** The 64 round constants K of SHA-256, for the engines. */
extern const uint32_t dv_sha256_round_constants[64];

typedef struct dv_sha256_job {
    uint32_t state[8];   /* a..h after the blocks hashed so far */
    const uint8_t *next; /* the next block */
    size_t blocks;       /* blocks left at next; 0 only when the job is done */
    size_t tail_blocks;  /* blocks of tail not yet started (0 once next is in tail) */
    size_t index;        /* where the digest goes in the caller's output */
    uint8_t tail[128];   /* the last partial block, the 0x80 marker, zeros, the bit length */
} dv_sha256_job;

/** Start a job for len bytes at data, whose digest goes to out[index]. The job must not
 *  move afterwards (next may point into its own tail). */
void dv_sha256_job_init(dv_sha256_job *job, const uint8_t *data, size_t len, size_t index);

/** After the engine hashed the blocks at next: move on to the tail. 0 when all is done. */
static inline int dv_sha256_job_advance(dv_sha256_job *job)
{
    if (job->blocks)
        return 1;
    if (!job->tail_blocks)
        return 0;
    job->next = job->tail;
    job->blocks = job->tail_blocks;
    job->tail_blocks = 0;
    return 1;
}

/** The digest of a finished job, from its state. */
void dv_sha256_job_digest(const dv_sha256_job *job, uint8_t out[32]);

#endif
