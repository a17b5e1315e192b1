/* Unit tests for core/hash: SHA-256 ids, one buffer at a time and many side by side. */
#include "core/hash.h"
#include "core/sha256ni.h"
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

/* The lanes directly, whatever the environment says, when this CPU has them. */
Test(hash, sha_extension_lanes_agree_with_libcrypto)
{
    if (!dv_sha256ni_available())
        cr_skip_test("this CPU has no SHA extensions");
    enum { N = 130 };
    const uint8_t *data[N];
    size_t lens[N];
    uint8_t out[N][32];
    uint8_t *buf = malloc(N * 200);
    cr_assert_not_null(buf);
    fill_random(buf, N * 200, 42);
    for (size_t i = 0; i < N; i++) {
        data[i] = buf + i * 150;
        lens[i] = (i * 37) % 200;
    }
    dv_sha256ni_many(data, lens, N, out);
    for (size_t i = 0; i < N; i++) {
        dv_oid one;
        cr_assert_eq(dv_hash_buffer(&one, data[i], lens[i]), 0);
        cr_assert_eq(memcmp(one.id, out[i], 32), 0, "buffer %zu, %zu bytes", i, lens[i]);
    }
    free(buf);
}
