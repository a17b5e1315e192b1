/* Tests for core/object.c: manifest and tree encodings, their ids, and decode checks. */
#include "core/base/bytes.h"
#include "core/base/error.h"
#include "core/object/object.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static dv_oid oid_of(const char *text)
{
    dv_oid oid;
    cr_assert_eq(dv_hash_buffer(&oid, text, strlen(text)), 0);
    return oid;
}

static dv_oid oid_filled(uint8_t byte)
{
    dv_oid oid;
    memset(oid.id, byte, sizeof(oid.id));
    return oid;
}

static void assert_hash_hex(const dv_buf *buf, const char *want)
{
    dv_oid oid;
    cr_assert_eq(dv_hash_buffer(&oid, buf->ptr, buf->len), 0);
    cr_assert_str_eq(dv_oid_hex(&oid), want);
}

/* buf's bytes, in lowercase hex, are exactly want. */
static void assert_bytes_hex(const dv_buf *buf, const char *want)
{
    char *hex = malloc(2 * buf->len + 1);
    cr_assert_not_null(hex);
    hex[0] = '\0';
    for (size_t i = 0; i < buf->len; i++)
        snprintf(hex + 2 * i, 3, "%02x", (uint8_t)buf->ptr[i]);
    cr_assert_str_eq(hex, want);
    free(hex);
}

static void assert_error_mentions(const char *needle)
{
    cr_assert(strstr(dv_error_last(), needle), "message '%s' should mention '%s'", dv_error_last(),
              needle);
}

/* ---- object types ---- */

Test(object, type_names)
{
    cr_assert_str_eq(dv_object_type_name(DV_OBJ_CHUNK), "chunk");
    cr_assert_str_eq(dv_object_type_name(DV_OBJ_MANIFEST), "manifest");
    cr_assert_str_eq(dv_object_type_name(DV_OBJ_TREE), "tree");
    cr_assert_str_eq(dv_object_type_name(0), "unknown");
    cr_assert_str_eq(dv_object_type_name(4), "unknown");
    cr_assert_str_eq(dv_object_type_name(-1), "unknown");
}

/* ---- manifests ---- */

static void build_manifest(dv_manifest *m, size_t n_chunks)
{
    for (size_t i = 0; i < n_chunks; i++) {
        dv_oid id;
        uint64_t seed = i * 0x9e3779b97f4a7c15ull;
        cr_assert_eq(dv_hash_buffer(&id, &seed, sizeof(seed)), 0);
        cr_assert_eq(dv_manifest_append(m, &id, (uint32_t)(1 + (i * 7919) % 262144)), 0);
    }
}

static void assert_manifests_equal(const dv_manifest *a, const dv_manifest *b)
{
    cr_assert_eq(a->size, b->size);
    cr_assert_eq(a->n_chunks, b->n_chunks);
    for (size_t i = 0; i < a->n_chunks; i++) {
        cr_assert_eq(dv_oid_cmp(&a->chunks[i].id, &b->chunks[i].id), 0, "chunk %zu id", i);
        cr_assert_eq(a->chunks[i].len, b->chunks[i].len, "chunk %zu len", i);
    }
}

Test(object, manifest_append_sums_size)
{
    dv_manifest m = DV_MANIFEST_INIT;
    dv_oid a = oid_of("a"), b = oid_of("b");
    cr_assert_eq(dv_manifest_append(&m, &a, 10), 0);
    cr_assert_eq(dv_manifest_append(&m, &b, UINT32_MAX), 0);
    cr_assert_eq(m.n_chunks, 2);
    cr_assert_eq(m.size, 10ull + UINT32_MAX);
    cr_assert_eq(dv_oid_cmp(&m.chunks[1].id, &b), 0);
    dv_manifest_clear(&m);
    cr_assert_eq(m.n_chunks, 0);
    cr_assert_eq(m.size, 0);
    dv_manifest_release(&m);
    cr_assert_null(m.chunks);
    dv_manifest_release(NULL);
}

Test(object, manifest_append_rejects_zero_length_chunk)
{
    dv_manifest m = DV_MANIFEST_INIT;
    dv_oid a = oid_of("a");
    cr_assert_eq(dv_manifest_append(&m, &a, 0), DV_EUSAGE);
    cr_assert_eq(m.n_chunks, 0);
    dv_manifest_release(&m);
}

Test(object, manifest_round_trip)
{
    dv_manifest m = DV_MANIFEST_INIT, back = DV_MANIFEST_INIT;
    dv_buf buf = DV_BUF_INIT;
    build_manifest(&m, 5);
    cr_assert_eq(dv_manifest_encode(&buf, &m), 0);
    cr_assert_eq(buf.len, 16 + 36 * 5);
    cr_assert_eq(dv_manifest_decode(&back, buf.ptr, buf.len), 0);
    assert_manifests_equal(&m, &back);
    dv_manifest_release(&m);
    dv_manifest_release(&back);
    dv_buf_release(&buf);
}

