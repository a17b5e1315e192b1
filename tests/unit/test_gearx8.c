/*
 * Tests for core/gearx8: the eight-lane gear hash against the one-byte rule
 * h = (h << 1) + gear[byte] of docs/formats.md, on random bytes and masks that hit
 * often, never, and everywhere, with hits in the warm-up and at lane edges.
 */
#include <criterion/criterion.h>

#include "core/data/chunker.h"
#include "core/simd/gearx8.h"

#include <stdlib.h>
#include <string.h>

#define SPAN 64u
#define STRETCH DV_GEARX8_STRETCH_BYTES(SPAN)

static uint64_t next_random(uint64_t *state)
{
    *state = *state * 6364136223846793005u + 1442695040888963407u;
    return *state >> 11 ^ *state << 29;
}

/* The one-byte rule over data[0, len) from hash; the first index whose hash has
 * (h & mask) == 0, or len. *hash_out is the hash at the end when there is none. */
static size_t first_hit(const uint64_t *gear, const uint8_t *data, size_t len, uint64_t hash,
                        uint64_t mask, uint64_t *hash_out)
{
    for (size_t i = 0; i < len; i++) {
        hash = (hash << 1) + gear[data[i]];
        if (!(hash & mask))
            return i;
    }
    *hash_out = hash;
    return len;
}

static uint64_t hash_at(const uint64_t *gear, const uint8_t *data, size_t index, uint64_t hash)
{
    for (size_t i = 0; i <= index; i++)
        hash = (hash << 1) + gear[data[i]];
    return hash;
}

static void check_stretch(const uint8_t *data, size_t span, uint64_t hash, uint64_t mask)
{
    const uint64_t *gear = dv_chunker_gear_table();
    size_t len = DV_GEARX8_STRETCH_BYTES(span), bound = len;
    uint64_t want_hash = hash, got_hash = hash;
    size_t first = first_hit(gear, data, len, hash, mask, &want_hash);

    int hit = dv_gearx8_scan(gear, data, span, mask, &got_hash, &bound);
    if (first == len) {
        cr_assert_eq(hit, 0, "no position hits, but the scan says one does (bound %zu)", bound);
        cr_assert_eq(got_hash, want_hash, "the hash at the stretch's end");
        return;
    }
    cr_assert_eq(hit, 1, "position %zu hits, the scan saw none", first);
    cr_assert_eq(got_hash, hash, "the hash is left as it was on a hit");
    cr_assert(bound >= first && bound < len, "bound %zu, first hit %zu, stretch %zu", bound, first,
              len);
    cr_assert_eq(hash_at(gear, data, bound, hash) & mask, 0, "bound %zu is itself a hit", bound);
}

Test(gearx8, agrees_with_the_one_byte_rule_on_random_bytes)
{
    if (!dv_gearx8_available())
        cr_skip_test("this CPU has no AVX-512");
    static const size_t spans[] = {64, 65, 512, 4096};
    static const unsigned mask_bits[] = {0, 3, 9, 13, 17};
    uint64_t state = 42;
    uint8_t *data = malloc(DV_GEARX8_STRETCH_BYTES(4096));
    cr_assert_not_null(data);

    for (int round = 0; round < 400; round++) {
        size_t span = spans[round % 4];
        unsigned bits = mask_bits[(round / 4) % 5];
        uint64_t mask = bits ? ~UINT64_C(0) << (64 - bits) : ~UINT64_C(0) >> 40 << 40;
        for (size_t i = 0; i < DV_GEARX8_STRETCH_BYTES(span); i++)
            data[i] = (uint8_t)next_random(&state);
        check_stretch(data, span, next_random(&state), mask);
    }
    free(data);
}

/* mask 0 makes every position a hit: the first is index 0 of lane 0. */
Test(gearx8, every_position_hitting_bounds_at_the_first_byte)
{
    if (!dv_gearx8_available())
        cr_skip_test("this CPU has no AVX-512");
    uint8_t data[STRETCH];
    memset(data, 0x5a, sizeof(data));
    uint64_t hash = 7;
    size_t bound = 99;
    cr_assert_eq(dv_gearx8_scan(dv_chunker_gear_table(), data, SPAN, 0, &hash, &bound), 1);
    cr_assert_eq(bound, 0);
}

/* One hit placed at each index of the stretch in turn, by choosing the mask as the
 * bits where that position's hash is zero and the others are not all zero. */
Test(gearx8, a_single_hit_is_found_wherever_it_is)
{
    if (!dv_gearx8_available())
        cr_skip_test("this CPU has no AVX-512");
    const uint64_t *gear = dv_chunker_gear_table();
    uint64_t state = 7;
    uint8_t data[STRETCH];
    for (size_t i = 0; i < STRETCH; i++)
        data[i] = (uint8_t)next_random(&state);
    uint64_t start = next_random(&state);
    uint64_t hashes[STRETCH];
    uint64_t h = start;
    for (size_t i = 0; i < STRETCH; i++)
        hashes[i] = h = (h << 1) + gear[data[i]];

    size_t placed = 0;
    for (size_t target = 0; target < STRETCH; target++) {
        /* The bit of the target's hash that is zero and set in most other hashes. */
        uint64_t mask = ~hashes[target];
        int unique = 1;
        for (size_t i = 0; i < STRETCH && unique; i++)
            if (i != target && !(hashes[i] & mask))
                unique = 0;
        if (!unique)
            continue;
        uint64_t got = start;
        size_t bound = STRETCH;
        cr_assert_eq(dv_gearx8_scan(gear, data, SPAN, mask, &got, &bound), 1, "target %zu", target);
        cr_assert_eq(bound, target, "the only hit is at %zu", target);
        placed++;
    }
    cr_assert_gt(placed, STRETCH / 2, "most positions could be made the only hit (%zu)", placed);
}
