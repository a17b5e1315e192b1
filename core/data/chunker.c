/*
 * chunker: FastCDC content-defined chunking with normalized chunking (two masks).
 * The rule, the gear table and the masks are an on-disk contract, specified in
 * docs/formats.md ("Chunking"); change nothing here without changing that.
 */
#include "core/data/chunker.h"

#include "core/base/bytes.h"
#include "core/base/error.h"
#include "core/object/hash.h"
#include "core/simd/gearx8.h"

#include <assert.h>
#include <pthread.h>
#include <stdlib.h>

#define GEAR_SEED "dv-gear-v1"
#define GEAR_SEED_BYTES (sizeof(GEAR_SEED) - 1)
/* With h = (h << 1) + G[x], the term of a byte is shifted out after 64 more bytes. */
#define GEAR_WINDOW_BYTES 64u
/* Each of gearx8's eight lanes hashes this many bytes of a stretch. Longer parts
 * spend less on the 64-byte warm-up, shorter ones rescan less one byte at a time
 * when a stretch holds a cut. */
#define WIDE_SPAN_BYTES 512u
#define WIDE_STRETCH_BYTES DV_GEARX8_STRETCH_BYTES(WIDE_SPAN_BYTES)

static uint64_t gear_table[256];
static pthread_once_t gear_once = PTHREAD_ONCE_INIT;

static void gear_table_compute(void)
{
    uint8_t seed[GEAR_SEED_BYTES + 1];
    dv_oid digest;

    for (size_t i = 0; i < GEAR_SEED_BYTES; i++)
        seed[i] = (uint8_t)GEAR_SEED[i];
    for (unsigned i = 0; i < 256; i++) {
        seed[GEAR_SEED_BYTES] = (uint8_t)i;
        /*
         * Fails only if libcrypto cannot allocate a digest context. There is no
         * error path through pthread_once or dv_chunker_init, and a wrong table
         * would silently change every boundary, so stop rather than go on.
         */
        if (dv_hash_buffer(&digest, seed, sizeof(seed)) < 0)
            abort();
        gear_table[i] = dv_get_be64(digest.id);
    }
}

const uint64_t *dv_chunker_gear_table(void)
{
    if (pthread_once(&gear_once, gear_table_compute) != 0)
        abort(); /* only on misuse of pthread_once; see gear_table_compute */
    return gear_table;
}

dv_chunk_params dv_chunk_params_default(void)
{
    dv_chunk_params p = {DV_CHUNK_MIN_DEFAULT, DV_CHUNK_AVG_DEFAULT, DV_CHUNK_MAX_DEFAULT};
    return p;
}

int dv_chunk_params_check(const dv_chunk_params *p)
{
    assert(p);
    if (p->min < DV_CHUNK_MIN_LIMIT)
        return dv_error_set(DV_EUSAGE, "chunking.min must be at least %u (got %u)",
                            DV_CHUNK_MIN_LIMIT, p->min);
    if (p->avg == 0 || (p->avg & (p->avg - 1)) != 0)
        return dv_error_set(DV_EUSAGE, "chunking.avg must be a power of two (got %u)", p->avg);
    if (p->min >= p->avg)
        return dv_error_set(DV_EUSAGE,
                            "chunking.min must be less than chunking.avg (got min %u, avg %u)",
                            p->min, p->avg);
    if (p->avg >= p->max)
        return dv_error_set(DV_EUSAGE,
                            "chunking.avg must be less than chunking.max (got avg %u, max %u)",
                            p->avg, p->max);
    if (p->max > DV_CHUNK_MAX_LIMIT)
        return dv_error_set(DV_EUSAGE, "chunking.max must be at most %u (got %u)",
                            DV_CHUNK_MAX_LIMIT, p->max);
    return 0;
}

/* The top n bits of a uint64_t set; 0 < n < 64. */
static uint64_t top_bits(unsigned n)
{
    return ~UINT64_C(0) << (64 - n);
}

void dv_chunker_init(dv_chunker *c, const dv_chunk_params *p)
{
    assert(c && p);
    assert(dv_chunk_params_check(p) == 0);
    /* avg is a power of two in (64, 16 MiB), so 7 <= avg_bits <= 23 and both masks are valid. */
    unsigned avg_bits = (unsigned)__builtin_ctz(p->avg);

    c->gear = dv_chunker_gear_table();
    /* Normalization level 1 around N = avg - min: measured on a 1 GiB file with 161
     * scattered edits, it stores 12% less for the edit than level 2 around avg,
     * because the chunking falls back into step sooner after a change. */
    c->mask_small = top_bits(avg_bits + 1);
    c->mask_large = top_bits(avg_bits - 1);
    c->min = p->min;
    c->avg = p->avg - p->min; /* the normalization point N */
    c->max = p->max;
    c->wide = dv_gearx8_available();
    dv_chunker_reset(c);
}

void dv_chunker_reset(dv_chunker *c)
{
    c->hash = 0;
    c->pos = 0;
}

static size_t min_size(size_t a, size_t b)
{
    return a < b ? a : b;
}

