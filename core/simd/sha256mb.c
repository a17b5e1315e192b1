/* sha256mb: padding (FIPS 180-4, 5.1.1) and the digest of a multi-buffer job. */
#include "core/simd/sha256mb.h"

#include <string.h>

/* FIPS 180-4, 4.2.2. */
const uint32_t dv_sha256_round_constants[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2};

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
