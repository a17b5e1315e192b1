/*
 * Tests for remotes/file (the directory backend), core/remote_index (what a remote holds,
 * through its cached pack indexes) and core/oidset.
 */
#include "core/base/buf.h"
#include "core/base/error.h"
#include "core/base/fs.h"
#include "core/base/pool.h"
#include "core/object/hash.h"
#include "core/object/oidset.h"
#include "remotes/file.h"
#include "remotes/remote_index.h"
#include "storage/pack.h"

#include "testutil.h"

#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char root_dir[64];

static void make_dirs(void)
{
    testutil_make_root(root_dir, sizeof(root_dir), "remote");
}

static void remove_dirs(void)
{
    testutil_remove_tree(root_dir);
}

TestSuite(remote_file, .init = make_dirs, .fini = remove_dirs, .timeout = 60);
TestSuite(remote_index, .init = make_dirs, .fini = remove_dirs, .timeout = 60);
TestSuite(oidset, .timeout = 60);

static void path_in_root(dv_buf *out, const char *name)
{
    dv_buf_clear(out);
    cr_assert_eq(dv_buf_printf(out, "%s/%s", root_dir, name), 0);
}

static void write_local(const char *path, const uint8_t *data, size_t len)
{
    cr_assert_eq(dv_fs_write_atomic(path, data, len, 0644, 0), 0, "%s", dv_error_last());
}

Test(remote_file, put_get_list_remove)
{
    dv_buf dir = DV_BUF_INIT, local = DV_BUF_INIT;
    path_in_root(&dir, "remote");
    path_in_root(&local, "local.bin");
    size_t len = 3 * 1024 * 1024 + 17;
    uint8_t *data = malloc(len), *back = malloc(len);
    fill_random(data, len, 7);
    write_local(local.ptr, data, len);

    dv_remote *r;
    cr_assert_eq(dv_remote_file_open(&r, dir.ptr), 0, "%s", dv_error_last());
    testutil_listed s = {0};
    cr_assert_eq(r->ops->list(r, "packs/", testutil_listed_add, &s), 0,
                 "a remote that does not exist yet");
    cr_assert_eq(s.n, 0);

    cr_assert_eq(r->ops->put_file(r, "packs/a.pack", local.ptr), 0, "%s", dv_error_last());
    cr_assert_eq(r->ops->put_file(r, "packs/b.idx", local.ptr), 0, "%s", dv_error_last());
    cr_assert_eq(r->ops->put_file(r, "other/c", local.ptr), 0, "%s", dv_error_last());
    cr_assert_eq(r->ops->list(r, "packs/", testutil_listed_add, &s), 0);
    cr_assert_eq(s.n, 2, "only names under packs/ are listed");
    int a = testutil_listed_find(&s, "packs/a.pack");
    cr_assert_geq(a, 0);
    cr_assert_eq(s.sizes[a], len);
    cr_assert_geq(testutil_listed_find(&s, "packs/b.idx"), 0);

    /* ranges: whole, middle, last byte */
    cr_assert_eq(r->ops->get(r, "packs/a.pack", 0, len, back), 0, "%s", dv_error_last());
    cr_assert_eq(memcmp(back, data, len), 0);
    cr_assert_eq(r->ops->get(r, "packs/a.pack", 1000003, 65536, back), 0);
    cr_assert_eq(memcmp(back, data + 1000003, 65536), 0);
    cr_assert_eq(r->ops->get(r, "packs/a.pack", len - 1, 1, back), 0);
    cr_assert_eq(back[0], data[len - 1]);
    cr_assert_eq(r->ops->get(r, "packs/a.pack", len - 10, 11, back), DV_ECORRUPT,
                 "a range past the end is an error");
    cr_assert_eq(r->ops->get(r, "packs/missing.pack", 0, 1, back), DV_ENOTFOUND);
    cr_assert(strstr(dv_error_last(), "packs/missing.pack"), "message names the object: %s",
              dv_error_last());

    /* a put replaces nothing half-way: no temp file stays, the file is read-only */
    dv_buf p = DV_BUF_INIT;
    cr_assert_eq(dv_buf_printf(&p, "%s/packs/a.pack", dir.ptr), 0);
    struct stat st;
    cr_assert_eq(stat(p.ptr, &st), 0);
    cr_assert_eq(st.st_mode & 0222, 0, "remote objects are written once, read-only");

    cr_assert_eq(r->ops->remove(r, "packs/a.pack"), 0);
    cr_assert_eq(r->ops->remove(r, "packs/a.pack"), 0, "removing an absent object is fine");
    cr_assert_eq(r->ops->get(r, "packs/a.pack", 0, 1, back), DV_ENOTFOUND);

    cr_assert_eq(r->stats.put_requests, 3);
    cr_assert_eq(r->stats.bytes_sent, 3 * (uint64_t)len);
    cr_assert_eq(r->stats.list_requests, 1, "the listing of a missing directory made no request");
    cr_assert_eq(r->stats.get_requests, 3, "successful gets");
    dv_remote_free(r);
    dv_buf_release(&p);
    dv_buf_release(&dir);
    dv_buf_release(&local);
    free(data);
    free(back);
}

