/*
 * Tests for core/chunker: the gear table, the cut rule of docs/formats.md
 * ("Chunking") pinned on a fixed input, and boundaries that do not depend on
 * buffer sizes or threads.
 */
#include <criterion/criterion.h>

#include "core/base/bytes.h"
#include "core/base/error.h"
#include "core/data/chunker.h"
#include "core/object/hash.h"
#include "core/simd/gearx8.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MIB ((size_t)1024 * 1024)

/*
 * The documented test input: block k (k = 0, 1, ...) is SHA-256 of the 13 ASCII
 * bytes "dv-test-input" followed by k as a big-endian uint64; the blocks are
 * concatenated and the result cut to len bytes.
 */
static uint8_t *test_input(size_t len)
{
    uint8_t *data = malloc(len ? len : 1);
    uint8_t block_input[13 + 8];
    dv_oid block;

    cr_assert_not_null(data);
    memcpy(block_input, "dv-test-input", 13);
    for (uint64_t k = 0; k * DV_OID_BYTES < len; k++) {
        size_t offset = (size_t)k * DV_OID_BYTES;
        size_t n = len - offset < DV_OID_BYTES ? len - offset : DV_OID_BYTES;
        dv_put_be64(block_input + 13, k);
        cr_assert_eq(dv_hash_buffer(&block, block_input, sizeof(block_input)), 0);
        memcpy(data + offset, block.id, n);
    }
    return data;
}

typedef struct chunk_list {
    size_t *lens; /* chunk lengths in stream order; the last may be shorter than min */
    size_t n;
} chunk_list;

/* Chunk data fed to the chunker in pieces of at most piece bytes; wide is 0 or 1 to
 * choose the scan (gearx8.h or one lane), -1 to keep the one dv_chunker_init chose. */
static chunk_list chunk_stream_with(const dv_chunk_params *p, const uint8_t *data, size_t len,
                                    size_t piece, int wide)
{
    chunk_list list = {calloc(len / p->min + 2, sizeof(size_t)), 0};
    dv_chunker chunker;
    size_t offset = 0, chunk_start = 0;

    cr_assert_not_null(list.lens);
    dv_chunker_init(&chunker, p);
    if (wide >= 0)
        chunker.wide = wide;
    while (offset < len) {
        size_t piece_end = len - offset < piece ? len : offset + piece;
        while (offset < piece_end) {
            int cut = 0;
            size_t used = dv_chunker_scan(&chunker, data + offset, piece_end - offset, &cut);
            cr_assert(used <= piece_end - offset);
            cr_assert(cut || used == piece_end - offset, "no cut but only %zu of %zu used", used,
                      piece_end - offset);
            offset += used;
            if (cut) {
                list.lens[list.n++] = offset - chunk_start;
                chunk_start = offset;
            }
        }
    }
    if (chunk_start < len)
        list.lens[list.n++] = len - chunk_start;
    return list;
}

static chunk_list chunk_stream(const dv_chunk_params *p, const uint8_t *data, size_t len,
                               size_t piece)
{
    return chunk_stream_with(p, data, len, piece, -1);
}

static void assert_same_chunks(const chunk_list *a, const chunk_list *b, const char *what)
{
    cr_assert_eq(a->n, b->n, "%s: %zu chunks vs %zu", what, a->n, b->n);
    for (size_t i = 0; i < a->n; i++)
        cr_assert_eq(a->lens[i], b->lens[i], "%s: chunk %zu is %zu bytes vs %zu", what, i,
                     a->lens[i], b->lens[i]);
}

static void assert_within_limits(const chunk_list *list, const dv_chunk_params *p, size_t len)
{
    size_t total = 0;
    cr_assert_gt(list->n, 0);
    for (size_t i = 0; i < list->n; i++) {
        total += list->lens[i];
        cr_assert_leq(list->lens[i], p->max, "chunk %zu is %zu bytes, over max", i, list->lens[i]);
        if (i + 1 < list->n)
            cr_assert_geq(list->lens[i], p->min, "chunk %zu is %zu bytes, under min", i,
                          list->lens[i]);
        else
            cr_assert_gt(list->lens[i], 0);
    }
    cr_assert_eq(total, len);
}

