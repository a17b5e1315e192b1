/*
 * Tests for storage/odb: put, has and read for each object type, deduplication, sealing
 * (by flush and by pack_target_bytes), reopening, abandoned writes and temp files, and
 * reads from other threads while the writer keeps putting and sealing.
 */
#include "core/base/buf.h"
#include "core/base/error.h"
#include "core/object/hash.h"
#include "core/object/object.h"
#include "core/simd/crc32c.h"
#include "storage/odb.h"
#include "storage/pack.h"

#include "testutil.h"

#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>

#define KIB ((size_t)1024)
#define MIB (1024 * KIB)

/* ---- temp directories ---- */

static char root_dir[64];
static char cache_dir[96];
static char packs_dir[128];
static char tmp_dir[128];

static void use_cache(const char *name)
{
    snprintf(cache_dir, sizeof(cache_dir), "%s/%s", root_dir, name);
    snprintf(packs_dir, sizeof(packs_dir), "%s/packs", cache_dir);
    snprintf(tmp_dir, sizeof(tmp_dir), "%s/tmp", cache_dir);
}

static void make_dirs(void)
{
    testutil_make_root(root_dir, sizeof(root_dir), "odb");
    use_cache("cache");
}

static void remove_dirs(void)
{
    testutil_remove_tree(root_dir);
}

TestSuite(odb, .init = make_dirs, .fini = remove_dirs, .timeout = 120);

/* ---- helpers ---- */

/* Object number k of a test: its length, bytes and type are functions of k alone, so any
 * thread can rebuild what it should read. Odd k is text (compresses), even k random. */
static uint8_t *content(uint64_t k, size_t len)
{
    uint8_t *p = malloc(len ? len : 1);
    cr_assert_not_null(p);
    if (k % 2)
        fill_text(p, len, k);
    else
        fill_random(p, len, k);
    return p;
}

static uint8_t type_of(uint64_t k)
{
    return (uint8_t)(DV_OBJ_CHUNK + k % 3);
}

static dv_oid id_of(const void *data, size_t len)
{
    dv_oid id;
    cr_assert_eq(dv_hash_buffer(&id, data, len), 0);
    return id;
}

static void open_odb(dv_odb **odb, uint64_t pack_target_bytes)
{
    dv_odb_options opts = {0, pack_target_bytes};
    cr_assert_eq(dv_odb_open(odb, cache_dir, &opts), 0, "open: %s", dv_error_last());
}

/* Put object k (len bytes); returns its id. */
static dv_oid put_object(dv_odb *odb, uint64_t k, size_t len, int expect_added)
{
    uint8_t *data = content(k, len);
    dv_oid id = id_of(data, len);
    int added = -1;
    cr_assert_eq(dv_odb_put(odb, &id, type_of(k), data, len, &added), 0, "put: %s",
                 dv_error_last());
    cr_assert_eq(added, expect_added, "object %llu: added %d", (unsigned long long)k, added);
    free(data);
    return id;
}

/* Read id and compare with object k of len bytes. */
static void assert_reads_object(dv_odb *odb, const dv_oid *id, uint64_t k, size_t len)
{
    uint8_t *want = content(k, len);
    dv_buf out = DV_BUF_INIT;
    uint8_t type = 0;
    cr_assert_eq(dv_odb_has(odb, id), 1, "object %llu missing", (unsigned long long)k);
    cr_assert_eq(dv_odb_read(&out, &type, odb, id), 0, "read %llu: %s", (unsigned long long)k,
                 dv_error_last());
    cr_assert_eq(type, type_of(k));
    cr_assert_eq(out.len, len);
    cr_assert_eq(memcmp(out.ptr, want, len), 0, "object %llu reads back wrong",
                 (unsigned long long)k);
    dv_buf_release(&out);
    free(want);
}

static size_t count_files(const char *dir, const char *suffix)
{
    DIR *d = opendir(dir);
    cr_assert_not_null(d, "opendir %s: %s", dir, strerror(errno));
    size_t n = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        size_t len = strlen(de->d_name);
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
            continue;
        if (!suffix || (len > strlen(suffix) && !strcmp(de->d_name + len - strlen(suffix), suffix)))
            n++;
    }
    closedir(d);
    return n;
}

static void assert_error(int rc, int code, const char *needle)
{
    cr_assert_eq(rc, code, "expected error %d, got %d (%s)", code, rc, dv_error_last());
    if (needle)
        cr_assert(strstr(dv_error_last(), needle), "message '%s' should mention '%s'",
                  dv_error_last(), needle);
}

static void assert_same_stats(const dv_odb_stats *a, const dv_odb_stats *b)
{
    cr_assert_eq(a->objects_added, b->objects_added);
    cr_assert_eq(a->raw_bytes_added, b->raw_bytes_added);
    cr_assert_eq(a->stored_bytes_added, b->stored_bytes_added);
    cr_assert_eq(a->packs_written, b->packs_written);
}

static size_t small_len(uint64_t k)
{
    return 1 + (size_t)(k * 7919 % (48 * KIB));
}

/* ---- put, has, read ---- */

