/* Unit tests for core/hash: SHA-256 ids, one buffer at a time and many side by side. */
#include "core/object/hash.h"
#include "core/simd/sha256ni.h"
#include "core/simd/sha256x16.h"
#include "testutil.h"

#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

static void assert_hex(const dv_oid *id, const char *hex)
{
    char got[DV_OID_HEX_CHARS + 1];
    dv_oid_tohex(got, id);
    cr_assert_str_eq(got, hex);
}

/* FIPS 180-4 examples. */
static const struct {
    const char *msg;
    const char *hex;
} vectors[] = {
    {"", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
    {"abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
    {"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
     "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"},
    {"abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnop"
     "qrsmnopqrstnopqrstu",
     "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1"},
};

Test(hash, known_vectors_one_by_one_and_many)
{
    size_t n = sizeof(vectors) / sizeof(vectors[0]);
    const uint8_t *data[4];
    size_t lens[4];
    dv_oid ids[4];
    for (size_t i = 0; i < n; i++) {
        dv_oid id;
        cr_assert_eq(dv_hash_buffer(&id, vectors[i].msg, strlen(vectors[i].msg)), 0);
        assert_hex(&id, vectors[i].hex);
        data[i] = (const uint8_t *)vectors[i].msg;
        lens[i] = strlen(vectors[i].msg);
    }
    cr_assert_eq(dv_hash_many(ids, data, lens, n), 0);
    for (size_t i = 0; i < n; i++)
        assert_hex(&ids[i], vectors[i].hex);
}

Test(hash, a_million_a)
{
    size_t len = 1000000;
    uint8_t *m = malloc(len);
    cr_assert_not_null(m);
    memset(m, 'a', len);
    const uint8_t *data[2] = {m, m};
    size_t lens[2] = {len, len};
    dv_oid ids[2];
    cr_assert_eq(dv_hash_many(ids, data, lens, 2), 0);
    assert_hex(&ids[0], "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
    assert_hex(&ids[1], "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
    free(m);
}

/* Every padding case (tail lengths 0..63 and the 55/56 split into one or two final
 * blocks), lanes that run out at different times, and odd counts. */
static void check_many_against_one_by_one(size_t n, size_t (*length_of)(size_t, uint64_t *))
{
    uint64_t seed = 0x5eed + n;
    const uint8_t **data = calloc(n ? n : 1, sizeof(*data));
    size_t *lens = calloc(n ? n : 1, sizeof(*lens));
    dv_oid *many = calloc(n ? n : 1, sizeof(*many));
    cr_assert(data && lens && many);
    for (size_t i = 0; i < n; i++) {
        lens[i] = length_of(i, &seed);
        uint8_t *p = malloc(lens[i] + 1);
        cr_assert_not_null(p);
        fill_random(p, lens[i], i * 7919 + n);
        data[i] = p;
    }
    cr_assert_eq(dv_hash_many(many, data, lens, n), 0);
    for (size_t i = 0; i < n; i++) {
        dv_oid one;
        cr_assert_eq(dv_hash_buffer(&one, data[i], lens[i]), 0);
        cr_assert_eq(dv_oid_cmp(&one, &many[i]), 0, "buffer %zu of %zu, %zu bytes", i, n, lens[i]);
        free((void *)data[i]);
    }
    free(data);
    free(lens);
    free(many);
}

static size_t short_lengths(size_t i, uint64_t *seed)
{
    (void)seed;
    return i; /* 0, 1, 2, ...: every tail length, and both lanes finish at different blocks */
}

static size_t chunk_like_lengths(size_t i, uint64_t *seed)
{
    (void)i;
    return 16384 + (size_t)(splitmix64(seed) % 250000);
}

Test(hash, many_agrees_with_one_by_one)
{
    check_many_against_one_by_one(0, short_lengths);
    check_many_against_one_by_one(1, short_lengths);
    check_many_against_one_by_one(2, short_lengths);
    check_many_against_one_by_one(300, short_lengths);
    check_many_against_one_by_one(7, chunk_like_lengths);
    check_many_against_one_by_one(40, chunk_like_lengths);
}

/* Buffers of many lengths, each of its own random bytes, and their digests by libcrypto. */
typedef struct job_set {
    size_t n;
    uint8_t **data;
    size_t *lens;
    dv_oid *want;
    dv_sha256_job *jobs;
    dv_sha256_job **order;
    uint8_t (*out)[32];
} job_set;

static void job_set_make(job_set *s, size_t n, size_t (*length_of)(size_t, uint64_t *))
{
    uint64_t seed = 0xab5eed + n;
    s->n = n;
    s->data = calloc(n, sizeof(*s->data));
    s->lens = calloc(n, sizeof(*s->lens));
    s->want = calloc(n, sizeof(*s->want));
    s->jobs = calloc(n, sizeof(*s->jobs));
    s->order = calloc(n, sizeof(*s->order));
    s->out = calloc(n, sizeof(*s->out));
    cr_assert(s->data && s->lens && s->want && s->jobs && s->order && s->out);
    for (size_t i = 0; i < n; i++) {
        s->lens[i] = length_of(i, &seed);
        cr_assert_not_null(s->data[i] = malloc(s->lens[i] + 1));
        fill_random(s->data[i], s->lens[i], i * 104729 + n);
        cr_assert_eq(dv_hash_buffer(&s->want[i], s->data[i], s->lens[i]), 0);
        dv_sha256_job_init(&s->jobs[i], s->data[i], s->lens[i], i);
        s->order[i] = &s->jobs[i];
    }
}

static void job_set_check(const job_set *s)
{
    for (size_t i = 0; i < s->n; i++)
        cr_assert_eq(memcmp(s->want[i].id, s->out[i], 32), 0, "buffer %zu, %zu bytes", i,
                     s->lens[i]);
}

static void job_set_free(job_set *s)
{
    for (size_t i = 0; i < s->n; i++)
        free(s->data[i]);
    free(s->data);
    free(s->lens);
    free(s->want);
    free(s->jobs);
    free(s->order);
    free(s->out);
}

static size_t mixed_lengths(size_t i, uint64_t *seed)
{
    /* every tail length, with long buffers among them so lanes end at different blocks */
    return i % 3 ? (i * 37) % 200 : 1000 + (size_t)(splitmix64(seed) % 20000);
}

/* The engines directly, whatever dv_hash_many would choose, when this CPU has them. */
Test(hash, sha_extension_lanes_agree_with_libcrypto)
{
    if (!dv_sha256ni_available())
        cr_skip_test("this CPU has no SHA extensions");
    job_set s;
    job_set_make(&s, 130, mixed_lengths);
    dv_sha256ni_run(s.order, s.n, s.out);
    job_set_check(&s);
    job_set_free(&s);
}

Test(hash, avx512_lanes_agree_with_libcrypto)
{
    if (!dv_sha256x16_available())
        cr_skip_test("this CPU has no AVX-512");
    job_set s;
    job_set_make(&s, 130, mixed_lengths);
    cr_assert_eq(dv_sha256x16_run(s.order, s.n, 1, s.out), 0, "every job runs to its end");
    job_set_check(&s);
    job_set_free(&s);
}

/* The wide engine stops with jobs part way; their saved states carry on in the wide
 * engine again and in the SHA-extension lanes. */
Test(hash, avx512_lanes_hand_over_jobs_part_way)
{
    if (!dv_sha256x16_available())
        cr_skip_test("this CPU has no AVX-512");
    job_set s;
    job_set_make(&s, 40, chunk_like_lengths);
    size_t left = dv_sha256x16_run(s.order, s.n, 12, s.out);
    cr_assert(left > 0 && left < 12, "%zu jobs left", left);
    size_t part_way = 0;
    for (size_t i = 0; i < left; i++) {
        cr_assert_gt(s.order[i]->blocks, 0, "a job left has blocks to go");
        part_way += s.order[i]->next != s.data[s.order[i]->index];
    }
    cr_assert_gt(part_way, 0, "the jobs left include some part way");
    if (dv_sha256ni_available() && left > 1) {
        /* half to each engine */
        dv_sha256ni_run(s.order, left / 2, s.out);
        cr_assert_eq(dv_sha256x16_run(s.order + left / 2, left - left / 2, 1, s.out), 0);
    } else {
        cr_assert_eq(dv_sha256x16_run(s.order, left, 1, s.out), 0);
    }
    job_set_check(&s);
    job_set_free(&s);
}