Test(chunker, gear_table_follows_the_documented_sha256_rule)
{
    const uint64_t *gear = dv_chunker_gear_table();

    /* printf 'dv-gear-v1\x00' | sha256sum, and \x01, \xff: first 8 bytes. */
    cr_assert_eq(gear[0], UINT64_C(0x1ae258fee01995a8));
    cr_assert_eq(gear[1], UINT64_C(0x6f44590363d97de4));
    cr_assert_eq(gear[255], UINT64_C(0xf1086a672514335a));
    cr_assert_eq(dv_chunker_gear_table(), gear, "the table is computed once");

    uint8_t seed[11];
    dv_oid digest;
    memcpy(seed, "dv-gear-v1", 10);
    for (unsigned i = 0; i < 256; i++) {
        seed[10] = (uint8_t)i;
        cr_assert_eq(dv_hash_buffer(&digest, seed, sizeof(seed)), 0);
        cr_assert_eq(gear[i], dv_get_be64(digest.id), "gear[%u]", i);
    }
}

Test(chunker, test_input_generator_is_the_documented_one)
{
    /* printf 'dv-test-input\0\0\0\0\0\0\0\0' | sha256sum */
    static const uint8_t first_block[32] = {0x72, 0x8b, 0x1b, 0x22, 0xc5, 0xb1, 0x32, 0x62,
                                            0x23, 0xca, 0xc3, 0x69, 0x5f, 0x21, 0xc0, 0xa3,
                                            0xb2, 0x2b, 0x38, 0xd4, 0xa1, 0xa7, 0xa2, 0xca,
                                            0x93, 0xed, 0x34, 0xbb, 0x26, 0x37, 0xb1, 0xea};
    uint8_t *data = test_input(40);

    cr_assert_arr_eq(data, first_block, sizeof(first_block));
    free(data);
}

/* Chunking len bytes of the test input with p gives exactly the chunk lengths expected. */
static void assert_boundaries(const dv_chunk_params *p, size_t len, const size_t *expected,
                              size_t n_expected)
{
    uint8_t *data = test_input(len);
    chunk_list list = chunk_stream(p, data, len, len);
    cr_assert_eq(list.n, n_expected, "%zu chunks", list.n);
    for (size_t i = 0; i < n_expected; i++)
        cr_assert_eq(list.lens[i], expected[i], "chunk %zu is %zu bytes, expected %zu", i,
                     list.lens[i], expected[i]);
    free(list.lens);
    free(data);
}

/* Computed by an independent implementation written from docs/formats.md. */
Test(chunker, first_mebibyte_of_test_input_has_the_documented_boundaries)
{
    static const size_t expected[] = {75420,  138293, 155053, 57145, 173425, 89573,
                                      108912, 66789,  69453,  65912, 48601};
    dv_chunk_params p = dv_chunk_params_default();
    assert_boundaries(&p, MIB, expected, sizeof(expected) / sizeof(expected[0]));
}

/* min = 64 hashes from the first byte of each chunk (no skipped prefix). */
Test(chunker, smallest_params_give_the_documented_boundaries)
{
    static const size_t expected[] = {113, 75,  66,  382, 452, 190, 512, 281, 353, 422,
                                      227, 244, 242, 512, 351, 469, 79,  217, 102, 308,
                                      203, 192, 333, 501, 197, 164, 217, 283, 225, 280};
    dv_chunk_params p = {64, 256, 512};
    assert_boundaries(&p, 8192, expected, sizeof(expected) / sizeof(expected[0]));
}

Test(chunker, boundaries_do_not_depend_on_buffer_size)
{
    static const size_t pieces[] = {1, 7, 4096, 65536, MIB};
    const size_t len = 8 * MIB;
    dv_chunk_params params[] = {dv_chunk_params_default(), {64, 256, 512}, {1000, 4096, 5000}};
    uint8_t *data = test_input(len);

    for (size_t k = 0; k < sizeof(params) / sizeof(params[0]); k++) {
        chunk_list whole = chunk_stream(&params[k], data, len, len);
        cr_assert_gt(whole.n, len / params[k].max, "params %zu: some chunks", k);
        for (size_t i = 0; i < sizeof(pieces) / sizeof(pieces[0]); i++) {
            char what[64];
            snprintf(what, sizeof(what), "params %zu, pieces of %zu", k, pieces[i]);
            chunk_list split = chunk_stream(&params[k], data, len, pieces[i]);
            assert_same_chunks(&whole, &split, what);
            free(split.lens);
        }
        free(whole.lens);
    }
    free(data);
}

