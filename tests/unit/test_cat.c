#include "core/base/error.h"
#include "core/object/object.h"
#include "core/object/pointer.h"
#include "core/ops/cat.h"
#include "core/repo/repo.h"
#include "storage/pack_read.h"
#include "testrepo.h"
#include "testutil.h"

#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char root[256];
static dv_repo *repo;
static dv_odb *odb;

static void setup(void)
{
    testutil_make_root(root, sizeof(root), "cat");
    repo = testrepo_init(root);
    cr_assert_eq(dv_repo_odb(&odb, repo), 0, "%s", dv_error_last());
}

static void teardown(void)
{
    dv_repo_free(repo);
    testutil_remove_tree(root);
}

TestSuite(cat, .init = setup, .fini = teardown);

static dv_oid put_chunk(const char *bytes)
{
    dv_oid id;
    cr_assert_eq(dv_odb_put_hashed(&id, odb, DV_OBJ_CHUNK, bytes, strlen(bytes), NULL), 0, "%s",
                 dv_error_last());
    return id;
}

static dv_oid put_manifest(const dv_manifest *m)
{
    dv_buf raw = DV_BUF_INIT;
    dv_oid id;
    cr_assert_eq(dv_manifest_encode(&raw, m), 0);
    cr_assert_eq(dv_odb_put_hashed(&id, odb, DV_OBJ_MANIFEST, raw.ptr, raw.len, NULL), 0, "%s",
                 dv_error_last());
    dv_buf_release(&raw);
    return id;
}