Test(odb, open_creates_the_store_layout)
{
    use_cache("a/b/cache");
    dv_odb *odb;
    open_odb(&odb, 0);
    struct stat st;
    cr_assert_eq(stat(packs_dir, &st), 0);
    cr_assert(S_ISDIR(st.st_mode));
    cr_assert_eq(stat(tmp_dir, &st), 0);
    cr_assert(S_ISDIR(st.st_mode));
    cr_assert_str_eq(dv_odb_packs_dir(odb), packs_dir);
    cr_assert_eq(dv_odb_compression_level(odb), 3, "level 0 means the default, 3");
    cr_assert_eq(dv_odb_pack_count(odb), 0);
    dv_odb_free(odb);
    dv_odb_free(NULL);
}

Test(odb, put_then_has_and_read_return_each_type)
{
    dv_odb *odb;
    open_odb(&odb, 0);
    for (uint64_t k = 0; k < 12; k++) {
        size_t len = k < 2 ? k + 1 : 100 * KIB + k; /* 1 and 2 bytes, then larger */
        uint8_t *data = content(k, len);
        dv_oid id = id_of(data, len);
        cr_assert_eq(dv_odb_has(odb, &id), 0);
        free(data);
        put_object(odb, k, len, 1);
        assert_reads_object(odb, &id, k, len);
    }
    dv_odb_stats st;
    dv_odb_stats_get(odb, &st);
    cr_assert_eq(st.objects_added, 12);
    cr_assert_eq(st.packs_written, 0);
    /* A NULL type pointer is allowed. */
    uint8_t *one = content(0, 1);
    dv_oid id = id_of(one, 1);
    dv_buf out = DV_BUF_INIT;
    cr_assert_eq(dv_odb_read(&out, NULL, odb, &id), 0, "%s", dv_error_last());
    cr_assert_eq(out.len, 1);
    cr_assert_eq(out.ptr[0], (char)one[0]);
    dv_buf_release(&out);
    free(one);
    dv_odb_free(odb);
}

Test(odb, put_hashed_stores_under_the_sha256_of_the_bytes)
{
    dv_odb *odb;
    open_odb(&odb, 0);
    const char text[] = "a symlink target";
    dv_oid id, want = id_of(text, sizeof(text) - 1);
    int added = -1;
    cr_assert_eq(dv_odb_put_hashed(&id, odb, DV_OBJ_CHUNK, text, sizeof(text) - 1, &added), 0);
    cr_assert_eq(added, 1);
    cr_assert_eq(dv_oid_cmp(&id, &want), 0);
    dv_buf out = DV_BUF_INIT;
    cr_assert_eq(dv_odb_read(&out, NULL, odb, &want), 0, "%s", dv_error_last());
    cr_assert_str_eq(out.ptr, text);
    cr_assert_eq(dv_odb_put_hashed(&id, odb, DV_OBJ_CHUNK, text, sizeof(text) - 1, &added), 0);
    cr_assert_eq(added, 0);
    dv_buf_release(&out);
    dv_odb_free(odb);
}

Test(odb, put_of_a_present_object_adds_nothing)
{
    dv_odb *odb;
    dv_odb_stats before, after;
    open_odb(&odb, 0);
    dv_oid a = put_object(odb, 1, 30 * KIB, 1);
    dv_oid b = put_object(odb, 2, 30 * KIB, 1);
    dv_odb_stats_get(odb, &before);
    cr_assert_eq(before.objects_added, 2);

    /* Present in the unsealed pack. */
    put_object(odb, 1, 30 * KIB, 0);
    put_object(odb, 2, 30 * KIB, 0);
    dv_odb_stats_get(odb, &after);
    assert_same_stats(&before, &after);

    /* Present in a sealed pack: no new pack either. */
    cr_assert_eq(dv_odb_flush(odb), 0, "%s", dv_error_last());
    dv_odb_stats_get(odb, &before);
    cr_assert_eq(before.packs_written, 1);
    put_object(odb, 1, 30 * KIB, 0);
    uint8_t *data = content(2, 30 * KIB);
    int added = -1;
    cr_assert_eq(dv_odb_put_stored(odb, &b, DV_OBJ_CHUNK, 30 * KIB, DV_PACK_RAW, data, 30 * KIB,
                                   dv_crc32c(data, 30 * KIB), &added),
                 0);
    cr_assert_eq(added, 0);
    cr_assert_eq(dv_odb_flush(odb), 0, "%s", dv_error_last());
    dv_odb_stats_get(odb, &after);
    assert_same_stats(&before, &after);
    cr_assert_eq(count_files(packs_dir, ".pack"), 1);
    cr_assert_eq(count_files(tmp_dir, NULL), 0);
    cr_assert_eq(dv_odb_has(odb, &a), 1);
    free(data);
    dv_odb_free(odb);
}