/* gearx8's eight lanes and the one-lane loop cut alike, also where cuts come often
 * (avg 8 KiB with no min: most stretches hold one) and across buffer ends. */
Test(chunker, wide_and_one_lane_scans_give_the_same_boundaries)
{
    if (!dv_gearx8_available())
        cr_skip_test("this CPU has no AVX-512");
    static const size_t pieces[] = {7, 4159, 65536, 16 * MIB};
    const size_t len = 16 * MIB;
    dv_chunk_params params[] = {
        dv_chunk_params_default(), {4096, 16384, 65536}, {64, 8192, 16 * MIB}, {64, 128, 65536}};
    uint8_t *data = test_input(len);

    for (size_t k = 0; k < sizeof(params) / sizeof(params[0]); k++) {
        chunk_list one = chunk_stream_with(&params[k], data, len, len, 0);
        cr_assert_gt(one.n, len / params[k].max, "params %zu: some chunks", k);
        for (size_t i = 0; i < sizeof(pieces) / sizeof(pieces[0]); i++) {
            char what[64];
            snprintf(what, sizeof(what), "params %zu, wide, pieces of %zu", k, pieces[i]);
            chunk_list wide = chunk_stream_with(&params[k], data, len, pieces[i], 1);
            assert_same_chunks(&one, &wide, what);
            free(wide.lens);
        }
        free(one.lens);
    }
    free(data);
}

typedef struct thread_job {
    const uint8_t *data;
    size_t len;
    size_t piece;
    pthread_barrier_t *barrier;
    chunk_list result;
} thread_job;

static void *chunk_in_thread(void *arg)
{
    thread_job *job = arg;
    dv_chunk_params p = dv_chunk_params_default();

    /* Both threads start together, so they also race for the first gear table use. */
    pthread_barrier_wait(job->barrier);
    job->result = chunk_stream(&p, job->data, job->len, job->piece);
    return NULL;
}

Test(chunker, boundaries_do_not_depend_on_threads)
{
    const size_t len = 8 * MIB;
    uint8_t *data = test_input(len);
    pthread_barrier_t barrier;
    thread_job jobs[2] = {{data, len, 4096, &barrier, {NULL, 0}},
                          {data, len, MIB, &barrier, {NULL, 0}}};
    pthread_t threads[2];

    cr_assert_eq(pthread_barrier_init(&barrier, NULL, 2), 0);
    for (int i = 0; i < 2; i++)
        cr_assert_eq(pthread_create(&threads[i], NULL, chunk_in_thread, &jobs[i]), 0);
    for (int i = 0; i < 2; i++)
        cr_assert_eq(pthread_join(threads[i], NULL), 0);
    pthread_barrier_destroy(&barrier);

    dv_chunk_params p = dv_chunk_params_default();
    chunk_list alone = chunk_stream(&p, data, len, len);
    assert_same_chunks(&jobs[0].result, &jobs[1].result, "thread vs thread");
    assert_same_chunks(&jobs[0].result, &alone, "thread vs main");
    cr_assert_gt(alone.n, 50);
    free(alone.lens);
    free(jobs[0].result.lens);
    free(jobs[1].result.lens);
    free(data);
}

Test(chunker, chunks_respect_min_and_max_on_random_input)
{
    const size_t len = 8 * MIB;
    dv_chunk_params params[] = {dv_chunk_params_default(), {64, 128, 256}, {1000, 4096, 5000}};
    uint8_t *data = test_input(len);

    for (size_t k = 0; k < sizeof(params) / sizeof(params[0]); k++) {
        chunk_list list = chunk_stream(&params[k], data, len, 65536);
        assert_within_limits(&list, &params[k], len);
        free(list.lens);
    }
    /* {1000, 4096, 5000}: max is hit often enough on 8 MiB to see it enforced. */
    chunk_list list = chunk_stream(&params[2], data, len, len);
    size_t n_max = 0;
    for (size_t i = 0; i < list.n; i++)
        n_max += list.lens[i] == params[2].max;
    cr_assert_gt(n_max, 0, "no chunk reached max, so max was not exercised");
    free(list.lens);
    free(data);
}