/* Track name as a file of size bytes whose manifest is id: its pointer, staged. */
static void track(const char *name, const dv_oid *id, uint64_t size)
{
    dv_pointer p = {DV_POINTER_VERSION, DV_KIND_FILE, *id, size, 0, 0};
    dv_buf text = DV_BUF_INIT, path = DV_BUF_INIT, rel = DV_BUF_INIT;
    cr_assert_eq(dv_pointer_format(&text, &p), 0);
    cr_assert_eq(dv_buf_printf(&rel, "%s%s", name, DV_POINTER_SUFFIX), 0);
    cr_assert_eq(dv_buf_printf(&path, "%s/%s", root, rel.ptr), 0);
    int fd = open(path.ptr, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    cr_assert_geq(fd, 0);
    cr_assert_eq(write(fd, text.ptr, text.len), (ssize_t)text.len);
    close(fd);
    const char *paths[] = {rel.ptr};
    cr_assert_eq(dv_repo_stage(repo, paths, 1), 0, "%s", dv_error_last());
    dv_buf_release(&text);
    dv_buf_release(&path);
    dv_buf_release(&rel);
}

typedef struct sink {
    dv_buf bytes; /* the first 64 KiB written */
    uint64_t total, n_a, n_calls;
    int stop_after; /* calls; 0 for never */
} sink;

static int collect(void *ctx, const void *data, size_t len)
{
    sink *s = ctx;
    const char *p = data;
    for (size_t i = 0; i < len; i++)
        s->n_a += p[i] == 'a';
    if (s->bytes.len < 65536)
        cr_assert_eq(dv_buf_put(&s->bytes, data, len < 65536 ? len : 65536), 0);
    s->total += len;
    if (s->stop_after && ++s->n_calls >= (uint64_t)s->stop_after)
        return DV_EIO;
    return 0;
}

static char *cat_range(const char *path, uint64_t offset, uint64_t length)
{
    sink s = {DV_BUF_INIT, 0, 0, 0, 0};
    cr_assert_eq(dv_cat(repo, NULL, path, offset, length, collect, &s), 0, "%s", dv_error_last());
    return dv_buf_detach(&s.bytes);
}

Test(cat, ranges_cut_chunks_at_both_ends)
{
    dv_manifest m = DV_MANIFEST_INIT;
    const char *parts[] = {"hello ", "big ", "world"};
    for (int i = 0; i < 3; i++) {
        dv_oid id = put_chunk(parts[i]);
        cr_assert_eq(dv_manifest_append(&m, &id, (uint32_t)strlen(parts[i])), 0);
    }
    dv_oid id = put_manifest(&m);
    track("greeting", &id, m.size);
    const struct {
        uint64_t offset, length;
        const char *want;
    } cases[] = {
        {0, DV_CAT_TO_END, "hello big world"},
        {4, 5, "o big"},
        {6, 4, "big "},
        {10, 100, "world"},
        {15, 1, ""},
        {99, DV_CAT_TO_END, ""},
        {3, 0, ""},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *got = cat_range("greeting", cases[i].offset, cases[i].length);
        cr_assert_str_eq(got, cases[i].want, "offset %llu length %llu",
                         (unsigned long long)cases[i].offset, (unsigned long long)cases[i].length);
        free(got);
    }
    dv_manifest_release(&m);
}

Test(cat, a_writer_that_stops_ends_the_cat_with_its_error)
{
    dv_manifest m = DV_MANIFEST_INIT;
    dv_oid c = put_chunk("abc");
    for (int i = 0; i < 10; i++)
        cr_assert_eq(dv_manifest_append(&m, &c, 3), 0);
    dv_oid id = put_manifest(&m);
    track("abc", &id, m.size);
    sink s = {DV_BUF_INIT, 0, 0, 0, 2};
    cr_assert_eq(dv_cat(repo, NULL, "abc", 0, DV_CAT_TO_END, collect, &s), DV_EIO);
    cr_assert_eq(s.total, 6);
    dv_buf_release(&s.bytes);
    dv_manifest_release(&m);
}

Test(cat, a_manifest_list_is_followed_part_by_part)
{
    /* A first part of exactly DV_MANIFEST_PART_CHUNKS one-byte chunks, then a short one. */
    dv_manifest part0 = DV_MANIFEST_INIT, part1 = DV_MANIFEST_INIT;
    dv_oid a = put_chunk("a");
    for (uint32_t i = 0; i < DV_MANIFEST_PART_CHUNKS; i++)
        cr_assert_eq(dv_manifest_append(&part0, &a, 1), 0);
    dv_oid bc = put_chunk("bc"), def = put_chunk("def");
    cr_assert_eq(dv_manifest_append(&part1, &bc, 2), 0);
    cr_assert_eq(dv_manifest_append(&part1, &def, 3), 0);
    dv_oid id0 = put_manifest(&part0), id1 = put_manifest(&part1);
    dv_manifest_list list = DV_MANIFEST_LIST_INIT;
    cr_assert_eq(dv_manifest_list_append(&list, &id0, part0.size), 0);
    cr_assert_eq(dv_manifest_list_append(&list, &id1, part1.size), 0);
    dv_buf raw = DV_BUF_INIT;
    dv_oid list_id;
    cr_assert_eq(dv_manifest_list_encode(&raw, &list), 0);
    cr_assert_eq(dv_odb_put_hashed(&list_id, odb, DV_OBJ_MANIFEST, raw.ptr, raw.len, NULL), 0);
    track("big", &list_id, list.size);

    char *got = cat_range("big", DV_MANIFEST_PART_CHUNKS - 2, 5);
    cr_assert_str_eq(got, "aabcd");
    free(got);
    got = cat_range("big", DV_MANIFEST_PART_CHUNKS + 1, DV_CAT_TO_END);
    cr_assert_str_eq(got, "cdef");
    free(got);
    sink s = {DV_BUF_INIT, 0, 0, 0, 0};
    cr_assert_eq(dv_cat(repo, NULL, "big", 0, DV_CAT_TO_END, collect, &s), 0, "%s",
                 dv_error_last());
    cr_assert_eq(s.total, (uint64_t)DV_MANIFEST_PART_CHUNKS + 5);
    cr_assert_eq(s.n_a, DV_MANIFEST_PART_CHUNKS);
    dv_buf_release(&s.bytes);
    dv_buf_release(&raw);
    dv_manifest_list_release(&list);
    dv_manifest_release(&part0);
    dv_manifest_release(&part1);
}

Test(cat, a_size_that_disagrees_with_the_manifest_is_corrupt)
{
    dv_manifest m = DV_MANIFEST_INIT;
    dv_oid c = put_chunk("xyz");
    cr_assert_eq(dv_manifest_append(&m, &c, 3), 0);
    dv_oid id = put_manifest(&m);
    track("liar", &id, 4);
    sink s = {DV_BUF_INIT, 0, 0, 0, 0};
    cr_assert_eq(dv_cat(repo, NULL, "liar", 0, DV_CAT_TO_END, collect, &s), DV_ECORRUPT);
    cr_assert(strstr(dv_error_last(), "liar"), "%s", dv_error_last());
    cr_assert_eq(s.total, 0);
    dv_manifest_release(&m);
}

/* A file of many chunks of different sizes, pseudo-random (stored raw) or text (stored
 * compressed), and its bytes and chunk boundaries as they were made. */
#define MANY_CHUNKS 300

typedef struct many_file {
    uint8_t *bytes;
    size_t size;
    size_t bounds[MANY_CHUNKS + 1]; /* where each chunk begins, then the end */
    dv_oid ids[MANY_CHUNKS];
} many_file;

static int is_text_chunk(size_t i)
{
    return i % 3 == 0;
}

/* Track name as such a file; the chunks before seal_before go into a sealed pack, the rest
 * stay in the pack being written. */
static void make_many(many_file *f, const char *name, size_t seal_before)
{
    f->size = 0;
    for (size_t i = 0; i < MANY_CHUNKS; i++) {
        f->bounds[i] = f->size;
        f->size += 1 + (i * 7919) % 6000 + (i % 7 == 0 ? 40000 : 0);
    }
    f->bounds[MANY_CHUNKS] = f->size;
    f->bytes = malloc(f->size);
    cr_assert_not_null(f->bytes);
    dv_manifest m = DV_MANIFEST_INIT;
    for (size_t i = 0; i < MANY_CHUNKS; i++) {
        uint8_t *p = f->bytes + f->bounds[i];
        size_t len = f->bounds[i + 1] - f->bounds[i];
        if (is_text_chunk(i))
            fill_text(p, len, i);
        else
            fill_random(p, len, i);
        cr_assert_eq(dv_odb_put_hashed(&f->ids[i], odb, DV_OBJ_CHUNK, p, len, NULL), 0, "%s",
                     dv_error_last());
        cr_assert_eq(dv_manifest_append(&m, &f->ids[i], (uint32_t)len), 0);
        if (i + 1 == seal_before)
            cr_assert_eq(dv_odb_flush(odb), 0, "%s", dv_error_last());
    }
    dv_oid id = put_manifest(&m);
    track(name, &id, m.size);
    dv_manifest_release(&m);
}

typedef struct all_sink {
    dv_buf bytes;
} all_sink;

static int collect_all(void *ctx, const void *data, size_t len)
{
    all_sink *s = ctx;
    return dv_buf_put(&s->bytes, data, len);
}

/* dv_cat of [offset, offset + length) of name matches the bytes recorded for it. */
static void check_range(const many_file *f, const char *name, uint64_t offset, uint64_t length)
{
    all_sink s = {DV_BUF_INIT};
    cr_assert_eq(dv_cat(repo, NULL, name, offset, length, collect_all, &s), 0,
                 "offset %llu length %llu: %s", (unsigned long long)offset,
                 (unsigned long long)length, dv_error_last());
    size_t from = offset < f->size ? (size_t)offset : f->size;
    size_t want = length < f->size - from ? (size_t)length : f->size - from;
    cr_assert_eq(s.bytes.len, want, "offset %llu length %llu", (unsigned long long)offset,
                 (unsigned long long)length);
    cr_assert(!memcmp(s.bytes.ptr, f->bytes + from, want), "offset %llu length %llu",
              (unsigned long long)offset, (unsigned long long)length);
    dv_buf_release(&s.bytes);
}

static void check_ranges_at_boundaries(const many_file *f, const char *name)
{
    /* chunk indexes around the groups the reader takes (32 chunks) and the file's ends */
    const size_t at[] = {0, 1, 2, 31, 32, 33, 63, 64, 65, 128, 150, 255, 299, MANY_CHUNKS};
    const uint64_t lengths[] = {1, 2, 4096, 100000, DV_CAT_TO_END};
    check_range(f, name, 0, DV_CAT_TO_END);
    for (size_t a = 0; a < sizeof(at) / sizeof(at[0]); a++) {
        for (int delta = -1; delta <= 1; delta++) {
            if (!at[a] && delta < 0)
                continue;
            uint64_t offset = f->bounds[at[a]] + (uint64_t)(int64_t)delta;
            for (size_t l = 0; l < sizeof(lengths) / sizeof(lengths[0]); l++)
                check_range(f, name, offset, lengths[l]);
            /* to the start of a later chunk */
            for (size_t b = a + 1; b < sizeof(at) / sizeof(at[0]); b++)
                check_range(f, name, offset, f->bounds[at[b]] - offset);
        }
    }
}

Test(cat, ranges_at_chunk_boundaries_of_a_file_in_a_sealed_pack_match_its_bytes)
{
    many_file f;
    make_many(&f, "many", MANY_CHUNKS);
    check_ranges_at_boundaries(&f, "many");
    free(f.bytes);
}

Test(cat, ranges_of_a_file_half_in_the_pack_being_written_match_its_bytes)
{
    many_file f;
    make_many(&f, "half", MANY_CHUNKS / 2);
    check_ranges_at_boundaries(&f, "half");
    free(f.bytes);
}

/* Flip one stored byte of chunk i in its sealed pack; returns the entry's flags. */
static uint8_t damage_chunk(const many_file *f, size_t i)
{
    dv_pack *pack = NULL;
    dv_pack_entry e;
    cr_assert(dv_odb_locate(&pack, &e, odb, &f->ids[i]), "chunk %zu is in no sealed pack", i);
    const char *path = dv_pack_path(pack);
    cr_assert_eq(chmod(path, 0644), 0, "%s", path);
    int fd = open(path, O_RDWR);
    cr_assert_geq(fd, 0, "%s", path);
    off_t at = (off_t)(e.offset + DV_PACK_ENTRY_HEADER_BYTES + e.stored_len / 2);
    uint8_t byte;
    cr_assert_eq(pread(fd, &byte, 1, at), 1);
    byte ^= 0x40;
    cr_assert_eq(pwrite(fd, &byte, 1, at), 1);
    close(fd);
    return e.flags;
}

Test(cat, a_corrupt_chunk_read_ahead_of_the_writer_is_detected_and_not_written)
{
    many_file f;
    make_many(&f, "bad", MANY_CHUNKS);
    size_t bad = 250;
    cr_assert(!is_text_chunk(bad));
    cr_assert_eq(damage_chunk(&f, bad), DV_PACK_RAW);
    all_sink s = {DV_BUF_INIT};
    cr_assert_eq(dv_cat(repo, NULL, "bad", 0, DV_CAT_TO_END, collect_all, &s), DV_ECORRUPT);
    cr_assert(strstr(dv_error_last(), "bad: chunk"), "%s", dv_error_last());
    cr_assert(strstr(dv_error_last(), dv_oid_hex(&f.ids[bad])), "%s", dv_error_last());
    cr_assert(strstr(dv_error_last(), "hashes to"), "%s", dv_error_last());
    /* what was written is the file's own bytes, ending before the damaged chunk */
    cr_assert_leq(s.bytes.len, f.bounds[bad]);
    cr_assert(!memcmp(s.bytes.ptr, f.bytes, s.bytes.len));
    dv_buf_release(&s.bytes);
    /* a range that ends before the damaged chunk does not read it */
    check_range(&f, "bad", 0, f.bounds[bad]);
    check_range(&f, "bad", f.bounds[bad + 1], DV_CAT_TO_END);
    free(f.bytes);
}

Test(cat, a_corrupt_compressed_chunk_fails_its_crc_check)
{
    many_file f;
    make_many(&f, "badz", MANY_CHUNKS);
    size_t bad = 99;
    cr_assert(is_text_chunk(bad));
    cr_assert_eq(damage_chunk(&f, bad), DV_PACK_ZSTD);
    all_sink s = {DV_BUF_INIT};
    cr_assert_eq(dv_cat(repo, NULL, "badz", 0, DV_CAT_TO_END, collect_all, &s), DV_ECORRUPT);
    cr_assert(strstr(dv_error_last(), "CRC-32C"), "%s", dv_error_last());
    cr_assert(strstr(dv_error_last(), dv_oid_hex(&f.ids[bad])), "%s", dv_error_last());
    cr_assert_leq(s.bytes.len, f.bounds[bad]);
    cr_assert(!memcmp(s.bytes.ptr, f.bytes, s.bytes.len));
    dv_buf_release(&s.bytes);
    free(f.bytes);
}