Test(odb, stats_count_added_objects_and_their_stored_bytes)
{
    dv_odb *odb;
    open_odb(&odb, 0);
    put_object(odb, 1, 100 * KIB, 1); /* text: compressed */
    put_object(odb, 2, 100 * KIB, 1); /* random: raw */
    dv_odb_stats st;
    dv_odb_stats_get(odb, &st);
    cr_assert_eq(st.objects_added, 2);
    cr_assert_eq(st.raw_bytes_added, 200 * KIB);
    cr_assert_lt(st.stored_bytes_added, 200 * KIB, "the text object was compressed");
    cr_assert_gt(st.stored_bytes_added, 100 * KIB + 2 * DV_PACK_ENTRY_HEADER_BYTES);
    cr_assert_eq(dv_odb_flush(odb), 0, "%s", dv_error_last());
    /* The pack holds exactly the counted bytes plus its header and trailer. */
    struct stat pst;
    cr_assert_eq(stat(dv_pack_path(dv_odb_pack_at(odb, 0)), &pst), 0);
    cr_assert_eq((uint64_t)pst.st_size,
                 st.stored_bytes_added + DV_PACK_HEADER_BYTES + DV_PACK_TRAILER_BYTES);
    dv_odb_free(odb);
}

Test(odb, compressible_objects_are_stored_zstd_and_random_ones_raw)
{
    dv_odb *odb;
    open_odb(&odb, 0);
    dv_oid text = put_object(odb, 1, 100 * KIB, 1);
    dv_oid noise = put_object(odb, 2, 100 * KIB, 1);
    dv_pack *pack = NULL;
    dv_pack_entry e;
    cr_assert_eq(dv_odb_locate(&pack, &e, odb, &text), 0, "only sealed packs are located");
    cr_assert_eq(dv_odb_flush(odb), 0, "%s", dv_error_last());

    cr_assert_eq(dv_odb_locate(&pack, &e, odb, &text), 1);
    cr_assert_eq(pack, dv_odb_pack_at(odb, 0));
    cr_assert_eq(e.flags, DV_PACK_ZSTD);
    cr_assert_eq(e.raw_len, 100 * KIB);
    cr_assert_lt(e.stored_len, e.raw_len - e.raw_len / 64);
    cr_assert_eq(e.type, type_of(1));

    cr_assert_eq(dv_odb_locate(&pack, &e, odb, &noise), 1);
    cr_assert_eq(e.flags, DV_PACK_RAW);
    cr_assert_eq(e.stored_len, 100 * KIB);
    assert_reads_object(odb, &text, 1, 100 * KIB);
    assert_reads_object(odb, &noise, 2, 100 * KIB);
    dv_odb_free(odb);
}

Test(odb, put_stored_keeps_the_callers_encoding)
{
    dv_odb *odb;
    open_odb(&odb, 0);
    size_t len = 64 * KIB;
    uint8_t *data = content(7, len);
    dv_oid id = id_of(data, len);
    size_t bound = ZSTD_compressBound(len);
    uint8_t *frame = malloc(bound);
    cr_assert_not_null(frame);
    size_t n = ZSTD_compress(frame, bound, data, len, 19);
    cr_assert(!ZSTD_isError(n));
    int added = -1;
    cr_assert_eq(dv_odb_put_stored(odb, &id, DV_OBJ_MANIFEST, (uint32_t)len, DV_PACK_ZSTD, frame,
                                   (uint32_t)n, dv_crc32c(frame, n), &added),
                 0, "%s", dv_error_last());
    cr_assert_eq(added, 1);
    dv_buf out = DV_BUF_INIT;
    uint8_t type = 0;
    cr_assert_eq(dv_odb_read(&out, &type, odb, &id), 0, "%s", dv_error_last());
    cr_assert_eq(type, DV_OBJ_MANIFEST);
    cr_assert_eq(out.len, len);
    cr_assert_eq(memcmp(out.ptr, data, len), 0);
    cr_assert_eq(dv_odb_flush(odb), 0, "%s", dv_error_last());
    dv_pack_entry e;
    cr_assert_eq(dv_odb_locate(NULL, &e, odb, &id), 1);
    cr_assert_eq(e.flags, DV_PACK_ZSTD);
    cr_assert_eq(e.stored_len, n);
    dv_buf_release(&out);
    free(frame);
    free(data);
    dv_odb_free(odb);
}

Test(odb, put_refuses_an_object_larger_than_64_mib)
{
    dv_odb *odb;
    open_odb(&odb, 0);
    size_t len = DV_OBJECT_MAX_BYTES + 1;
    uint8_t *big = calloc(len, 1); /* untouched zero pages: cheap */
    cr_assert_not_null(big);
    dv_oid id;
    memset(id.id, 0x11, DV_OID_BYTES);
    int added = -1;
    assert_error(dv_odb_put(odb, &id, DV_OBJ_CHUNK, big, len, &added), DV_EUSAGE, "too large");
    cr_assert_eq(dv_odb_has(odb, &id), 0);
    dv_odb_stats st;
    dv_odb_stats_get(odb, &st);
    cr_assert_eq(st.objects_added, 0);
    free(big);
    dv_odb_free(odb);
}

/* ---- sealing and reopening ---- */

