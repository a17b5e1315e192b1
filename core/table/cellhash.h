/*
 * cellhash: a fast 64-bit hash of a table cell's bytes, for matching rows and values in
 * the table diff. Not cryptographic: two different cells may share a hash (about one pair
 * in 2^64), which the table diff accounts for where it matters.
 */
#ifndef DV_CELLHASH_H
#define DV_CELLHASH_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

static inline uint64_t dv_cellhash__mix(uint64_t a, uint64_t b)
{
    __uint128_t m = (__uint128_t)a * b;
    return (uint64_t)m ^ (uint64_t)(m >> 64);
}

static inline uint64_t dv_cellhash__read64(const unsigned char *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
}

static inline uint64_t dv_cellhash__read32(const unsigned char *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}

/* The len < 8 bytes at p as a little-endian number, in two or three loads that overlap
 * instead of a loop of len steps (the same value: an overlapped byte is ORed onto itself). */
static inline uint64_t dv_cellhash__read_short(const unsigned char *p, size_t len)
{
    if (len >= 4)
        return dv_cellhash__read32(p) | dv_cellhash__read32(p + len - 4) << (8 * (len - 4));
    if (!len)
        return 0;
    return (uint64_t)p[0] | (uint64_t)p[len / 2] << (8 * (len / 2)) |
           (uint64_t)p[len - 1] << (8 * (len - 1));
}

/** The hash of len bytes at data under seed. */
static inline uint64_t dv_cellhash(const void *data, size_t len, uint64_t seed)
{
    const uint64_t k0 = 0xa0761d6478bd642full, k1 = 0xe7037ed1a0b428dbull,
                   k2 = 0x8ebc6af09c88c6e3ull;
    const unsigned char *p = data;
    uint64_t h = seed ^ k0 ^ ((uint64_t)len * k2);
    while (len >= 16) {
        h = dv_cellhash__mix(dv_cellhash__read64(p) ^ k1, dv_cellhash__read64(p + 8) ^ h);
        p += 16;
        len -= 16;
    }
    uint64_t a = 0, b;
    if (len >= 8) {
        a = dv_cellhash__read64(p);
        len -= 8;
        p += 8;
    }
    b = dv_cellhash__read_short(p, len);
    return dv_cellhash__mix(h ^ a ^ k1, b ^ k2 ^ ((uint64_t)len << 56));
}

/** Combine hashes in order (for a row's hash from its cells'). */
static inline uint64_t dv_cellhash_combine(uint64_t h, uint64_t cell)
{
    return dv_cellhash__mix(h ^ 0x589965cc75374cc3ull, cell ^ 0x1d8e4e27c47d124full);
}

#endif
