/*
 * gearx8: eight gear hashes side by side.
 *
 * With h = (h << 1) + gear[byte], a byte's term is shifted out of h 64 bytes later,
 * so the hash at a position is the same whatever came before its 64-byte window.
 * Lane 0 carries on from the caller's hash at data[0]; lane j (1..7) starts from 0
 * at data[j * span] and, after 64 bytes of warm-up, holds true hashes from
 * data[j * span + 64] on. Every step reads byte j * span + t of each lane, so the
 * lanes cover the stretch in order: lane 0 [0, span + 64), lane j
 * [j * span + 64, (j + 1) * span + 64). The lookups are eight scalar loads put into
 * one register; on the processors measured this beat the gather instruction.
 */
#include "core/simd/gearx8.h"

#include "core/simd/cpu.h"

#include <assert.h>

#if defined(__x86_64__)
#include <immintrin.h>

#define X8_TARGET __attribute__((target("avx512f,avx512bw")))

X8_TARGET static inline __m512i lookup(const uint64_t *gear, const uint8_t *at, size_t span)
{
    return _mm512_set_epi64((long long)gear[at[7 * span]], (long long)gear[at[6 * span]],
                            (long long)gear[at[5 * span]], (long long)gear[at[4 * span]],
                            (long long)gear[at[3 * span]], (long long)gear[at[2 * span]],
                            (long long)gear[at[span]], (long long)gear[at[0]]);
}

X8_TARGET int dv_gearx8_scan(const uint64_t *gear, const uint8_t *data, size_t span, uint64_t mask,
                             uint64_t *hash, size_t *bound)
{
    assert(gear && data && hash && bound && span >= 64);
    const __m512i vmask = _mm512_set1_epi64((long long)mask);
    __m512i h = _mm512_set_epi64(0, 0, 0, 0, 0, 0, 0, (long long)*hash);
    size_t t;

    /* Warm-up of lanes 1..7; only lane 0's hashes are true yet. */
    for (t = 0; t < 64; t++) {
        h = _mm512_add_epi64(_mm512_slli_epi64(h, 1), lookup(gear, data + t, span));
        if (__builtin_expect(_mm512_mask_testn_epi64_mask(1, h, vmask) != 0, 0)) {
            *bound = t;
            return 1;
        }
    }
    for (; t < span + 64; t++) {
        h = _mm512_add_epi64(_mm512_slli_epi64(h, 1), lookup(gear, data + t, span));
        __mmask8 hit = _mm512_testn_epi64_mask(h, vmask);
        if (__builtin_expect(hit != 0, 0)) {
            /* The lowest lane that hit holds the earliest position seen; lower lanes
             * may still hit later in their parts, which all come before it. */
            unsigned lane = (unsigned)__builtin_ctz(hit);
            *bound = lane * span + t;
            return 1;
        }
    }
    /* Lane 7's last position is the stretch's last byte. */
    *hash = (uint64_t)_mm_cvtsi128_si64(
        _mm512_castsi512_si128(_mm512_permutexvar_epi64(_mm512_set1_epi64(7), h)));
    return 0;
}

int dv_gearx8_available(void)
{
    return dv_cpu_has_avx512();
}

#else

int dv_gearx8_scan(const uint64_t *gear, const uint8_t *data, size_t span, uint64_t mask,
                   uint64_t *hash, size_t *bound)
{
    (void)gear, (void)data, (void)span, (void)mask, (void)hash, (void)bound;
    assert(!"dv_gearx8_scan without dv_gearx8_available");
    return 0;
}

int dv_gearx8_available(void)
{
    return 0;
}

#endif