Test(odb, flush_seals_a_pack_that_a_reopened_odb_finds)
{
    enum { N = 40 };
    dv_odb *odb;
    dv_oid ids[N];
    open_odb(&odb, 0);
    cr_assert_eq(dv_odb_flush(odb), 0, "flush of nothing");
    cr_assert_eq(count_files(packs_dir, NULL), 0, "an empty flush writes no pack");
    for (uint64_t k = 0; k < N; k++)
        ids[k] = put_object(odb, k, small_len(k), 1);
    cr_assert_eq(count_files(packs_dir, NULL), 0, "nothing is visible before the flush");
    cr_assert_eq(count_files(tmp_dir, NULL), 1, "the pack being written");
    cr_assert_eq(dv_odb_flush(odb), 0, "%s", dv_error_last());
    cr_assert_eq(count_files(packs_dir, ".pack"), 1);
    cr_assert_eq(count_files(packs_dir, ".idx"), 1);
    cr_assert_eq(count_files(packs_dir, NULL), 2);
    cr_assert_eq(count_files(tmp_dir, NULL), 0);
    cr_assert_eq(dv_odb_pack_count(odb), 1);
    cr_assert_eq(dv_pack_count(dv_odb_pack_at(odb, 0)), N);
    dv_odb_stats st;
    dv_odb_stats_get(odb, &st);
    cr_assert_eq(st.packs_written, 1);
    for (uint64_t k = 0; k < N; k++)
        assert_reads_object(odb, &ids[k], k, small_len(k));
    dv_odb_free(odb);

    open_odb(&odb, 0);
    cr_assert_eq(dv_odb_pack_count(odb), 1);
    for (uint64_t k = 0; k < N; k++) {
        dv_pack *pack = NULL;
        dv_pack_entry e;
        cr_assert_eq(dv_odb_locate(&pack, &e, odb, &ids[k]), 1);
        cr_assert_eq(pack, dv_odb_pack_at(odb, 0));
        cr_assert_eq(e.type, type_of(k));
        cr_assert_eq(e.raw_len, small_len(k));
        assert_reads_object(odb, &ids[k], k, small_len(k));
    }
    dv_odb_stats_get(odb, &st);
    cr_assert_eq(st.objects_added, 0, "stats are per odb handle");
    dv_odb_free(odb);
}

Test(odb, unsealed_objects_are_readable_before_flush)
{
    /* More than two write buffers' worth, so some objects are already in the temp file,
     * some lie across a buffer boundary and the last ones are still in memory. */
    enum { N = 80 };
    dv_odb *odb;
    dv_oid ids[N];
    open_odb(&odb, 0);
    for (uint64_t k = 0; k < N; k++) {
        ids[k] = put_object(odb, 2 * k, 250 * KIB + k, 1); /* random: stored raw */
        assert_reads_object(odb, &ids[k], 2 * k, 250 * KIB + k);
    }
    cr_assert_eq(dv_odb_pack_count(odb), 0);
    for (uint64_t k = 0; k < N; k++)
        assert_reads_object(odb, &ids[k], 2 * k, 250 * KIB + k);
    dv_odb_free(odb);
}

Test(odb, small_pack_target_seals_several_packs_during_puts)
{
    enum { N = 100 };
    const size_t len = 64 * KIB;
    dv_odb *odb;
    dv_oid ids[N];
    open_odb(&odb, MIB);
    for (uint64_t k = 0; k < N; k++)
        ids[k] = put_object(odb, 2 * k, len, 1);
    dv_odb_stats st;
    dv_odb_stats_get(odb, &st);
    cr_assert_geq(st.packs_written, 5, "%llu packs for %zu bytes with a 1 MiB target",
                  (unsigned long long)st.packs_written, N * len);
    cr_assert_eq(dv_odb_pack_count(odb), st.packs_written);
    for (size_t i = 0; i < dv_odb_pack_count(odb); i++) {
        struct stat pst;
        cr_assert_eq(stat(dv_pack_path(dv_odb_pack_at(odb, i)), &pst), 0);
        cr_assert_geq((uint64_t)pst.st_size, MIB, "pack %zu sealed before the target", i);
        cr_assert_lt((uint64_t)pst.st_size, MIB + len + 1024, "pack %zu overshoots", i);
    }
    for (uint64_t k = 0; k < N; k++)
        assert_reads_object(odb, &ids[k], 2 * k, len);
    cr_assert_eq(dv_odb_flush(odb), 0, "%s", dv_error_last());
    size_t n_packs = dv_odb_pack_count(odb);
    cr_assert_eq(count_files(packs_dir, ".pack"), n_packs);
    dv_odb_free(odb);

    open_odb(&odb, MIB);
    cr_assert_eq(dv_odb_pack_count(odb), n_packs);
    for (uint64_t k = 0; k < N; k++) {
        assert_reads_object(odb, &ids[k], 2 * k, len);
        size_t holders = 0;
        for (size_t i = 0; i < n_packs; i++)
            holders += dv_pack_find(dv_odb_pack_at(odb, i), &ids[k], NULL);
        cr_assert_eq(holders, 1, "object %llu is in %zu packs", (unsigned long long)k, holders);
    }
    dv_odb_free(odb);
}