Test(object, manifest_round_trip_many_chunks)
{
    dv_manifest m = DV_MANIFEST_INIT, back = DV_MANIFEST_INIT;
    dv_buf buf = DV_BUF_INIT, again = DV_BUF_INIT;
    build_manifest(&m, 20000);
    cr_assert_eq(dv_manifest_encode(&buf, &m), 0);
    cr_assert_eq(buf.len, 16 + 36 * 20000);
    cr_assert_eq(dv_manifest_decode(&back, buf.ptr, buf.len), 0);
    assert_manifests_equal(&m, &back);
    cr_assert_eq(dv_manifest_encode(&again, &back), 0);
    cr_assert_eq(again.len, buf.len);
    cr_assert_eq(memcmp(again.ptr, buf.ptr, buf.len), 0);
    dv_manifest_release(&m);
    dv_manifest_release(&back);
    dv_buf_release(&buf);
    dv_buf_release(&again);
}

Test(object, manifest_empty_file_is_sixteen_bytes)
{
    static const uint8_t want[16] = {'D', 'V', 'M', '1', 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
    dv_manifest m = DV_MANIFEST_INIT, back = DV_MANIFEST_INIT;
    dv_buf buf = DV_BUF_INIT;
    cr_assert_eq(dv_manifest_encode(&buf, &m), 0);
    cr_assert_eq(buf.len, 16);
    cr_assert_eq(memcmp(buf.ptr, want, 16), 0);
    assert_hash_hex(&buf, "18589b9bd920124499e7f67f133c563f5c7899cbea290c9f7b9747e7d8ac307a");
    cr_assert_eq(dv_manifest_decode(&back, buf.ptr, buf.len), 0);
    cr_assert_eq(back.size, 0);
    cr_assert_eq(back.n_chunks, 0);
    dv_manifest_release(&back);
    dv_buf_release(&buf);
}

/* The worked example of docs/formats.md: "hello\n" as one chunk. */
Test(object, manifest_encoding_is_pinned)
{
    static const char want_hex[] =
        "44564d31"
        "0000000000000006"
        "00000001"
        "5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03"
        "00000006";
    dv_manifest m = DV_MANIFEST_INIT;
    dv_buf buf = DV_BUF_INIT;
    dv_oid chunk = oid_of("hello\n");
    cr_assert_eq(dv_manifest_append(&m, &chunk, 6), 0);
    cr_assert_eq(dv_manifest_encode(&buf, &m), 0);
    cr_assert_eq(buf.len, 52);
    assert_bytes_hex(&buf, want_hex);
    assert_hash_hex(&buf, "5c16b258c15b3dc73fc4ab82dae21d64ab4b65d3eff92895d8fb34ee7e045139");
    dv_manifest_release(&m);
    dv_buf_release(&buf);
}

Test(object, manifest_id_of_two_chunks_is_pinned)
{
    dv_manifest m = DV_MANIFEST_INIT;
    dv_buf buf = DV_BUF_INIT;
    dv_oid a = oid_of("hello, "), b = oid_of("world\n");
    cr_assert_eq(dv_manifest_append(&m, &a, 7), 0);
    cr_assert_eq(dv_manifest_append(&m, &b, 6), 0);
    cr_assert_eq(dv_manifest_encode(&buf, &m), 0);
    assert_hash_hex(&buf, "c95c6af957190c6a3113ac73149c950cb5742f4934ac1a46194fe82f03a4e18b");
    dv_manifest_release(&m);
    dv_buf_release(&buf);
}

Test(object, manifest_encode_appends_and_refuses_bad_manifests)
{
    dv_manifest m = DV_MANIFEST_INIT;
    dv_buf buf = DV_BUF_INIT;
    cr_assert_eq(dv_buf_puts(&buf, "prefix"), 0);
    build_manifest(&m, 2);
    cr_assert_eq(dv_manifest_encode(&buf, &m), 0);
    cr_assert_eq(buf.len, 6 + 16 + 72);
    cr_assert_eq(memcmp(buf.ptr, "prefixDVM1", 10), 0);

    /* Size not the sum of lengths: refused, and the buffer is left as it was. */
    dv_buf_clear(&buf);
    m.size++;
    cr_assert_eq(dv_manifest_encode(&buf, &m), DV_EUSAGE);
    cr_assert_eq(buf.len, 0);
    m.size--;
    m.chunks[1].len = 0;
    m.size -= 1 + (7919 % 262144);
    cr_assert_eq(dv_manifest_encode(&buf, &m), DV_EUSAGE);
    cr_assert_eq(buf.len, 0);
    dv_manifest_release(&m);
    dv_buf_release(&buf);
}

/* A valid two-chunk encoding, built by hand, to damage in the rejection tests. */
static size_t hand_manifest(uint8_t *out, uint64_t size, uint32_t n_chunks, uint32_t len_a,
                            uint32_t len_b)
{
    memcpy(out, "DVM1", 4);
    dv_put_be64(out + 4, size);
    dv_put_be32(out + 12, n_chunks);
    memset(out + 16, 0xaa, 32);
    dv_put_be32(out + 48, len_a);
    memset(out + 52, 0xbb, 32);
    dv_put_be32(out + 84, len_b);
    return 88;
}

Test(object, manifest_decode_accepts_hand_built_encoding)
{
    uint8_t b[88];
    dv_manifest m = DV_MANIFEST_INIT;
    size_t len = hand_manifest(b, 300, 2, 100, 200);
    cr_assert_eq(dv_manifest_decode(&m, b, len), 0);
    cr_assert_eq(m.size, 300);
    cr_assert_eq(m.n_chunks, 2);
    cr_assert_eq(m.chunks[0].len, 100);
    cr_assert_eq(m.chunks[1].id.id[31], 0xbb);
    dv_manifest_release(&m);
}

static void assert_manifest_rejected(const uint8_t *data, size_t len, const char *needle)
{
    dv_manifest m = DV_MANIFEST_INIT;
    dv_error_clear();
    cr_assert_eq(dv_manifest_decode(&m, data, len), DV_ECORRUPT);
    cr_assert_eq(m.n_chunks, 0);
    cr_assert_null(m.chunks);
    cr_assert_eq(m.size, 0);
    assert_error_mentions("manifest: ");
    if (needle)
        assert_error_mentions(needle);
    dv_manifest_release(&m);
}

Test(object, manifest_decode_rejects_bad_magic)
{
    uint8_t b[88];
    size_t len = hand_manifest(b, 300, 2, 100, 200);
    b[3] = '2';
    assert_manifest_rejected(b, len, "magic");
    memcpy(b, "DVT1", 4);
    assert_manifest_rejected(b, len, "magic");
}

Test(object, manifest_decode_rejects_short_and_long_buffers)
{
    uint8_t b[89] = {0};
    size_t len = hand_manifest(b, 300, 2, 100, 200);
    assert_manifest_rejected(b, 0, "truncated");
    assert_manifest_rejected(b, 15, "truncated");
    assert_manifest_rejected(b, len - 1, "expected 16 + 36 * 2 = 88 bytes");
    assert_manifest_rejected(b, len + 1, "expected 16 + 36 * 2 = 88 bytes");
    /* The count says 3 but only two records are there. */
    hand_manifest(b, 300, 3, 100, 200);
    assert_manifest_rejected(b, len, "3 chunks");
}

Test(object, manifest_decode_rejects_huge_count_without_allocating_it)
{
    uint8_t b[88];
    size_t len = hand_manifest(b, 300, UINT32_MAX, 100, 200);
    assert_manifest_rejected(b, len, "4294967295 chunks");
}

Test(object, manifest_decode_rejects_zero_length_chunk)
{
    uint8_t b[88];
    size_t len = hand_manifest(b, 100, 2, 100, 0);
    assert_manifest_rejected(b, len, "chunk 1 has length 0");
}

Test(object, manifest_decode_rejects_size_not_sum_of_lengths)
{
    uint8_t b[88];
    size_t len = hand_manifest(b, 301, 2, 100, 200);
    assert_manifest_rejected(b, len, "size 301");
    hand_manifest(b, 299, 2, 100, 200);
    assert_manifest_rejected(b, len, "sum");
    /* Lengths near 2^32 must not wrap into a small sum. */
    hand_manifest(b, (uint64_t)UINT32_MAX * 2 - (1ull << 32), 2, UINT32_MAX, UINT32_MAX);
    assert_manifest_rejected(b, len, "sum");
    hand_manifest(b, UINT64_MAX, 2, UINT32_MAX, UINT32_MAX);
    assert_manifest_rejected(b, len, "sum");
    hand_manifest(b, (uint64_t)UINT32_MAX * 2, 2, UINT32_MAX, UINT32_MAX);
    dv_manifest m = DV_MANIFEST_INIT;
    cr_assert_eq(dv_manifest_decode(&m, b, len), 0);
    cr_assert_eq(m.size, (uint64_t)UINT32_MAX * 2);
    dv_manifest_release(&m);
}

Test(object, manifest_decode_rejects_every_truncation)
{
    dv_manifest m = DV_MANIFEST_INIT;
    dv_buf buf = DV_BUF_INIT;
    build_manifest(&m, 3);
    cr_assert_eq(dv_manifest_encode(&buf, &m), 0);
    for (size_t cut = 0; cut < buf.len; cut++) {
        /* A copy of exactly cut bytes, so a read past it is caught by the sanitizers. */
        uint8_t *copy = malloc(cut ? cut : 1);
        cr_assert_not_null(copy);
        memcpy(copy, buf.ptr, cut);
        dv_manifest back = DV_MANIFEST_INIT;
        cr_assert_eq(dv_manifest_decode(&back, copy, cut), DV_ECORRUPT, "cut at %zu", cut);
        cr_assert_eq(back.n_chunks, 0);
        dv_manifest_release(&back);
        free(copy);
    }
    dv_manifest_release(&m);
    dv_buf_release(&buf);
}

/* ---- trees ---- */

static void add_entry(dv_tree *t, const char *name, size_t name_len, uint8_t mode, uint8_t fill,
                      uint64_t size)
{
    dv_oid id = oid_filled(fill);
    cr_assert_eq(dv_tree_add(t, name, name_len, mode, &id, size), 0, "%s", dv_error_last());
}

static void assert_trees_equal(const dv_tree *a, const dv_tree *b)
{
    cr_assert_eq(a->n_entries, b->n_entries);
    for (size_t i = 0; i < a->n_entries; i++) {
        const dv_tree_entry *x = &a->entries[i], *y = &b->entries[i];
        cr_assert_eq(x->name_len, y->name_len, "entry %zu", i);
        cr_assert_eq(memcmp(x->name, y->name, x->name_len), 0, "entry %zu", i);
        cr_assert_eq(y->name[y->name_len], '\0');
        cr_assert_eq(x->mode, y->mode, "entry %zu", i);
        cr_assert_eq(dv_oid_cmp(&x->id, &y->id), 0, "entry %zu", i);
        cr_assert_eq(x->size, y->size, "entry %zu", i);
    }
}

static void assert_tree_round_trips(dv_tree *t)
{
    dv_tree back = DV_TREE_INIT;
    dv_buf buf = DV_BUF_INIT, again = DV_BUF_INIT;
    cr_assert_eq(dv_tree_sort(t), 0);
    cr_assert_eq(dv_tree_encode(&buf, t), 0, "%s", dv_error_last());
    cr_assert_eq(dv_tree_decode(&back, buf.ptr, buf.len), 0, "%s", dv_error_last());
    assert_trees_equal(t, &back);
    cr_assert_eq(dv_tree_encode(&again, &back), 0);
    cr_assert_eq(again.len, buf.len);
    cr_assert_eq(memcmp(again.ptr, buf.ptr, buf.len), 0);
    dv_tree_release(&back);
    dv_buf_release(&buf);
    dv_buf_release(&again);
}

Test(object, tree_round_trip_empty)
{
    dv_tree t = DV_TREE_INIT;
    dv_buf buf = DV_BUF_INIT;
    cr_assert_eq(dv_tree_encode(&buf, &t), 0);
    cr_assert_eq(buf.len, 8);
    cr_assert_eq(memcmp(buf.ptr, "DVT1\0\0\0\0", 8), 0);
    assert_hash_hex(&buf, "8620c5749479d5f74f7f18d2916e717ea8b42e7d880807f00b62602bb8a3de09");
    assert_tree_round_trips(&t);
    dv_tree_release(&t);
    dv_buf_release(&buf);
}

Test(object, tree_round_trip_odd_names)
{
    dv_tree t = DV_TREE_INIT;
    static const char *names[] = {
        "with space", "caf\xc3\xa9", "\xe6\x97\xa5\xe6\x9c\xac",
        "\xff",       "line\nbreak", "tab\there",
        "...",        ".hidden",     "-",
        "\x01",       "\\",          "a:b",
        "\r",         "..a",         "UPPER",
    };
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        add_entry(&t, names[i], strlen(names[i]), (uint8_t)(1 + i % 4), (uint8_t)i, i * 1000);
    /* Longest name the format allows. */
    char *long_name = malloc(65535);
    cr_assert_not_null(long_name);
    memset(long_name, 'x', 65535);
    add_entry(&t, long_name, 65535, DV_MODE_FILE, 0x77, UINT64_MAX);
    free(long_name);
    assert_tree_round_trips(&t);
    dv_tree_release(&t);
}

Test(object, tree_round_trip_many_entries)
{
    dv_tree t = DV_TREE_INIT;
    for (unsigned i = 0; i < 5000; i++) {
        char name[32];
        int n = snprintf(name, sizeof(name), "file-%u.bin", (i * 7919u) % 5000u);
        add_entry(&t, name, (size_t)n, (uint8_t)(1 + i % 4), (uint8_t)i, i);
    }
    assert_tree_round_trips(&t);
    for (size_t i = 1; i < t.n_entries; i++)
        cr_assert_lt(strcmp(t.entries[i - 1].name, t.entries[i].name), 0);
    dv_tree_release(&t);
}

/* The same entries in any insertion order give the same bytes and the same pinned id. */
Test(object, tree_encoding_is_canonical_and_pinned)
{
    dv_oid manifest_id, link_id = oid_of("hello.txt");
    static const char hello_manifest_hex[] =
        "5c16b258c15b3dc73fc4ab82dae21d64ab4b65d3eff92895d8fb34ee7e045139";
    cr_assert_eq(dv_oid_fromhex(&manifest_id, hello_manifest_hex, 64), 0);
    dv_oid exec_id = oid_filled(0x22), dir_id = oid_filled(0x44);
    static const size_t orders[][4] = {{0, 1, 2, 3}, {3, 2, 1, 0}, {2, 0, 3, 1}, {1, 3, 0, 2}};
    dv_buf first = DV_BUF_INIT;

    for (size_t o = 0; o < sizeof(orders) / sizeof(orders[0]); o++) {
        dv_tree t = DV_TREE_INIT;
        dv_buf buf = DV_BUF_INIT;
        for (size_t k = 0; k < 4; k++) {
            switch (orders[o][k]) {
            case 0:
                cr_assert_eq(dv_tree_add(&t, "hello.txt", 9, DV_MODE_FILE, &manifest_id, 6), 0);
                break;
            case 1:
                cr_assert_eq(dv_tree_add(&t, "run.sh", 6, DV_MODE_EXEC, &exec_id, 100), 0);
                break;
            case 2:
                cr_assert_eq(dv_tree_add(&t, "link", 4, DV_MODE_SYMLINK, &link_id, 9), 0);
                break;
            default:
                cr_assert_eq(dv_tree_add(&t, "sub", 3, DV_MODE_DIR, &dir_id, 12345), 0);
                break;
            }
        }
        cr_assert_eq(dv_tree_sort(&t), 0);
        cr_assert_eq(dv_tree_encode(&buf, &t), 0);
        cr_assert_eq(buf.len, 202);
        assert_hash_hex(&buf, "9f0c8ef1bb0c5c13dbf5698a5ce7a4cfb10e26347a0edbfc9913d5ac1011c83d");
        if (o == 0) {
            cr_assert_eq(dv_buf_put(&first, buf.ptr, buf.len), 0);
            /* Spot-check the layout of the first entry, "hello.txt". */
            const uint8_t *p = (const uint8_t *)buf.ptr;
            cr_assert_eq(memcmp(p, "DVT1", 4), 0);
            cr_assert_eq(dv_get_be32(p + 4), 4);
            cr_assert_eq(dv_get_be16(p + 8), 9);
            cr_assert_eq(memcmp(p + 10, "hello.txt", 9), 0);
            cr_assert_eq(p[19], DV_MODE_FILE);
            cr_assert_eq(memcmp(p + 20, manifest_id.id, 32), 0);
            cr_assert_eq(dv_get_be64(p + 52), 6);
        } else {
            cr_assert_eq(memcmp(first.ptr, buf.ptr, buf.len), 0);
        }
        dv_tree_release(&t);
        dv_buf_release(&buf);
    }
    dv_buf_release(&first);
}

/* The worked example of docs/formats.md: a directory holding only hello.txt. */
Test(object, tree_of_one_file_is_pinned)
{
    static const char want_hex[] =
        "44565431"
        "00000001"
        "0009"
        "68656c6c6f2e747874"
        "01"
        "5c16b258c15b3dc73fc4ab82dae21d64ab4b65d3eff92895d8fb34ee7e045139"
        "0000000000000006";
    dv_tree t = DV_TREE_INIT;
    dv_buf buf = DV_BUF_INIT;
    dv_oid manifest_id;
    cr_assert_eq(dv_oid_fromhex(&manifest_id,
                                "5c16b258c15b3dc73fc4ab82dae21d64ab4b65d3eff92895d8fb34ee7e045139",
                                64),
                 0);
    cr_assert_eq(dv_tree_add(&t, "hello.txt", 9, DV_MODE_FILE, &manifest_id, 6), 0);
    cr_assert_eq(dv_tree_encode(&buf, &t), 0);
    cr_assert_eq(buf.len, 60);
    assert_bytes_hex(&buf, want_hex);
    assert_hash_hex(&buf, "0be872127b5caefb113454d6b096e9b520636f70660c00171505a483b6887704");
    dv_tree_release(&t);
    dv_buf_release(&buf);
}

Test(object, tree_sort_orders_by_unsigned_bytes_prefix_first)
{
    dv_tree t = DV_TREE_INIT;
    const char *names[] = {"b", "\xff", "ab", "a", "B", "a b", "a-", "abc"};
    const char *want[] = {"B", "a", "a b", "a-", "ab", "abc", "b", "\xff"};
    for (size_t i = 0; i < 8; i++)
        add_entry(&t, names[i], strlen(names[i]), DV_MODE_FILE, 1, 1);
    cr_assert_eq(dv_tree_sort(&t), 0);
    for (size_t i = 0; i < 8; i++)
        cr_assert_str_eq(t.entries[i].name, want[i], "position %zu", i);
    dv_tree_release(&t);
}

Test(object, tree_sort_reports_duplicate_name)
{
    dv_tree t = DV_TREE_INIT;
    add_entry(&t, "data.csv", 8, DV_MODE_FILE, 1, 1);
    add_entry(&t, "other", 5, DV_MODE_FILE, 2, 1);
    add_entry(&t, "data.csv", 8, DV_MODE_EXEC, 3, 1);
    cr_assert_eq(dv_tree_sort(&t), DV_EUSAGE);
    assert_error_mentions("duplicate");
    assert_error_mentions("data.csv");
    dv_tree_release(&t);
}

Test(object, tree_add_copies_the_name)
{
    dv_tree t = DV_TREE_INIT;
    char name[] = "mutable";
    add_entry(&t, name, 7, DV_MODE_FILE, 1, 1);
    name[0] = 'X';
    cr_assert_str_eq(t.entries[0].name, "mutable");
    /* name_len, not strlen: only the given bytes are copied. */
    add_entry(&t, "prefix-ignored", 6, DV_MODE_FILE, 1, 1);
    cr_assert_str_eq(t.entries[1].name, "prefix");
    cr_assert_eq(t.entries[1].name_len, 6);
    dv_tree_release(&t);
    cr_assert_null(t.entries);
    dv_tree_release(NULL);
}

Test(object, tree_check_name_rejects_invalid_names)
{
    cr_assert_eq(dv_tree_check_name("ok", 2), 0);
    cr_assert_eq(dv_tree_check_name("...", 3), 0);
    cr_assert_eq(dv_tree_check_name("", 0), DV_EUSAGE);
    assert_error_mentions("empty");
    cr_assert_eq(dv_tree_check_name("a/b", 3), DV_EUSAGE);
    assert_error_mentions("contains '/'");
    cr_assert_eq(dv_tree_check_name("a\0b", 3), DV_EUSAGE);
    assert_error_mentions("NUL");
    cr_assert_eq(dv_tree_check_name(".", 1), DV_EUSAGE);
    cr_assert_eq(dv_tree_check_name("..", 2), DV_EUSAGE);
    char *long_name = malloc(65536);
    cr_assert_not_null(long_name);
    memset(long_name, 'y', 65536);
    cr_assert_eq(dv_tree_check_name(long_name, 65535), 0);
    cr_assert_eq(dv_tree_check_name(long_name, 65536), DV_EUSAGE);
    assert_error_mentions("65535");
    free(long_name);
}

Test(object, tree_add_rejects_bad_names_and_modes)
{
    dv_tree t = DV_TREE_INIT;
    dv_oid id = oid_filled(1);
    cr_assert_eq(dv_tree_add(&t, "a/b", 3, DV_MODE_FILE, &id, 0), DV_EUSAGE);
    cr_assert_eq(dv_tree_add(&t, "..", 2, DV_MODE_FILE, &id, 0), DV_EUSAGE);
    cr_assert_eq(dv_tree_add(&t, "x", 1, 0, &id, 0), DV_EUSAGE);
    cr_assert_eq(dv_tree_add(&t, "x", 1, 5, &id, 0), DV_EUSAGE);
    assert_error_mentions("mode 5");
    cr_assert_eq(t.n_entries, 0);
    dv_tree_release(&t);
}

Test(object, tree_encode_refuses_unsorted_tree)
{
    dv_tree t = DV_TREE_INIT;
    dv_buf buf = DV_BUF_INIT;
    add_entry(&t, "b", 1, DV_MODE_FILE, 1, 1);
    add_entry(&t, "a", 1, DV_MODE_FILE, 1, 1);
    cr_assert_eq(dv_tree_encode(&buf, &t), DV_EUSAGE);
    cr_assert_eq(buf.len, 0);
    cr_assert_eq(dv_tree_sort(&t), 0);
    cr_assert_eq(dv_tree_encode(&buf, &t), 0);
    dv_tree_release(&t);
    dv_buf_release(&buf);
}

Test(object, tree_find_uses_exact_names)
{
    dv_tree t = DV_TREE_INIT;
    for (unsigned i = 0; i < 300; i++) {
        char name[16];
        int n = snprintf(name, sizeof(name), "n%u", i);
        add_entry(&t, name, (size_t)n, DV_MODE_FILE, (uint8_t)i, i);
    }
    cr_assert_eq(dv_tree_sort(&t), 0);
    for (unsigned i = 0; i < 300; i++) {
        char name[16];
        int n = snprintf(name, sizeof(name), "n%u", i);
        const dv_tree_entry *e = dv_tree_find(&t, name, (size_t)n);
        cr_assert_not_null(e, "%s", name);
        cr_assert_eq(e->size, i);
    }
    cr_assert_null(dv_tree_find(&t, "n", 1));
    cr_assert_null(dv_tree_find(&t, "n300", 4));
    cr_assert_null(dv_tree_find(&t, "n1x", 3));
    cr_assert_null(dv_tree_find(&t, "a", 1));
    cr_assert_null(dv_tree_find(&t, "z", 1));
    /* The length counts, not the NUL: "n10" with length 2 is "n1". */
    const dv_tree_entry *e = dv_tree_find(&t, "n10", 2);
    cr_assert_not_null(e);
    cr_assert_str_eq(e->name, "n1");
    dv_tree empty = DV_TREE_INIT;
    cr_assert_null(dv_tree_find(&empty, "n1", 2));
    dv_tree_release(&t);
}

/* Hand-built tree bytes: entries given as (name, name_len, mode); ids 0x5a, sizes 7. */
typedef struct raw_entry {
    const char *name;
    size_t name_len;
    uint8_t mode;
} raw_entry;

static size_t hand_tree(uint8_t *out, size_t cap, const raw_entry *entries, size_t n)
{
    size_t off = 8;
    memcpy(out, "DVT1", 4);
    dv_put_be32(out + 4, (uint32_t)n);
    for (size_t i = 0; i < n; i++) {
        cr_assert_leq(off + 2 + entries[i].name_len + 41, cap);
        dv_put_be16(out + off, (uint16_t)entries[i].name_len);
        memcpy(out + off + 2, entries[i].name, entries[i].name_len);
        off += 2 + entries[i].name_len;
        out[off++] = entries[i].mode;
        memset(out + off, 0x5a, 32);
        off += 32;
        dv_put_be64(out + off, 7);
        off += 8;
    }
    return off;
}

static void assert_tree_rejected(const uint8_t *data, size_t len, const char *needle)
{
    dv_tree t = DV_TREE_INIT;
    dv_error_clear();
    cr_assert_eq(dv_tree_decode(&t, data, len), DV_ECORRUPT, "should reject (%s)", needle);
    cr_assert_eq(t.n_entries, 0);
    cr_assert_null(t.entries);
    assert_error_mentions("tree: ");
    if (needle)
        assert_error_mentions(needle);
    dv_tree_release(&t);
}

static void assert_raw_tree_rejected(const raw_entry *entries, size_t n, const char *needle)
{
    uint8_t b[1024];
    size_t len = hand_tree(b, sizeof(b), entries, n);
    assert_tree_rejected(b, len, needle);
}

Test(object, tree_decode_accepts_hand_built_encoding)
{
    uint8_t b[1024];
    raw_entry e[] = {{"a", 1, 1}, {"b", 1, 4}};
    size_t len = hand_tree(b, sizeof(b), e, 2);
    dv_tree t = DV_TREE_INIT;
    cr_assert_eq(dv_tree_decode(&t, b, len), 0, "%s", dv_error_last());
    cr_assert_eq(t.n_entries, 2);
    cr_assert_str_eq(t.entries[1].name, "b");
    cr_assert_eq(t.entries[1].mode, DV_MODE_DIR);
    cr_assert_eq(t.entries[1].size, 7);
    cr_assert_eq(t.entries[1].id.id[0], 0x5a);
    dv_tree_release(&t);
}

Test(object, tree_decode_rejects_bad_magic_and_short_header)
{
    uint8_t b[1024];
    raw_entry e[] = {{"a", 1, 1}};
    size_t len = hand_tree(b, sizeof(b), e, 1);
    assert_tree_rejected(b, 0, "truncated");
    assert_tree_rejected(b, 7, "truncated");
    b[0] = 'd';
    assert_tree_rejected(b, len, "magic");
    memcpy(b, "DVM1", 4);
    assert_tree_rejected(b, len, "magic");
}

Test(object, tree_decode_rejects_trailing_bytes)
{
    uint8_t b[1024];
    raw_entry e[] = {{"a", 1, 1}, {"b", 1, 2}};
    size_t len = hand_tree(b, sizeof(b), e, 2);
    b[len] = 0;
    assert_tree_rejected(b, len + 1, "1 trailing bytes");
    /* A count lower than the entries present leaves the rest as trailing bytes. */
    dv_put_be32(b + 4, 1);
    assert_tree_rejected(b, len, "trailing");
}

Test(object, tree_decode_rejects_count_beyond_data)
{
    uint8_t b[1024];
    raw_entry e[] = {{"a", 1, 1}};
    size_t len = hand_tree(b, sizeof(b), e, 1);
    dv_put_be32(b + 4, 2);
    assert_tree_rejected(b, len, NULL);
    dv_put_be32(b + 4, UINT32_MAX);
    assert_tree_rejected(b, len, "4294967295 entries");
}

Test(object, tree_decode_rejects_unknown_modes)
{
    raw_entry zero[] = {{"a", 1, 1}, {"b", 1, 0}};
    assert_raw_tree_rejected(zero, 2, "entry 1 'b' has unknown mode 0");
    raw_entry five[] = {{"a", 1, 5}};
    assert_raw_tree_rejected(five, 1, "unknown mode 5");
    raw_entry high[] = {{"a", 1, 0xff}};
    assert_raw_tree_rejected(high, 1, "unknown mode 255");
}

Test(object, tree_decode_rejects_invalid_names)
{
    raw_entry empty[] = {{"", 0, 1}};
    assert_raw_tree_rejected(empty, 1, "entry 0 name is empty");
    raw_entry slash[] = {{"a", 1, 1}, {"b", 1, 1}, {"c", 1, 1}, {"d/e", 3, 1}};
    assert_raw_tree_rejected(slash, 4, "entry 3 name contains '/'");
    raw_entry nul[] = {{"a\0b", 3, 1}};
    assert_raw_tree_rejected(nul, 1, "entry 0 name contains a NUL byte");
    raw_entry dot[] = {{".", 1, 4}};
    assert_raw_tree_rejected(dot, 1, "entry 0 name is '.'");
    raw_entry dotdot[] = {{"..", 2, 4}};
    assert_raw_tree_rejected(dotdot, 1, "entry 0 name is '..'");
}

Test(object, tree_decode_rejects_unsorted_and_duplicate_names)
{
    raw_entry unsorted[] = {{"b", 1, 1}, {"a", 1, 1}};
    assert_raw_tree_rejected(unsorted, 2, "entry 1 name 'a' sorts before entry 0");
    raw_entry duplicate[] = {{"a", 1, 1}, {"a", 1, 2}};
    assert_raw_tree_rejected(duplicate, 2, "entry 1 name 'a' duplicates entry 0");
    raw_entry longer_first[] = {{"ab", 2, 1}, {"a", 1, 1}};
    assert_raw_tree_rejected(longer_first, 2, "sorts before");
    /* Bytes compare unsigned: 0xff sorts after 'z'. */
    raw_entry signed_order[] = {{"\xff", 1, 1}, {"z", 1, 1}};
    assert_raw_tree_rejected(signed_order, 2, "sorts before");
}

Test(object, tree_decode_rejects_every_truncation)
{
    dv_tree t = DV_TREE_INIT;
    dv_buf buf = DV_BUF_INIT;
    add_entry(&t, "alpha", 5, DV_MODE_FILE, 1, 10);
    add_entry(&t, "b\xff", 2, DV_MODE_DIR, 2, 20);
    add_entry(&t, "gamma ray", 9, DV_MODE_SYMLINK, 3, 30);
    cr_assert_eq(dv_tree_sort(&t), 0);
    cr_assert_eq(dv_tree_encode(&buf, &t), 0);
    for (size_t cut = 0; cut < buf.len; cut++) {
        uint8_t *copy = malloc(cut ? cut : 1);
        cr_assert_not_null(copy);
        memcpy(copy, buf.ptr, cut);
        dv_tree back = DV_TREE_INIT;
        cr_assert_eq(dv_tree_decode(&back, copy, cut), DV_ECORRUPT, "cut at %zu", cut);
        cr_assert_eq(back.n_entries, 0);
        dv_tree_release(&back);
        free(copy);
    }
    dv_tree_release(&t);
    dv_buf_release(&buf);
}

/* Flip every byte of a valid tree in turn: decode either fails cleanly or yields a tree
 * that re-encodes to exactly the damaged bytes (the encoding is canonical). */
Test(object, tree_decode_of_damaged_bytes_fails_or_is_canonical)
{
    dv_tree t = DV_TREE_INIT;
    dv_buf buf = DV_BUF_INIT;
    add_entry(&t, "a", 1, DV_MODE_FILE, 1, 10);
    add_entry(&t, "bc", 2, DV_MODE_EXEC, 2, 20);
    cr_assert_eq(dv_tree_encode(&buf, &t), 0);
    for (size_t i = 0; i < buf.len; i++) {
        static const uint8_t flips[] = {0x01, 0x80, 0xff, 0x2f ^ 'a'};
        for (size_t f = 0; f < sizeof(flips); f++) {
            uint8_t *copy = malloc(buf.len);
            cr_assert_not_null(copy);
            memcpy(copy, buf.ptr, buf.len);
            copy[i] ^= flips[f];
            dv_tree back = DV_TREE_INIT;
            int error = dv_tree_decode(&back, copy, buf.len);
            cr_assert(error == 0 || error == DV_ECORRUPT);
            if (error == 0) {
                dv_buf again = DV_BUF_INIT;
                cr_assert_eq(dv_tree_encode(&again, &back), 0);
                cr_assert_eq(again.len, buf.len);
                cr_assert_eq(memcmp(again.ptr, copy, buf.len), 0);
                dv_buf_release(&again);
            }
            dv_tree_release(&back);
            free(copy);
        }
    }
    dv_tree_release(&t);
    dv_buf_release(&buf);
}

/* ---- manifest lists ---- */

static dv_manifest_list two_part_list(void)
{
    dv_manifest_list l = DV_MANIFEST_LIST_INIT;
    dv_oid a, b;
    memset(a.id, 0xaa, sizeof(a.id));
    memset(b.id, 0xbb, sizeof(b.id));
    cr_assert_eq(dv_manifest_list_append(&l, &a, 1000), 0);
    cr_assert_eq(dv_manifest_list_append(&l, &b, 7), 0);
    return l;
}

Test(object, manifest_list_encoding_is_as_documented_and_round_trips)
{
    dv_manifest_list l = two_part_list(), back;
    dv_buf enc = DV_BUF_INIT;
    cr_assert_eq(dv_manifest_list_encode(&enc, &l), 0);
    cr_assert_eq(enc.len, 16 + 2 * 40);
    cr_expect_eq(memcmp(enc.ptr, "DVL1", 4), 0);
    cr_expect_eq(dv_get_be64((const uint8_t *)enc.ptr + 4), 1007);
    cr_expect_eq(dv_get_be32((const uint8_t *)enc.ptr + 12), 2);
    cr_expect_eq(dv_get_be64((const uint8_t *)enc.ptr + 16 + 32), 1000);
    cr_expect(dv_manifest_is_list(enc.ptr, enc.len));
    cr_assert_eq(dv_manifest_list_decode(&back, enc.ptr, enc.len), 0);
    cr_expect_eq(back.n_parts, 2);
    cr_expect_eq(back.size, 1007);
    cr_expect_eq(back.parts[1].size, 7);
    cr_expect_eq(back.parts[1].id.id[0], 0xbb);
    dv_manifest_list_release(&back);
    dv_manifest_list_release(&l);
    dv_buf_release(&enc);
}

Test(object, manifest_list_decoder_refuses_what_is_not_canonical)
{
    dv_manifest_list l = two_part_list(), back;
    dv_buf enc = DV_BUF_INIT;
    cr_assert_eq(dv_manifest_list_encode(&enc, &l), 0);
    uint8_t *p = (uint8_t *)enc.ptr;
    /* one byte short, one byte more */
    cr_expect_eq(dv_manifest_list_decode(&back, p, enc.len - 1), DV_ECORRUPT);
    cr_expect_eq(dv_manifest_list_decode(&back, p, enc.len + 0 * 1), 0);
    dv_manifest_list_release(&back);
    /* size that is not the sum of the parts */
    dv_put_be64(p + 4, 1006);
    cr_expect_eq(dv_manifest_list_decode(&back, p, enc.len), DV_ECORRUPT);
    dv_put_be64(p + 4, 1007);
    /* an empty part */
    dv_put_be64(p + 16 + 40 + 32, 0);
    dv_put_be64(p + 4, 1000);
    cr_expect_eq(dv_manifest_list_decode(&back, p, enc.len), DV_ECORRUPT);
    /* a count that claims more parts than the bytes hold */
    dv_put_be32(p + 12, 0xffffffffu);
    cr_expect_eq(dv_manifest_list_decode(&back, p, enc.len), DV_ECORRUPT);
    /* one part is a plain manifest's job */
    dv_put_be32(p + 12, 1);
    dv_put_be64(p + 4, 1000);
    cr_expect_eq(dv_manifest_list_decode(&back, p, 16 + 40), DV_ECORRUPT);
    dv_manifest_list_release(&l);
    dv_buf_release(&enc);
}

Test(object, a_part_must_hold_what_its_list_says)
{
    dv_manifest_list l = two_part_list();
    dv_manifest m = DV_MANIFEST_INIT;
    dv_oid c, list_id;
    memset(c.id, 1, sizeof(c.id));
    memset(list_id.id, 2, sizeof(list_id.id));
    cr_assert_eq(dv_manifest_append(&m, &c, 7), 0);
    cr_expect_eq(dv_manifest_list_check_part(&l, 1, &m, &list_id), 0);
    /* part 0 must hold exactly DV_MANIFEST_PART_CHUNKS chunks and 1000 bytes */
    cr_expect_eq(dv_manifest_list_check_part(&l, 0, &m, &list_id), DV_ECORRUPT);
    dv_manifest_release(&m);
    dv_manifest_list_release(&l);
}
