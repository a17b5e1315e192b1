/*
 * sha256x16: sixteen SHA-256 computations in the lanes of AVX-512 registers.
 *
 * Written from the SHA-256 definition (FIPS 180-4): each of the eight working
 * variables a..h is one register holding that variable of sixteen messages, and
 * the message schedule is sixteen registers of sixteen words. A block of each lane
 * is loaded as one register, and the sixteen registers are transposed so that
 * register t holds word t of every lane. Rotations are single instructions
 * (vprord) and each three-input function (the XOR of rotations, Ch, Maj) is one
 * vpternlogd.
 */
#include "core/simd/sha256x16.h"

#include "core/simd/cpu.h"

#include <string.h>

#if defined(__x86_64__)
#include <immintrin.h>

#define X16_TARGET __attribute__((target("avx512f,avx512bw")))

#define LANES 16
#define ROR(x, n) _mm512_ror_epi32(x, n)
#define ADD(x, y) _mm512_add_epi32(x, y)
#define XOR3(x, y, z) _mm512_ternarylogic_epi32(x, y, z, 0x96)
#define CH(e, f, g) _mm512_ternarylogic_epi32(e, f, g, 0xca)  /* e ? f : g */
#define MAJ(a, b, c) _mm512_ternarylogic_epi32(a, b, c, 0xe8) /* at least two of three */
#define BIG_SIGMA0(a) XOR3(ROR(a, 2), ROR(a, 13), ROR(a, 22))
#define BIG_SIGMA1(e) XOR3(ROR(e, 6), ROR(e, 11), ROR(e, 25))
#define SMALL_SIGMA0(w) XOR3(ROR(w, 7), ROR(w, 18), _mm512_srli_epi32(w, 3))
#define SMALL_SIGMA1(w) XOR3(ROR(w, 17), ROR(w, 19), _mm512_srli_epi32(w, 10))

/* One round; the caller renames the variables instead of moving them. */
#define ROUND(a, b, c, d, e, f, g, h, w, t)                                                        \
    do {                                                                                           \
        __m512i t1_ = ADD(ADD(h, ADD(w, _mm512_set1_epi32((int)dv_sha256_round_constants[t]))),    \
                          ADD(BIG_SIGMA1(e), CH(e, f, g)));                                        \
        __m512i t2_ = ADD(BIG_SIGMA0(a), MAJ(a, b, c));                                            \
        d = ADD(d, t1_);                                                                           \
        h = ADD(t1_, t2_);                                                                         \
    } while (0)

/* Rows r[i] (the 16 words of lane i) become columns: r[t] = word t of every lane. */
X16_TARGET static inline void transpose(__m512i r[16])
{
    __m512i t[16];
    for (int i = 0; i < 16; i += 2) {
        t[i] = _mm512_unpacklo_epi32(r[i], r[i + 1]);
        t[i + 1] = _mm512_unpackhi_epi32(r[i], r[i + 1]);
    }
    for (int i = 0; i < 16; i += 4) {
        r[i] = _mm512_unpacklo_epi64(t[i], t[i + 2]);
        r[i + 1] = _mm512_unpackhi_epi64(t[i], t[i + 2]);
        r[i + 2] = _mm512_unpacklo_epi64(t[i + 1], t[i + 3]);
        r[i + 3] = _mm512_unpackhi_epi64(t[i + 1], t[i + 3]);
    }
    for (int i = 0; i < 4; i++) {
        t[i] = _mm512_shuffle_i32x4(r[i], r[i + 4], 0x88);
        t[i + 4] = _mm512_shuffle_i32x4(r[i], r[i + 4], 0xdd);
        t[i + 8] = _mm512_shuffle_i32x4(r[i + 8], r[i + 12], 0x88);
        t[i + 12] = _mm512_shuffle_i32x4(r[i + 8], r[i + 12], 0xdd);
    }
    for (int i = 0; i < 4; i++) {
        r[i] = _mm512_shuffle_i32x4(t[i], t[i + 8], 0x88);
        r[i + 8] = _mm512_shuffle_i32x4(t[i], t[i + 8], 0xdd);
        r[i + 4] = _mm512_shuffle_i32x4(t[i + 4], t[i + 12], 0x88);
        r[i + 12] = _mm512_shuffle_i32x4(t[i + 4], t[i + 12], 0xdd);
    }
}