Test(odb, pack_without_its_index_is_not_part_of_the_store)
{
    dv_odb *odb;
    open_odb(&odb, 0);
    dv_oid id = put_object(odb, 3, 10 * KIB, 1);
    cr_assert_eq(dv_odb_flush(odb), 0, "%s", dv_error_last());
    char idx_path[512];
    snprintf(idx_path, sizeof(idx_path), "%.*s.idx",
             (int)(strlen(dv_pack_path(dv_odb_pack_at(odb, 0))) - 5),
             dv_pack_path(dv_odb_pack_at(odb, 0)));
    dv_odb_free(odb);
    cr_assert_eq(unlink(idx_path), 0, "unlink %s: %s", idx_path, strerror(errno));
    open_odb(&odb, 0);
    cr_assert_eq(dv_odb_pack_count(odb), 0);
    cr_assert_eq(dv_odb_has(odb, &id), 0);
    put_object(odb, 3, 10 * KIB, 1);
    dv_odb_free(odb);
}

/* ---- abandoned writes ---- */

Test(odb, free_without_flush_leaves_no_pack_and_no_temp_file)
{
    dv_odb *odb;
    dv_oid ids[3];
    open_odb(&odb, 0);
    ids[0] = put_object(odb, 1, 10 * KIB, 1);
    ids[1] = put_object(odb, 2, 20 * MIB, 1); /* past the write buffer: bytes reach the file */
    ids[2] = put_object(odb, 3, 10 * KIB, 1);
    dv_odb_free(odb);
    cr_assert_eq(count_files(packs_dir, NULL), 0);
    cr_assert_eq(count_files(tmp_dir, NULL), 0);

    open_odb(&odb, 0);
    cr_assert_eq(dv_odb_remove_stale_tmp(odb), 0, "%s", dv_error_last());
    cr_assert_eq(count_files(tmp_dir, NULL), 0);
    for (int i = 0; i < 3; i++)
        cr_assert_eq(dv_odb_has(odb, &ids[i]), 0);
    dv_buf out = DV_BUF_INIT;
    assert_error(dv_odb_read(&out, NULL, odb, &ids[0]), DV_ENOTFOUND, dv_oid_hex(&ids[0]));
    dv_buf_release(&out);
    dv_odb_free(odb);
}

static void touch(const char *dir, const char *name)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    int fd = open(path, O_CREAT | O_WRONLY | O_TRUNC, 0444);
    cr_assert_geq(fd, 0, "create %s: %s", path, strerror(errno));
    cr_assert_eq(write(fd, "leftover", 8), 8);
    close(fd);
}

Test(odb, remove_stale_tmp_keeps_a_file_another_writer_holds)
{
    dv_odb *odb;
    open_odb(&odb, 0);
    touch(tmp_dir, "pack-held");
    touch(tmp_dir, "pack-killed");
    char path[512];
    snprintf(path, sizeof(path), "%s/pack-held", tmp_dir);
    int fd = open(path, O_RDONLY);
    cr_assert_geq(fd, 0);
    cr_assert_eq(flock(fd, LOCK_SH), 0, "as a pack writer holds its pack");
    cr_assert_eq(dv_odb_remove_stale_tmp(odb), 0, "%s", dv_error_last());
    cr_assert_eq(count_files(tmp_dir, NULL), 1, "only the held file stays");
    close(fd);
    cr_assert_eq(dv_odb_remove_stale_tmp(odb), 0, "%s", dv_error_last());
    cr_assert_eq(count_files(tmp_dir, NULL), 0, "released, it is a leftover");
    dv_odb_free(odb);
}

Test(odb, remove_stale_tmp_removes_leftovers_but_not_the_pack_being_written)
{
    dv_odb *odb;
    open_odb(&odb, 0);
    touch(tmp_dir, "pack-stale1");
    touch(tmp_dir, "something-else");
    cr_assert_eq(dv_odb_remove_stale_tmp(odb), 0, "%s", dv_error_last());
    cr_assert_eq(count_files(tmp_dir, NULL), 0);

    dv_oid a = put_object(odb, 1, 10 * KIB, 1);
    touch(tmp_dir, "something-else");
    cr_assert_eq(count_files(tmp_dir, NULL), 2);
    cr_assert_eq(dv_odb_remove_stale_tmp(odb), 0, "%s", dv_error_last());
    cr_assert_eq(count_files(tmp_dir, NULL), 1, "the pack being written stays");
    dv_oid b = put_object(odb, 2, 10 * KIB, 1);
    cr_assert_eq(dv_odb_flush(odb), 0, "%s", dv_error_last());
    dv_odb_free(odb);

    open_odb(&odb, 0);
    assert_reads_object(odb, &a, 1, 10 * KIB);
    assert_reads_object(odb, &b, 2, 10 * KIB);
    dv_odb_free(odb);
}

/* ---- missing objects ---- */