/*
 * On zeros, once 64 bytes are hashed (which is always the case at length min,
 * because hashing starts at min - 64), h = sum over k < 64 of G[0] << k
 * = G[0] * (2^64 - 1) = -G[0] mod 2^64 = 0xe51da7011fe66a58, constant from then
 * on. Its top bit is set, so neither mask ever matches: every chunk is cut at
 * max, and the last one is the remainder.
 */
Test(chunker, zeros_are_cut_at_max)
{
    const uint64_t *gear = dv_chunker_gear_table();
    const uint64_t steady_hash = (uint64_t)0 - gear[0];
    const size_t len = 5 * DV_CHUNK_MAX_DEFAULT + 1000;
    dv_chunk_params params[] = {dv_chunk_params_default(), {64, 128, 256}};
    uint8_t *zeros = calloc(len, 1);

    cr_assert_eq(steady_hash, UINT64_C(0xe51da7011fe66a58));
    cr_assert(steady_hash >> 63, "top bit set, so no mask can match");
    cr_assert_not_null(zeros);
    for (size_t k = 0; k < sizeof(params) / sizeof(params[0]); k++) {
        chunk_list list = chunk_stream(&params[k], zeros, len, 4096);
        size_t n_full = len / params[k].max;
        cr_assert_eq(list.n, n_full + 1);
        for (size_t i = 0; i < n_full; i++)
            cr_assert_eq(list.lens[i], params[k].max, "params %zu, chunk %zu", k, i);
        cr_assert_eq(list.lens[n_full], len % params[k].max);
        free(list.lens);
    }
    free(zeros);
}

/*
 * Take a 64-byte window w from the test input whose gear hash already matches
 * the default mask_small, and repeat it. The hash at every multiple of 64 bytes
 * into a chunk is then hash(w), so the content asks for a cut every 64 bytes:
 * with min = 64 that is what happens, and with the defaults every chunk must be
 * exactly min (16384, a multiple of 64) long.
 */
Test(chunker, content_that_would_cut_early_is_cut_at_min)
{
    const uint64_t *gear = dv_chunker_gear_table();
    const uint64_t mask_small = ~UINT64_C(0) << (64 - 17); /* avg 64 KiB: b + 1 = 17 bits */
    const size_t search_len = 4 * MIB, len = 2 * MIB;
    uint8_t *input = test_input(search_len);
    uint8_t *data = malloc(len);
    uint64_t hash = 0;
    size_t window_end = 0;

    cr_assert_not_null(data);
    for (size_t i = 0; i < search_len; i++) {
        hash = (hash << 1) + gear[input[i]];
        if (i >= 63 && !(hash & mask_small)) {
            window_end = i + 1;
            break;
        }
    }
    cr_assert_gt(window_end, 0, "no matching window in the test input");
    for (size_t offset = 0; offset < len; offset += 64)
        memcpy(data + offset, input + window_end - 64, 64);

    dv_chunk_params eager = {64, 65536, 262144};
    chunk_list list = chunk_stream(&eager, data, len, 65536);
    cr_assert_eq(list.n, len / 64);
    for (size_t i = 0; i < list.n; i++)
        cr_assert_eq(list.lens[i], 64, "with min 64, chunk %zu", i);
    free(list.lens);

    dv_chunk_params p = dv_chunk_params_default();
    list = chunk_stream(&p, data, len, 65536);
    cr_assert_eq(list.n, len / p.min);
    for (size_t i = 0; i < list.n; i++)
        cr_assert_eq(list.lens[i], p.min, "with the defaults, chunk %zu", i);
    free(list.lens);
    free(data);
    free(input);
}

Test(chunker, reset_forgets_the_current_chunk)
{
    const size_t len = MIB, offset = 30000;
    dv_chunk_params p = dv_chunk_params_default();
    uint8_t *data = test_input(len);
    dv_chunker chunker;
    int cut = 1;

    dv_chunker_init(&chunker, &p);
    /* Scan part of a chunk (no cut this early: 30000 < the first boundary, 75420). */
    cr_assert_eq(dv_chunker_scan(&chunker, data, offset, &cut), offset);
    cr_assert_eq(cut, 0);
    dv_chunker_reset(&chunker);

    chunk_list fresh = chunk_stream(&p, data + offset, len - offset, len);
    size_t used = dv_chunker_scan(&chunker, data + offset, len - offset, &cut);
    cr_assert_eq(cut, 1);
    cr_assert_eq(used, fresh.lens[0], "after reset the chunk is %zu bytes, fresh %zu", used,
                 fresh.lens[0]);
    free(fresh.lens);
    free(data);
}