/* n blocks of every lane: lane i reads its blocks from p[i] on. */
X16_TARGET static void blocks_x16(__m512i st[8], const uint8_t *const p[LANES], size_t n)
{
    const __m512i swap = _mm512_set4_epi32(0x0c0d0e0f, 0x08090a0b, 0x04050607, 0x00010203);
    for (size_t blk = 0; blk < n; blk++) {
        __m512i w[16];
        for (int i = 0; i < LANES; i++)
            w[i] = _mm512_shuffle_epi8(_mm512_loadu_si512(p[i] + 64 * blk), swap);
        transpose(w);
        __m512i a = st[0], b = st[1], c = st[2], d = st[3];
        __m512i e = st[4], f = st[5], g = st[6], h = st[7];
        for (int t = 0; t < 64; t += 16) {
            if (t)
                for (int j = 0; j < 16; j++)
                    w[j] = ADD(ADD(w[j], SMALL_SIGMA0(w[(j + 1) & 15])),
                               ADD(w[(j + 9) & 15], SMALL_SIGMA1(w[(j + 14) & 15])));
            ROUND(a, b, c, d, e, f, g, h, w[0], t + 0);
            ROUND(h, a, b, c, d, e, f, g, w[1], t + 1);
            ROUND(g, h, a, b, c, d, e, f, w[2], t + 2);
            ROUND(f, g, h, a, b, c, d, e, w[3], t + 3);
            ROUND(e, f, g, h, a, b, c, d, w[4], t + 4);
            ROUND(d, e, f, g, h, a, b, c, w[5], t + 5);
            ROUND(c, d, e, f, g, h, a, b, w[6], t + 6);
            ROUND(b, c, d, e, f, g, h, a, w[7], t + 7);
            ROUND(a, b, c, d, e, f, g, h, w[8], t + 8);
            ROUND(h, a, b, c, d, e, f, g, w[9], t + 9);
            ROUND(g, h, a, b, c, d, e, f, w[10], t + 10);
            ROUND(f, g, h, a, b, c, d, e, w[11], t + 11);
            ROUND(e, f, g, h, a, b, c, d, w[12], t + 12);
            ROUND(d, e, f, g, h, a, b, c, w[13], t + 13);
            ROUND(c, d, e, f, g, h, a, b, w[14], t + 14);
            ROUND(b, c, d, e, f, g, h, a, w[15], t + 15);
        }
        st[0] = ADD(st[0], a);
        st[1] = ADD(st[1], b);
        st[2] = ADD(st[2], c);
        st[3] = ADD(st[3], d);
        st[4] = ADD(st[4], e);
        st[5] = ADD(st[5], f);
        st[6] = ADD(st[6], g);
        st[7] = ADD(st[7], h);
    }
}

X16_TARGET static void lane_put(__m512i st[8], int lane, const uint32_t words[8])
{
    for (int j = 0; j < 8; j++)
        st[j] = _mm512_mask_set1_epi32(st[j], (__mmask16)(1u << lane), (int)words[j]);
}

X16_TARGET static void lane_get(const __m512i st[8], int lane, uint32_t words[8])
{
    uint32_t all[LANES];
    for (int j = 0; j < 8; j++) {
        _mm512_storeu_si512(all, st[j]);
        words[j] = all[lane];
    }
}

X16_TARGET size_t dv_sha256x16_run(dv_sha256_job **jobs, size_t n, size_t keep, uint8_t (*out)[32])
{
    __m512i st[8];
    dv_sha256_job *lane[LANES] = {0};
    const uint8_t *at[LANES];
    size_t next = 0, active = 0;
    for (int j = 0; j < 8; j++)
        st[j] = _mm512_setzero_si512();
    for (;;) {
        for (int i = 0; i < LANES && next < n; i++) {
            if (!lane[i]) {
                lane[i] = jobs[next++];
                lane_put(st, i, lane[i]->state);
                active++;
            }
        }
        if (active == 0 || (next == n && active < keep))
            break;
        /* As many blocks as every busy lane has; idle lanes hash a busy lane's bytes
         * into a state nobody reads. */
        size_t k = SIZE_MAX;
        const uint8_t *any = NULL;
        for (int i = 0; i < LANES; i++) {
            if (lane[i] && lane[i]->blocks < k) {
                k = lane[i]->blocks;
                any = lane[i]->next;
            }
        }
        for (int i = 0; i < LANES; i++)
            at[i] = lane[i] ? lane[i]->next : any;
        blocks_x16(st, at, k);
        for (int i = 0; i < LANES; i++) {
            dv_sha256_job *job = lane[i];
            if (!job)
                continue;
            job->next += 64 * k;
            job->blocks -= k;
            if (!dv_sha256_job_advance(job)) {
                lane_get(st, i, job->state);
                dv_sha256_job_digest(job, out[job->index]);
                lane[i] = NULL;
                active--;
            }
        }
    }
    size_t left = 0;
    for (int i = 0; i < LANES; i++) {
        if (lane[i]) {
            lane_get(st, i, lane[i]->state);
            jobs[left++] = lane[i];
        }
    }
    return left;
}

int dv_sha256x16_available(void)
{
    return dv_cpu_has_avx512();
}

#else

size_t dv_sha256x16_run(dv_sha256_job **jobs, size_t n, size_t keep, uint8_t (*out)[32])
{
    (void)jobs, (void)keep, (void)out;
    return n;
}

int dv_sha256x16_available(void)
{
    return 0;
}

#endif