Test(odb, read_of_a_missing_object_is_not_found_and_names_it)
{
    dv_odb *odb;
    dv_oid missing;
    memset(missing.id, 0xab, DV_OID_BYTES);
    char hex[DV_OID_HEX_CHARS + 1];
    dv_oid_tohex(hex, &missing);
    dv_buf out = DV_BUF_INIT;
    uint8_t type = 0x77;
    open_odb(&odb, 0);

    /* Empty store, then with an unsealed pack, then with a sealed one. */
    for (int stage = 0; stage < 3; stage++) {
        if (stage == 1)
            put_object(odb, 1, 10 * KIB, 1);
        if (stage == 2)
            cr_assert_eq(dv_odb_flush(odb), 0, "%s", dv_error_last());
        cr_assert_eq(dv_odb_has(odb, &missing), 0);
        assert_error(dv_odb_read(&out, &type, odb, &missing), DV_ENOTFOUND, hex);
        cr_assert_eq(type, 0x77, "type untouched on failure");
        cr_assert_eq(dv_odb_locate(NULL, NULL, odb, &missing), 0);
    }
    dv_buf_release(&out);
    dv_odb_free(odb);
}

/* ---- threads ---- */

#define N_CONCURRENT 400

typedef struct reader {
    dv_odb *odb;
    const dv_oid *ids;
    atomic_size_t *published;
    atomic_int *done;
    uint64_t seed;
    size_t reads;
    int failures;
    char message[512];
} reader;

static void reader_fail(reader *r, const char *what, uint64_t k)
{
    if (!r->failures++)
        snprintf(r->message, sizeof(r->message), "object %llu: %s (%s)", (unsigned long long)k,
                 what, dv_error_last());
}

static void reader_check(reader *r, uint64_t k, dv_buf *out)
{
    size_t len = small_len(k);
    uint8_t type = 0;
    if (dv_odb_has(r->odb, &r->ids[k]) != 1) {
        reader_fail(r, "has() says absent", k);
        return;
    }
    if (dv_odb_read(out, &type, r->odb, &r->ids[k]) < 0) {
        reader_fail(r, "read failed", k);
        return;
    }
    uint8_t *want = malloc(len);
    if (!want)
        return;
    if (k % 2)
        fill_text(want, len, k);
    else
        fill_random(want, len, k);
    if (type != type_of(k) || out->len != len || memcmp(out->ptr, want, len))
        reader_fail(r, "wrong bytes or type", k);
    free(want);
    r->reads++;
}

static void *reader_main(void *arg)
{
    reader *r = arg;
    dv_buf out = DV_BUF_INIT;
    uint64_t state = r->seed;
    while (!atomic_load(r->done)) {
        size_t n = atomic_load(r->published);
        if (!n)
            continue;
        /* Alternate between the newest object (likely still unsealed) and any other. */
        uint64_t k = r->reads % 2 ? n - 1 : splitmix64(&state) % n;
        reader_check(r, k, &out);
    }
    for (uint64_t k = 0; k < N_CONCURRENT; k++)
        reader_check(r, k, &out);
    dv_buf_release(&out);
    return NULL;
}

Test(odb, reads_from_other_threads_during_puts_return_the_right_bytes)
{
    static dv_oid ids[N_CONCURRENT];
    for (int round = 0; round < 3; round++) {
        char name[32];
        snprintf(name, sizeof(name), "cache-%d", round);
        use_cache(name);
        for (uint64_t k = 0; k < N_CONCURRENT; k++) {
            uint8_t *data = content(k, small_len(k));
            ids[k] = id_of(data, small_len(k));
            free(data);
        }
        dv_odb *odb;
        open_odb(&odb, MIB); /* seals every MiB or so, while the readers read */
        atomic_size_t published = 0;
        atomic_int done = 0;
        reader readers[2];
        pthread_t threads[2];
        for (int t = 0; t < 2; t++) {
            memset(&readers[t], 0, sizeof(readers[t]));
            readers[t].odb = odb;
            readers[t].ids = ids;
            readers[t].published = &published;
            readers[t].done = &done;
            readers[t].seed = (uint64_t)(round * 2 + t + 1);
            cr_assert_eq(pthread_create(&threads[t], NULL, reader_main, &readers[t]), 0);
        }
        for (uint64_t k = 0; k < N_CONCURRENT; k++) {
            uint8_t *data = content(k, small_len(k));
            int added = -1;
            int rc = dv_odb_put(odb, &ids[k], type_of(k), data, small_len(k), &added);
            free(data);
            if (rc < 0 || added != 1) {
                atomic_store(&done, 1);
                for (int t = 0; t < 2; t++)
                    pthread_join(threads[t], NULL);
                cr_assert_fail("round %d: put %llu: rc %d added %d (%s)", round,
                               (unsigned long long)k, rc, added, dv_error_last());
            }
            atomic_store(&published, (size_t)(k + 1));
        }
        cr_assert_eq(dv_odb_flush(odb), 0, "%s", dv_error_last());
        atomic_store(&done, 1);
        for (int t = 0; t < 2; t++) {
            cr_assert_eq(pthread_join(threads[t], NULL), 0);
            cr_assert_eq(readers[t].failures, 0, "round %d, reader %d: %d failures, first: %s",
                         round, t, readers[t].failures, readers[t].message);
            cr_assert_gt(readers[t].reads, N_CONCURRENT, "round %d, reader %d read too little",
                         round, t);
        }
        dv_odb_stats st;
        dv_odb_stats_get(odb, &st);
        cr_assert_geq(st.packs_written, 3, "seals happened while the readers ran");
        cr_assert_eq(st.objects_added, N_CONCURRENT);
        dv_odb_free(odb);
    }
}

