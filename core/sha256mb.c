/* sha256mb: padding (FIPS 180-4, 5.1.1) and the digest of a multi-buffer job. */
#include "sha256mb.h"

#include <string.h>

static const uint32_t initial_state[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                                          0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};

void dv_sha256_job_init(dv_sha256_job *job, const uint8_t *data, size_t len, size_t index)
{
    size_t whole = len / 64, rest = len % 64;
    memcpy(job->state, initial_state, sizeof(initial_state));
    job->index = index;
    job->next = data;
    job->blocks = whole;
    memset(job->tail, 0, sizeof(job->tail));
    if (rest)
        memcpy(job->tail, data + 64 * whole, rest);
    job->tail[rest] = 0x80;
    job->tail_blocks = rest + 1 + 8 <= 64 ? 1 : 2;
    uint64_t bits = (uint64_t)len * 8;
    for (int i = 0; i < 8; i++)
        job->tail[job->tail_blocks * 64 - 1 - i] = (uint8_t)(bits >> (8 * i));
    dv_sha256_job_advance(job);
}

void dv_sha256_job_digest(const dv_sha256_job *job, uint8_t out[32])
{
    for (int i = 0; i < 8; i++) {
        out[4 * i] = (uint8_t)(job->state[i] >> 24);
        out[4 * i + 1] = (uint8_t)(job->state[i] >> 16);
        out[4 * i + 2] = (uint8_t)(job->state[i] >> 8);
        out[4 * i + 3] = (uint8_t)job->state[i];
    }
}
