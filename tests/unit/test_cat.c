#include "core/base/error.h"
#include "core/object/object.h"
#include "core/object/pointer.h"
#include "core/ops/cat.h"
#include "core/repo/repo.h"
#include "testrepo.h"
#include "testutil.h"

#include <criterion/criterion.h>
#include <fcntl.h>
#include <string.h>
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