/* ---- sealing in the background ---- */

Test(odb, objects_of_the_pack_being_sealed_stay_readable_and_all_packs_end_sealed)
{
    enum { N = 120, BACK = 24 };
    const size_t len = 40 * KIB;
    dv_odb *odb;
    dv_oid ids[N];
    open_odb(&odb, 256 * KIB); /* a seal every 7 random or 14 text objects */
    for (uint64_t k = 0; k < N; k++) {
        ids[k] = put_object(odb, k, len, 1);
        /* the last objects are in the writer, the pack being sealed or sealed packs */
        for (uint64_t j = k >= BACK ? k - BACK : 0; j <= k; j++)
            assert_reads_object(odb, &ids[j], j, len);
        /* a second put of a recent object is found, whichever of the three holds it */
        if (k >= 8)
            put_object(odb, k - 8, len, 0);
    }
    cr_assert_eq(dv_odb_flush(odb), 0, "%s", dv_error_last());
    dv_odb_stats st;
    dv_odb_stats_get(odb, &st);
    cr_assert_geq(st.packs_written, 8, "%llu packs", (unsigned long long)st.packs_written);
    cr_assert_eq(dv_odb_pack_count(odb), st.packs_written);
    cr_assert_eq(count_files(packs_dir, ".pack"), st.packs_written);
    cr_assert_eq(count_files(packs_dir, ".idx"), st.packs_written, "a pack lacks its index");
    cr_assert_eq(count_files(tmp_dir, NULL), 0, "temp files left after flush");
    dv_odb_free(odb);

    open_odb(&odb, 256 * KIB);
    for (uint64_t k = 0; k < N; k++)
        assert_reads_object(odb, &ids[k], k, len);
    dv_odb_free(odb);
}

/* ---- an alternate store and a fetch function ---- */

/* Read id (without asking dv_odb_has first, which never fetches) and compare with object k. */
static void assert_read_gives(dv_odb *odb, const dv_oid *id, uint64_t k)
{
    size_t len = small_len(k);
    uint8_t *want = content(k, len);
    dv_buf out = DV_BUF_INIT;
    uint8_t type = 0;
    cr_assert_eq(dv_odb_read(&out, &type, odb, id), 0, "read %llu: %s", (unsigned long long)k,
                 dv_error_last());
    cr_assert_eq(type, type_of(k));
    cr_assert_eq(out.len, len);
    cr_assert_eq(memcmp(out.ptr, want, len), 0, "object %llu reads back wrong",
                 (unsigned long long)k);
    dv_buf_release(&out);
    free(want);
}

typedef struct fake_remote {
    dv_odb *into;     /* where "fetched" objects go */
    uint64_t first_k; /* the objects it can supply: k = first_k .. first_k + n_known - 1 */
    size_t n_known;
    size_t calls, ids_asked;
} fake_remote;

/* Put each asked-for object into the alternate, or fail on one it does not know. */
static int fake_fetch(void *ctx, const dv_oid *ids, size_t n)
{
    fake_remote *r = ctx;
    r->calls++;
    r->ids_asked += n;
    for (size_t i = 0; i < n; i++) {
        int known = 0;
        for (size_t j = 0; j < r->n_known && !known; j++) {
            uint64_t k = r->first_k + j;
            uint8_t *data = content(k, small_len(k));
            dv_oid id = id_of(data, small_len(k));
            if (!dv_oid_cmp(&id, &ids[i])) {
                known = 1;
                cr_assert_eq(dv_odb_put(r->into, &id, type_of(k), data, small_len(k), NULL), 0);
            }
            free(data);
        }
        if (!known)
            return dv_error_set(DV_ENOTFOUND, "object %s is not on the fake remote",
                                dv_oid_hex(&ids[i]));
    }
    return 0;
}

Test(odb, reads_that_miss_look_in_the_alternate_and_writes_stay_in_the_store)
{
    dv_odb *odb, *alt;
    use_cache("alt");
    open_odb(&alt, 0);
    dv_oid in_alt = put_object(alt, 3, small_len(3), 1);
    cr_assert_eq(dv_odb_flush(alt), 0);
    dv_oid unsealed = put_object(alt, 5, small_len(5), 1);
    use_cache("main");
    open_odb(&odb, 0);
    dv_oid in_main = put_object(odb, 4, small_len(4), 1);

    cr_assert_eq(dv_odb_has(odb, &in_alt), 0, "no alternate yet");
    dv_odb_set_alternate(odb, alt, NULL, NULL);
    assert_reads_object(odb, &in_alt, 3, small_len(3));
    assert_reads_object(odb, &unsealed, 5, small_len(5));
    assert_reads_object(odb, &in_main, 4, small_len(4));
    dv_pack *pack = NULL;
    dv_pack_entry e;
    cr_assert_eq(dv_odb_locate(&pack, &e, odb, &in_alt), 1, "a sealed object of the alternate");
    cr_assert_eq(dv_odb_fetches(odb), 0);
    cr_assert_eq(dv_odb_prefetch(odb, &in_main, 1), 0, "no fetch function: nothing to do");
    /* a put of what the alternate holds still goes to the store */
    put_object(odb, 3, small_len(3), 1);
    dv_odb_set_alternate(odb, NULL, NULL, NULL);
    assert_reads_object(odb, &in_alt, 3, small_len(3));
    cr_assert_eq(dv_odb_has(odb, &unsealed), 0, "detached");
    cr_assert_eq(dv_odb_has(alt, &in_main), 0, "the store's objects never reach the alternate");
    dv_odb_free(odb);
    dv_odb_free(alt);
}