/* A sealed pack of n random objects in dir; ids of the objects go to ids. */
static void make_pack(dv_oid *pack_id, dv_oid *ids, size_t n, const char *dir, uint64_t seed)
{
    dv_pack_writer *w;
    cr_assert_eq(dv_fs_mkdir_p(dir, 0755), 0);
    cr_assert_eq(dv_pack_writer_new(&w, dir), 0, "%s", dv_error_last());
    uint8_t buf[3000];
    for (size_t i = 0; i < n; i++) {
        fill_random(buf, sizeof(buf), seed * 1000 + i);
        cr_assert_eq(dv_hash_buffer(&ids[i], buf, sizeof(buf)), 0);
        cr_assert_eq(
            dv_pack_writer_append(w, &ids[i], 1, DV_PACK_RAW, sizeof(buf), buf, sizeof(buf)), 0);
    }
    cr_assert_eq(dv_pack_writer_finish(pack_id, w, dir), 0, "%s", dv_error_last());
}

static void upload_pack(dv_remote *r, const char *dir, const dv_oid *pack_id, int with_index)
{
    dv_buf name = DV_BUF_INIT, path = DV_BUF_INIT;
    const char *hex = dv_oid_hex(pack_id);
    cr_assert_eq(dv_buf_printf(&path, "%s/%s.pack", dir, hex), 0);
    cr_assert_eq(dv_remote_pack_name(&name, pack_id, ".pack"), 0);
    cr_assert_eq(r->ops->put_file(r, name.ptr, path.ptr), 0, "%s", dv_error_last());
    if (with_index) {
        dv_buf_clear(&path);
        cr_assert_eq(dv_buf_printf(&path, "%s/%s.idx", dir, hex), 0);
        cr_assert_eq(dv_remote_pack_name(&name, pack_id, ".idx"), 0);
        cr_assert_eq(r->ops->put_file(r, name.ptr, path.ptr), 0, "%s", dv_error_last());
    }
    dv_buf_release(&name);
    dv_buf_release(&path);
}

Test(remote_index, learns_caches_and_prunes)
{
    dv_buf local = DV_BUF_INIT, rdir = DV_BUF_INIT, cache = DV_BUF_INIT;
    path_in_root(&local, "local");
    path_in_root(&rdir, "remote");
    path_in_root(&cache, "cache");
    dv_oid p1, p2, p3, ids1[20], ids2[5], ids3[3];
    make_pack(&p1, ids1, 20, local.ptr, 1);
    make_pack(&p2, ids2, 5, local.ptr, 2);
    make_pack(&p3, ids3, 3, local.ptr, 3);
    dv_remote *r;
    dv_pool *pool;
    cr_assert_eq(dv_pool_new(&pool, 3), 0);
    cr_assert_eq(dv_remote_file_open(&r, rdir.ptr), 0);
    upload_pack(r, local.ptr, &p1, 1);
    upload_pack(r, local.ptr, &p2, 1);
    upload_pack(r, local.ptr, &p3, 0); /* an upload that stopped before its index */

    dv_remote_index *ri;
    uint64_t gets = r->stats.get_requests;
    cr_assert_eq(dv_remote_index_load(&ri, r, cache.ptr, pool), 0, "%s", dv_error_last());
    cr_assert_eq(dv_remote_index_pack_count(ri), 2, "the pack without an index is not there");
    cr_assert_eq(r->stats.get_requests - gets, 2, "one get per new index");
    dv_pack *pack;
    dv_pack_entry e;
    for (int i = 0; i < 20; i++) {
        cr_assert_eq(dv_remote_index_find(ri, &ids1[i], &pack, &e), 1);
        cr_assert_eq(memcmp(dv_pack_id(pack)->id, p1.id, DV_OID_BYTES), 0);
        cr_assert_eq(e.raw_len, 3000);
        cr_assert_eq(dv_pack_check_bounds(pack, &e), 0, "%s", dv_error_last());
    }
    for (int i = 0; i < 3; i++)
        cr_assert_eq(dv_remote_index_find(ri, &ids3[i], NULL, NULL), 0);
    dv_remote_index_free(ri);

    /* again: everything from the cache */
    gets = r->stats.get_requests;
    cr_assert_eq(dv_remote_index_load(&ri, r, cache.ptr, pool), 0, "%s", dv_error_last());
    cr_assert_eq(r->stats.get_requests, gets, "cached indexes are not downloaded again");
    cr_assert_eq(dv_remote_index_pack_count(ri), 2);
    /* a pack uploaded by this command joins without a download */
    dv_buf idx = DV_BUF_INIT;
    cr_assert_eq(dv_buf_printf(&idx, "%s/%s.idx", local.ptr, dv_oid_hex(&p3)), 0);
    upload_pack(r, local.ptr, &p3, 1);
    struct stat st;
    dv_buf pack_path = DV_BUF_INIT;
    cr_assert_eq(dv_buf_printf(&pack_path, "%s/%s.pack", local.ptr, dv_oid_hex(&p3)), 0);
    cr_assert_eq(stat(pack_path.ptr, &st), 0);
    cr_assert_eq(dv_remote_index_add(ri, idx.ptr, &p3, (uint64_t)st.st_size), 0, "%s",
                 dv_error_last());
    cr_assert_eq(dv_remote_index_find(ri, &ids3[1], NULL, NULL), 1);
    dv_remote_index_free(ri);

    /* the remote loses a pack: its cached index is dropped */
    dv_buf name = DV_BUF_INIT;
    cr_assert_eq(dv_remote_pack_name(&name, &p2, ".idx"), 0);
    cr_assert_eq(r->ops->remove(r, name.ptr), 0);
    cr_assert_eq(dv_remote_index_load(&ri, r, cache.ptr, pool), 0, "%s", dv_error_last());
    cr_assert_eq(dv_remote_index_pack_count(ri), 2);
    cr_assert_eq(dv_remote_index_find(ri, &ids2[0], NULL, NULL), 0);
    cr_assert_eq(dv_remote_index_find(ri, &ids3[0], NULL, NULL), 1);
    dv_remote_index_free(ri);

    dv_remote_free(r);
    dv_pool_free(pool);
    dv_buf_release(&name);
    dv_buf_release(&idx);
    dv_buf_release(&pack_path);
    dv_buf_release(&local);
    dv_buf_release(&rdir);
    dv_buf_release(&cache);
}