/*
 * Positions below are indexes within the current chunk; the byte at index j
 * would end a chunk of length j + 1. The phases, each a loop without the
 * branches of the others:
 *   [0, start)          not read at all: their terms leave h before index min - 1
 *   [start, min - 1)    hash only
 *   [min - 1, avg - 1)  hash, cut where (h & mask_small) == 0
 *   [avg - 1, max - 1)  hash, cut where (h & mask_large) == 0
 *   max - 1             cut unconditionally
 * data[i] is at index base + i, where base is the index data[0] continues at.
 */
/*
 * Scan data[*i, end) testing every position against mask. Returns 1 with *i at the
 * cut byte, or 0 with *i == end. Same results as the one-byte loop
 *     hash = (hash << 1) + gear[data[i]]; if (!(hash & mask)) cut;
 * but four bytes per step: the hashes after each of the four bytes are
 * (h << 1) + k0, (h << 2) + k1, (h << 3) + k2, (h << 4) + k3 with k's that do not
 * depend on h, so they are computed in parallel instead of in a chain.
 */
static inline int scan_masked(const dv_chunker *c, const uint8_t *data, size_t *i_inout, size_t end,
                              uint64_t *hash_inout, uint64_t mask)
{
    const uint64_t *gear = c->gear;
    size_t i = *i_inout;
    uint64_t hash = *hash_inout;
    int wide_hit = 0;
    size_t bound;

    /* Whole stretches in eight lanes; the stretch that holds a cut is scanned again
     * below one byte at a time, up to the bound, to find the first one. */
    if (c->wide) {
        for (; end - i >= WIDE_STRETCH_BYTES; i += WIDE_STRETCH_BYTES) {
            if (dv_gearx8_scan(gear, data + i, WIDE_SPAN_BYTES, mask, &hash, &bound)) {
                end = i + bound + 1;
                wide_hit = 1;
                break;
            }
        }
    }
    for (; i + 4 <= end; i += 4) {
        uint64_t k0 = gear[data[i]];
        uint64_t k1 = (k0 << 1) + gear[data[i + 1]];
        uint64_t k2 = (k1 << 1) + gear[data[i + 2]];
        uint64_t k3 = (k2 << 1) + gear[data[i + 3]];
        uint64_t h0 = (hash << 1) + k0, h1 = (hash << 2) + k1;
        uint64_t h2 = (hash << 3) + k2, h3 = (hash << 4) + k3;
        if (__builtin_expect(!(h0 & mask) | !(h1 & mask) | !(h2 & mask) | !(h3 & mask), 0)) {
            if (!(h0 & mask))
                *hash_inout = h0;
            else if (!(h1 & mask))
                *hash_inout = h1, i += 1;
            else if (!(h2 & mask))
                *hash_inout = h2, i += 2;
            else
                *hash_inout = h3, i += 3;
            *i_inout = i;
            return 1;
        }
        hash = h3;
    }
    for (; i < end; i++) {
        hash = (hash << 1) + gear[data[i]];
        if (!(hash & mask)) {
            *hash_inout = hash;
            *i_inout = i;
            return 1;
        }
    }
    assert(!wide_hit); /* the wide scan saw a cut at or before end - 1 */
    (void)wide_hit;
    *hash_inout = hash;
    *i_inout = i;
    return 0;
}

size_t dv_chunker_scan(dv_chunker *c, const uint8_t *data, size_t len, int *cut)
{
    int hit;
    assert(c && cut && (data || len == 0));
    const uint64_t *gear = c->gear;
    const size_t base = c->pos;
    const size_t start = c->min > GEAR_WINDOW_BYTES ? c->min - GEAR_WINDOW_BYTES : 0;
    uint64_t hash = c->hash;
    uint64_t mask;
    size_t i = 0;
    size_t end;

    *cut = 0;
    if (base < start)
        i = min_size(len, start - base);

    if (base + i < c->min - 1u) {
        end = min_size(len, c->min - 1u - base);
        /* Four bytes at a time: h4 = (h << 4) + k, where k depends only on the
         * four bytes, so the loop-carried chain is one shift and one add. */
        for (; i + 4 <= end; i += 4) {
            uint64_t k = (gear[data[i]] << 3) + (gear[data[i + 1]] << 2) +
                         (gear[data[i + 2]] << 1) + gear[data[i + 3]];
            hash = (hash << 4) + k;
        }
        for (; i < end; i++)
            hash = (hash << 1) + gear[data[i]];
    }

    if (base + i < c->avg - 1u) {
        mask = c->mask_small;
        end = min_size(len, c->avg - 1u - base);
        if ((hit = scan_masked(c, data, &i, end, &hash, mask)))
            goto found;
    }

    if (base + i < c->max - 1u) {
        mask = c->mask_large;
        end = min_size(len, c->max - 1u - base);
        if ((hit = scan_masked(c, data, &i, end, &hash, mask)))
            goto found;
    }

    if (i < len) /* here base + i == max - 1: the byte that makes the chunk max long */
        goto found;

    c->hash = hash;
    c->pos = (uint32_t)(base + len); /* < max, since no cut */
    return len;

found:
    *cut = 1;
    dv_chunker_reset(c);
    return i + 1;
}