Test(chunker, scan_of_nothing_changes_nothing)
{
    dv_chunk_params p = dv_chunk_params_default();
    dv_chunker chunker;
    int cut = 1;

    dv_chunker_init(&chunker, &p);
    cr_assert_eq(dv_chunker_scan(&chunker, NULL, 0, &cut), 0);
    cr_assert_eq(cut, 0);
    cr_assert_eq(chunker.pos, 0);
}

static void assert_rejected(dv_chunk_params p, const char *message)
{
    dv_error_clear();
    cr_assert_eq(dv_chunk_params_check(&p), DV_EUSAGE, "min %u avg %u max %u accepted", p.min,
                 p.avg, p.max);
    cr_assert_eq(dv_error_last_code(), DV_EUSAGE);
    cr_assert_str_eq(dv_error_last(), message);
}

Test(chunker, params_check_rejects_bad_params)
{
    dv_chunk_params p = dv_chunk_params_default();
    cr_assert_eq(p.min, 16384);
    cr_assert_eq(p.avg, 65536);
    cr_assert_eq(p.max, 262144);
    cr_assert_eq(dv_chunk_params_check(&p), 0);
    cr_assert_eq(dv_chunk_params_check(&(dv_chunk_params){64, 128, 129}), 0);
    cr_assert_eq(dv_chunk_params_check(&(dv_chunk_params){64, 8388608, DV_CHUNK_MAX_LIMIT}), 0);

    assert_rejected((dv_chunk_params){63, 128, 256}, "chunking.min must be at least 64 (got 63)");
    assert_rejected((dv_chunk_params){0, 128, 256}, "chunking.min must be at least 64 (got 0)");
    assert_rejected((dv_chunk_params){16384, 60000, 262144},
                    "chunking.avg must be a power of two (got 60000)");
    assert_rejected((dv_chunk_params){16384, 0, 262144},
                    "chunking.avg must be a power of two (got 0)");
    assert_rejected((dv_chunk_params){65536, 65536, 262144},
                    "chunking.min must be less than chunking.avg (got min 65536, avg 65536)");
    assert_rejected((dv_chunk_params){100000, 65536, 262144},
                    "chunking.min must be less than chunking.avg (got min 100000, avg 65536)");
    assert_rejected((dv_chunk_params){16384, 65536, 65536},
                    "chunking.avg must be less than chunking.max (got avg 65536, max 65536)");
    assert_rejected((dv_chunk_params){16384, 65536, 0},
                    "chunking.avg must be less than chunking.max (got avg 65536, max 0)");
    assert_rejected((dv_chunk_params){16384, 65536, DV_CHUNK_MAX_LIMIT + 1},
                    "chunking.max must be at most 16777216 (got 16777217)");
    assert_rejected((dv_chunk_params){16384, 1u << 31, 4294967295u},
                    "chunking.max must be at most 16777216 (got 4294967295)");
}

/*
 * With the defaults, the expected chunk length on random data is about 74800
 * bytes (16 KiB + the waits under the 18-bit mask up to 64 KiB and the 14-bit
 * mask after it). 64 MiB gives about 900 chunks, so the mean is within a few
 * hundred bytes of that; the band only catches a broken rule.
 */
Test(chunker, average_chunk_size_is_near_avg_on_random_input)
{
    const size_t len = 64 * MIB;
    dv_chunk_params p = dv_chunk_params_default();
    uint8_t *data = test_input(len);
    chunk_list list = chunk_stream(&p, data, len, MIB);
    double mean = (double)len / (double)list.n;

    cr_log_info("mean chunk length over 64 MiB: %.0f bytes (%zu chunks)", mean, list.n);
    cr_assert(mean > 0.9 * p.avg && mean < 1.4 * p.avg, "mean chunk length %.0f", mean);
    free(list.lens);
    free(data);
}