Test(remote_index, damaged_index_on_the_remote_is_refused)
{
    dv_buf local = DV_BUF_INIT, rdir = DV_BUF_INIT, cache = DV_BUF_INIT, p = DV_BUF_INIT;
    path_in_root(&local, "local");
    path_in_root(&rdir, "remote");
    path_in_root(&cache, "cache");
    dv_oid p1, ids[4];
    make_pack(&p1, ids, 4, local.ptr, 9);
    /* flip one byte of a record in the local index, then upload it */
    cr_assert_eq(dv_buf_printf(&p, "%s/%s.idx", local.ptr, dv_oid_hex(&p1)), 0);
    dv_buf data = DV_BUF_INIT;
    cr_assert_eq(dv_fs_read_file(&data, p.ptr, 1 << 20), 0);
    data.ptr[data.len - 40] ^= 1;
    cr_assert_eq(chmod(p.ptr, 0644), 0);
    write_local(p.ptr, (uint8_t *)data.ptr, data.len);
    dv_remote *r;
    dv_pool *pool;
    cr_assert_eq(dv_pool_new(&pool, 2), 0);
    cr_assert_eq(dv_remote_file_open(&r, rdir.ptr), 0);
    upload_pack(r, local.ptr, &p1, 1);
    dv_remote_index *ri = NULL;
    cr_assert_eq(dv_remote_index_load(&ri, r, cache.ptr, pool), DV_ECORRUPT);
    cr_assert(strstr(dv_error_last(), "checksum"), "%s", dv_error_last());
    cr_assert(strstr(dv_error_last(), dv_oid_hex(&p1)), "names the index: %s", dv_error_last());
    dv_remote_free(r);
    dv_pool_free(pool);
    dv_buf_release(&data);
    dv_buf_release(&p);
    dv_buf_release(&local);
    dv_buf_release(&rdir);
    dv_buf_release(&cache);
}

Test(oidset, add_has_and_grow)
{
    dv_oidset set = DV_OIDSET_INIT;
    dv_oid id;
    memset(&id, 0, sizeof(id));
    cr_assert_eq(dv_oidset_has(&set, &id), 0, "an empty set has nothing");
    for (uint32_t i = 0; i < 50000; i++) {
        cr_assert_eq(dv_hash_buffer(&id, &i, sizeof(i)), 0);
        cr_assert_eq(dv_oidset_add(&set, &id), 1);
    }
    cr_assert_eq(dv_oidset_count(&set), 50000);
    for (uint32_t i = 0; i < 50000; i += 7) {
        cr_assert_eq(dv_hash_buffer(&id, &i, sizeof(i)), 0);
        cr_assert_eq(dv_oidset_has(&set, &id), 1);
        cr_assert_eq(dv_oidset_add(&set, &id), 0, "adding again says it was there");
    }
    for (uint32_t i = 50000; i < 51000; i++) {
        cr_assert_eq(dv_hash_buffer(&id, &i, sizeof(i)), 0);
        cr_assert_eq(dv_oidset_has(&set, &id), 0);
    }
    /* ids that share their leading 8 bytes land in the same slot and must stay apart */
    dv_oid a, b;
    memset(&a, 0x11, sizeof(a));
    b = a;
    b.id[31] ^= 1;
    cr_assert_eq(dv_oidset_add(&set, &a), 1);
    cr_assert_eq(dv_oidset_has(&set, &b), 0);
    cr_assert_eq(dv_oidset_add(&set, &b), 1);
    cr_assert_eq(dv_oidset_count(&set), 50002);
    dv_oidset_release(&set);
}
