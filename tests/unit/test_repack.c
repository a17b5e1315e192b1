/* Unit tests for storage/repack: what stays, what goes, and the counts, to the byte. */
#include "core/base/buf.h"
#include "core/base/error.h"
#include "core/object/hash.h"
#include "core/object/object.h"
#include "core/object/oidset.h"
#include "storage/odb.h"
#include "storage/repack.h"

#include "testutil.h"

#include <criterion/criterion.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define OBJECT_BYTES ((size_t)40 * 1024) /* random: stored raw, so stored_len is known */

static char root_dir[64];
static char cache_dir[96];
static char packs_dir[128];

static void make_dirs(void)
{
    testutil_make_root(root_dir, sizeof(root_dir), "repack");
    snprintf(cache_dir, sizeof(cache_dir), "%s/cache", root_dir);
    snprintf(packs_dir, sizeof(packs_dir), "%s/packs", cache_dir);
}

static void remove_dirs(void)
{
    testutil_remove_tree(root_dir);
}

TestSuite(repack, .init = make_dirs, .fini = remove_dirs, .timeout = 60);

static dv_oid put_random(dv_odb *odb, uint64_t seed)
{
    uint8_t *data = malloc(OBJECT_BYTES);
    cr_assert_not_null(data);
    fill_random(data, OBJECT_BYTES, seed);
    dv_oid id;
    cr_assert_eq(dv_odb_put_hashed(&id, odb, DV_OBJ_CHUNK, data, OBJECT_BYTES, NULL), 0, "%s",
                 dv_error_last());
    free(data);
    return id;
}

static int64_t now_ns(int64_t plus_seconds)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return ((int64_t)ts.tv_sec + plus_seconds) * 1000000000 + ts.tv_nsec;
}

static size_t count_packs(void)
{
    DIR *d = opendir(packs_dir);
    cr_assert_not_null(d);
    size_t n = 0;
    struct dirent *de;
    while ((de = readdir(d)))
        n += strstr(de->d_name, ".pack") != NULL;
    closedir(d);
    return n;
}

/* The sizes the formats document gives: a pack of n raw objects and its index. */
static int64_t pack_and_index_bytes(int64_t n)
{
    return 8 + n * (48 + (int64_t)OBJECT_BYTES) + 32 + 44 + 1024 + n * 52 + 32;
}

/* Two packs of ten objects; ids[0..9] in the first, ids[10..19] in the second. */
static void make_store(dv_oid ids[20])
{
    dv_odb *odb;
    cr_assert_eq(dv_odb_open(&odb, cache_dir, NULL), 0, "%s", dv_error_last());
    for (int i = 0; i < 20; i++) {
        ids[i] = put_random(odb, 100 + (uint64_t)i);
        if (i == 9)
            cr_assert_eq(dv_odb_flush(odb), 0, "%s", dv_error_last());
    }
    cr_assert_eq(dv_odb_flush(odb), 0, "%s", dv_error_last());
    dv_odb_free(odb);
    cr_assert_eq(count_packs(), 2);
}

Test(repack, keeps_the_kept_objects_and_counts_what_goes_to_the_byte)
{
    dv_oid ids[20];
    make_store(ids);
    dv_oidset keep = DV_OIDSET_INIT;
    for (int i = 0; i < 20; i++)
        if (i < 5 || i >= 10)
            cr_assert_eq(dv_oidset_add(&keep, &ids[i]), 1);

    dv_odb *odb;
    dv_repack_result dry, real;
    cr_assert_eq(dv_odb_open(&odb, cache_dir, NULL), 0, "%s", dv_error_last());
    dv_repack_options opts = {&keep, now_ns(10), 0, 1, 0, NULL};
    cr_assert_eq(dv_repack(&dry, odb, &opts), 0, "%s", dv_error_last());
    cr_assert_eq(count_packs(), 2, "a dry run changes nothing");
    opts.dry_run = 0;
    int rc = dv_repack(&real, odb, &opts);
    cr_assert_eq(rc, 0, "%d %s", rc, dv_error_last());
    dv_odb_free(odb);

    cr_assert_eq(real.objects_kept, 15);
    cr_assert_eq(real.objects_freed, 5);
    cr_assert_eq(real.packs_kept, 1);
    cr_assert_eq(real.packs_rewritten, 1);
    cr_assert_eq(real.packs_deleted, 0);
    cr_assert_eq(real.packs_written, 1);
    cr_assert_eq(real.bytes_freed, pack_and_index_bytes(10) - pack_and_index_bytes(5));
    cr_assert_eq(real.bytes_kept, (uint64_t)(pack_and_index_bytes(10) + pack_and_index_bytes(5)));
    cr_assert_eq(memcmp(&dry, &real, sizeof(dry)), 0, "the dry run counted what the run did");
    cr_assert_eq(count_packs(), 2);

    cr_assert_eq(dv_odb_open(&odb, cache_dir, NULL), 0, "%s", dv_error_last());
    dv_buf out = DV_BUF_INIT;
    for (int i = 0; i < 20; i++) {
        int kept = i < 5 || i >= 10;
        cr_assert_eq(dv_odb_has(odb, &ids[i]), kept, "object %d", i);
        if (kept)
            cr_assert_eq(dv_odb_read(&out, NULL, odb, &ids[i]), 0, "%s", dv_error_last());
    }
    dv_buf_release(&out);
    dv_odb_free(odb);
    dv_oidset_release(&keep);
}

Test(repack, deletes_a_pack_of_nothing_kept_and_leaves_newer_packs)
{
    dv_oid ids[20];
    make_store(ids);
    dv_oidset keep = DV_OIDSET_INIT;
    for (int i = 10; i < 20; i++)
        cr_assert_eq(dv_oidset_add(&keep, &ids[i]), 1);
    dv_odb *odb;
    dv_repack_result r;
    cr_assert_eq(dv_odb_open(&odb, cache_dir, NULL), 0, "%s", dv_error_last());
    dv_repack_options opts = {&keep, now_ns(-3600), 0, 0, 0, NULL};
    cr_assert_eq(dv_repack(&r, odb, &opts), 0, "%s", dv_error_last());
    cr_assert_eq(r.objects_freed, 0, "packs newer than the start are not touched");
    cr_assert_eq(r.packs_kept, 2);
    cr_assert_eq(count_packs(), 2);
    opts.touch_before_ns = now_ns(10);
    cr_assert_eq(dv_repack(&r, odb, &opts), 0, "%s", dv_error_last());
    dv_odb_free(odb);
    cr_assert_eq(r.packs_deleted, 1);
    cr_assert_eq(r.packs_written, 0);
    cr_assert_eq(r.objects_freed, 10);
    cr_assert_eq(r.bytes_freed, pack_and_index_bytes(10));
    cr_assert_eq(count_packs(), 1);
    dv_oidset_release(&keep);
}