Test(odb, a_read_that_misses_both_fetches_it_once_and_prefetch_asks_only_for_the_missing)
{
    dv_odb *odb, *alt;
    use_cache("alt");
    open_odb(&alt, 0);
    use_cache("main");
    open_odb(&odb, 0);
    fake_remote r = {alt, 10, 6, 0, 0};
    dv_oid ids[6];
    for (size_t j = 0; j < 6; j++) {
        uint8_t *data = content(10 + j, small_len(10 + j));
        ids[j] = id_of(data, small_len(10 + j));
        free(data);
    }
    put_object(odb, 10, small_len(10), 1); /* ids[0] in the store */
    dv_odb_set_alternate(odb, alt, fake_fetch, &r);
    cr_assert_eq(dv_odb_fetches(odb), 1);

    assert_read_gives(odb, &ids[1], 11);
    cr_assert_eq(r.calls, 1);
    cr_assert_eq(r.ids_asked, 1);
    assert_read_gives(odb, &ids[1], 11);
    cr_assert_eq(r.calls, 1, "read again from the alternate, not fetched again");

    cr_assert_eq(dv_odb_prefetch(odb, ids, 6), 0, "%s", dv_error_last());
    cr_assert_eq(r.calls, 2);
    cr_assert_eq(r.ids_asked, 1 + 4, "ids[0] and ids[1] are held: four asked for");
    for (size_t j = 0; j < 6; j++)
        assert_read_gives(odb, &ids[j], 10 + j);
    cr_assert_eq(dv_odb_prefetch(odb, ids, 6), 0);
    cr_assert_eq(r.calls, 2, "nothing missing: no call");
    cr_assert_eq(dv_odb_has(odb, &ids[3]), 1);

    /* what the fetch function cannot bring is its error; has never fetches */
    dv_oid unknown;
    memset(unknown.id, 0x5a, DV_OID_BYTES);
    cr_assert_eq(dv_odb_has(odb, &unknown), 0);
    cr_assert_eq(r.calls, 2);
    dv_buf out = DV_BUF_INIT;
    assert_error(dv_odb_read(&out, NULL, odb, &unknown), DV_ENOTFOUND, "fake remote");
    cr_assert_eq(r.calls, 3);
    dv_buf_release(&out);
    dv_odb_set_alternate(odb, NULL, NULL, NULL);
    dv_odb_free(odb);
    dv_odb_free(alt);
}

Test(odb, adopted_packs_become_the_stores_and_leave_the_staging_store)
{
    /* a staging store with the store as its alternate: what the store has is not stored
     * again, the rest fills several sealed packs, which then move over whole */
    dv_odb *odb, *staging;
    use_cache("main");
    open_odb(&odb, 0);
    dv_oid old = put_object(odb, 1, 5000, 1);
    cr_assert_eq(dv_odb_flush(odb), 0);
    char main_packs[128];
    snprintf(main_packs, sizeof(main_packs), "%s", packs_dir);
    cr_assert_eq(count_files(main_packs, ".idx"), 1);

    use_cache("staging");
    open_odb(&staging, 64 * 1024);
    dv_odb_set_alternate(staging, odb, NULL, NULL);
    cr_assert_eq(dv_odb_has(staging, &old), 1);
    dv_oid ids[40];
    for (uint64_t k = 0; k < 40; k++)
        ids[k] = put_object(staging, 100 + k, 10000, 1);
    cr_assert_eq(dv_odb_flush(staging), 0);
    size_t staged = count_files(packs_dir, ".idx");
    cr_assert_geq(staged, 2, "the small target seals several packs");
    for (uint64_t k = 0; k < 40; k++)
        cr_assert_eq(dv_odb_has(odb, &ids[k]), 0, "in the store before the adoption");

    cr_assert_eq(dv_odb_adopt_packs(odb, staging), 0, "%s", dv_error_last());
    cr_assert_eq(count_files(packs_dir, ".pack"), 0, "packs left in the staging store");
    cr_assert_eq(count_files(packs_dir, ".idx"), 0);
    cr_assert_eq(count_files(main_packs, ".idx"), staged + 1);
    cr_assert_eq(count_files(main_packs, ".pack"), staged + 1);
    for (uint64_t k = 0; k < 40; k++)
        assert_reads_object(odb, &ids[k], 100 + k, 10000);
    dv_odb_free(staging);
    dv_odb_free(odb);

    /* and a store opened afresh finds them */
    use_cache("main");
    open_odb(&odb, 0);
    for (uint64_t k = 0; k < 40; k++)
        assert_reads_object(odb, &ids[k], 100 + k, 10000);
    assert_reads_object(odb, &old, 1, 5000);
    dv_odb_free(odb);
}
