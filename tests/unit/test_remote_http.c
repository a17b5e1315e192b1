/*
 * Tests for remotes/http (the read-only HTTP mirror: its parser of HTML listings, opening,
 * refusing writes) and for core/remote_index over a remote that does not tell sizes.
 */
#include "core/base/buf.h"
#include "core/base/error.h"
#include "core/base/fs.h"
#include "core/base/pool.h"
#include "core/object/hash.h"
#include "remotes/file.h"
#include "remotes/http.h"
#include "remotes/remote_index.h"
#include "storage/pack.h"

#include "testutil.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define HEX_A "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define HEX_B "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static char root_dir[64];

static void make_dirs(void)
{
    testutil_make_root(root_dir, sizeof(root_dir), "remote-http");
}

static void remove_dirs(void)
{
    testutil_remove_tree(root_dir);
}

TestSuite(http_listing, .timeout = 60);
TestSuite(remote_http, .timeout = 60);
TestSuite(remote_index_unknown_sizes, .init = make_dirs, .fini = remove_dirs, .timeout = 60);

static int parse(const char *html, testutil_listed *s)
{
    return dv_http__parse_listing(html, strlen(html), testutil_listed_add, s);
}

Test(http_listing, relative_links_of_an_nginx_autoindex)
{
    const char *html =
        "<html>\r\n<head><title>Index of /packs/</title></head>\r\n<body>\r\n"
        "<h1>Index of /packs/</h1><hr><pre><a href=\"../\">../</a>\r\n"
        "<a href=\"" HEX_A ".idx\">" HEX_A ".idx</a>    23-Nov-2026 20:15    1180\r\n"
        "<a href=\"" HEX_A ".pack\">" HEX_A ".pa..&gt;</a> 23-Nov-2026 20:15  9\r\n"
        "</pre><hr></body>\r\n</html>\r\n";
    testutil_listed s = {0};
    cr_assert_eq(parse(html, &s), 0, "%s", dv_error_last());
    cr_assert_eq(s.n, 2);
    cr_assert_str_eq(s.names[0], HEX_A ".idx");
    cr_assert_str_eq(s.names[1], HEX_A ".pack");
    cr_assert_eq(s.sizes[0], DV_REMOTE_SIZE_UNKNOWN, "listings do not give sizes");
    cr_assert_eq(s.sizes[1], DV_REMOTE_SIZE_UNKNOWN);
}

Test(http_listing, absolute_links_quotes_and_unquoted_values)
{
    const char *html =
        "<a href='/mirror/packs/" HEX_A ".pack'>x</a>"
        "<A HREF=http://example.com/m/packs/" HEX_B ".idx>y</A>"
        "<a class=\"f\" href = \"https://h/packs/" HEX_B ".pack?download=1#top\">z</a>"
        "<td><a\nhref=\"./" HEX_A ".idx\">w</a>";
    testutil_listed s = {0};
    cr_assert_eq(parse(html, &s), 0, "%s", dv_error_last());
    cr_assert_eq(s.n, 4);
    cr_assert_str_eq(s.names[0], HEX_A ".pack");
    cr_assert_str_eq(s.names[1], HEX_B ".idx");
    cr_assert_str_eq(s.names[2], HEX_B ".pack", "query and fragment are not part of the name");
    cr_assert_str_eq(s.names[3], HEX_A ".idx");
}

Test(http_listing, percent_encoded_names_are_decoded)
{
    const char *html =
        "<a href=\"%61%61%61aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
        "%2Epack\">a</a>"
        "<a href=\"packs%2F" HEX_B "%2eidx\">b</a>";
    testutil_listed s = {0};
    cr_assert_eq(parse(html, &s), 0, "%s", dv_error_last());
    cr_assert_eq(s.n, 1, "an encoded '/' does not split a segment");
    cr_assert_str_eq(s.names[0], HEX_A ".pack");
}

Test(http_listing, junk_is_skipped)
{
    const char *html =
        "<a href=\"?C=N;O=D\">Name</a><a href=\"/\">Parent</a><a href=\"packs/\">dir</a>"
        "<a href=\"" HEX_A ".pack.tmp\">t</a><a href=\"." HEX_A ".pack.tmp-abc123\">t</a>"
        "<a "
        "href=\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA.pack\">upper</a>"
        "<a href=\"aaaa.pack\">short</a><a href=\"" HEX_A "a.pack\">long</a>"
        "<a href=\"" HEX_A ".zip\">zip</a><a href=\"%zz" HEX_A ".idx\">bad escape</a>"
        "<a href=\"" HEX_A ".idx%\">cut escape</a><a href=\"" HEX_A "%00.idx\">nul</a>"
        "<div data-href=\"" HEX_A ".idx\">not a link</div><a href=>empty</a><p>href</p>"
        "<a href=\"" HEX_B ".idx\">kept</a>"
        "<a href=\"" HEX_B ".pack";
    testutil_listed s = {0};
    cr_assert_eq(parse(html, &s), 0, "%s", dv_error_last());
    cr_assert_eq(s.n, 1, "only one well-formed name: got %d (%s)", s.n, s.n ? s.names[0] : "");
    cr_assert_str_eq(s.names[0], HEX_B ".idx");
    cr_assert_eq(parse("", &s), 0);
    cr_assert_eq(dv_http__parse_listing("href=\"" HEX_A ".idx\"", 10, testutil_listed_add, &s), 0,
                 "the length bounds the parse");
    cr_assert_eq(s.n, 1);
}

Test(http_listing, a_callback_can_stop_the_parse)
{
    const char *html = "<a href=\"" HEX_A ".idx\"></a><a href=\"" HEX_A ".pack\"></a>";
    testutil_listed s = {.stop_after = 1};
    cr_assert_eq(parse(html, &s), 7);
    cr_assert_eq(s.n, 1);
}

Test(remote_http, open_hides_the_password_and_refuses_writes)
{
    dv_remote *r;
    cr_assert_eq(dv_remote_http_open(&r, "https://user:secret@example.com/data/"), 0, "%s",
                 dv_error_last());
    cr_assert_str_eq(r->ops->kind, "http");
    cr_assert(r->ops->read_only);
    cr_assert_str_eq(r->display, "https://example.com/data");
    cr_assert_str_eq(r->url, "https://user:secret@example.com/data");
    cr_assert_eq(r->ops->put_file(r, "packs/x.pack", "/nonexistent"), DV_EUSAGE);
    cr_assert(strstr(dv_error_last(), "read-only HTTP mirror"), "%s", dv_error_last());
    cr_assert_null(strstr(dv_error_last(), "secret"), "%s", dv_error_last());
    cr_assert_eq(r->ops->remove(r, "packs/x.pack"), DV_EUSAGE);
    cr_assert_eq(r->stats.put_requests + r->stats.other_requests, 0);
    dv_remote_free(r);

    cr_assert_eq(dv_remote_http_open(&r, "http://u:p@ss@example.com:8080"), 0, "%s",
                 dv_error_last());
    cr_assert_str_eq(r->display, "http://example.com:8080", "the password may hold '@'");
    dv_remote_free(r);

    cr_assert_eq(dv_remote_http_open(&r, "http://example.com//data//sets///"), 0, "%s",
                 dv_error_last());
    cr_assert_str_eq(r->url, "http://example.com/data/sets", "runs of slashes merged");
    cr_assert_str_eq(r->display, "http://example.com/data/sets");
    dv_remote_free(r);

    cr_assert_eq(dv_remote_http_open(&r, "http://example.com/"), 0, "%s", dv_error_last());
    cr_assert_str_eq(r->url, "http://example.com");
    dv_remote_free(r);

    cr_assert_eq(dv_remote_http_open(&r, "ftp://example.com"), DV_EUSAGE);
    cr_assert_eq(dv_remote_http_open(&r, "http://"), DV_EUSAGE);
    cr_assert_eq(dv_remote_http_open(&r, "http://h/x?y=1"), DV_EUSAGE);
}

/* ---- a remote that lists without sizes, as an HTTP mirror does ---- */

static int sizeless_list_entry(void *ctx, const char *name, uint64_t size, int64_t modified)
{
    void **pair = ctx;
    (void)size;
    (void)modified;
    return ((dv_remote_entry_fn)pair[0])(pair[1], name, DV_REMOTE_SIZE_UNKNOWN,
                                         DV_REMOTE_TIME_UNKNOWN);
}

static int sizeless_list(dv_remote *remote, const char *prefix, dv_remote_entry_fn fn, void *ctx)
{
    dv_remote *inner = remote->backend;
    void *pair[2] = {(void *)fn, ctx};
    return inner->ops->list(inner, prefix, sizeless_list_entry, pair);
}

static int sizeless_get(dv_remote *remote, const char *name, uint64_t offset, size_t len, void *buf)
{
    dv_remote *inner = remote->backend;
    return inner->ops->get(inner, name, offset, len, buf);
}

static int sizeless_get_all(dv_remote *remote, const char *name, dv_buf *out, size_t max)
{
    dv_remote *inner = remote->backend;
    return inner->ops->get_all(inner, name, out, max);
}

static void sizeless_free(dv_remote *remote)
{
    dv_remote_free(remote->backend);
}

static const dv_remote_ops sizeless_ops = {
    .kind = "sizeless",
    .read_only = 1,
    .list = sizeless_list,
    .get = sizeless_get,
    .get_all = sizeless_get_all,
    .free = sizeless_free,
};

static void make_pack(dv_oid *pack_id, dv_oid *ids, size_t n, const char *dir, uint64_t seed)
{
    dv_pack_writer *w;
    cr_assert_eq(dv_fs_mkdir_p(dir, 0755), 0);
    cr_assert_eq(dv_pack_writer_new(&w, dir), 0, "%s", dv_error_last());
    for (size_t i = 0; i < n; i++) {
        size_t len = 1000 + 37 * i;
        uint8_t buf[2000];
        fill_random(buf, len, seed * 1000 + i);
        cr_assert_eq(dv_hash_buffer(&ids[i], buf, len), 0);
        cr_assert_eq(dv_pack_writer_append(w, &ids[i], 1, DV_PACK_RAW, len, buf, len), 0);
    }
    cr_assert_eq(dv_pack_writer_finish(pack_id, w, dir), 0, "%s", dv_error_last());
}

static void put_pack(dv_remote *r, const char *dir, const dv_oid *pack_id, uint64_t *pack_bytes)
{
    dv_buf name = DV_BUF_INIT, path = DV_BUF_INIT;
    struct stat st;
    const char *suffixes[] = {".pack", ".idx"};
    for (int i = 0; i < 2; i++) {
        dv_buf_clear(&path);
        cr_assert_eq(dv_buf_printf(&path, "%s/%s%s", dir, dv_oid_hex(pack_id), suffixes[i]), 0);
        cr_assert_eq(dv_remote_pack_name(&name, pack_id, suffixes[i]), 0);
        cr_assert_eq(r->ops->put_file(r, name.ptr, path.ptr), 0, "%s", dv_error_last());
        if (i == 0) {
            cr_assert_eq(stat(path.ptr, &st), 0);
            *pack_bytes = (uint64_t)st.st_size;
        }
    }
    dv_buf_release(&name);
    dv_buf_release(&path);
}

Test(remote_index_unknown_sizes, indexes_read_whole_and_pack_sizes_from_the_index)
{
    dv_buf local = DV_BUF_INIT, rdir = DV_BUF_INIT, cache = DV_BUF_INIT;
    cr_assert_eq(dv_buf_printf(&local, "%s/local", root_dir), 0);
    cr_assert_eq(dv_buf_printf(&rdir, "%s/remote", root_dir), 0);
    cr_assert_eq(dv_buf_printf(&cache, "%s/cache", root_dir), 0);
    dv_oid p1, p2, ids1[9], ids2[1];
    uint64_t bytes1, bytes2;
    make_pack(&p1, ids1, 9, local.ptr, 1);
    make_pack(&p2, ids2, 1, local.ptr, 2);
    dv_remote *inner, *r;
    cr_assert_eq(dv_remote_file_open(&inner, rdir.ptr), 0);
    put_pack(inner, local.ptr, &p1, &bytes1);
    put_pack(inner, local.ptr, &p2, &bytes2);
    cr_assert_eq(dv_remote__new(&r, &sizeless_ops, "sizeless", "sizeless", inner), 0);

    dv_pool *pool;
    dv_remote_index *ri;
    cr_assert_eq(dv_pool_new(&pool, 2), 0);
    cr_assert_eq(dv_remote_index_load(&ri, r, cache.ptr, pool), 0, "%s", dv_error_last());
    cr_assert_eq(dv_remote_index_pack_count(ri), 2);
    cr_assert_eq(inner->stats.get_requests, 2, "each index read whole, once");
    dv_pack *pack;
    dv_pack_entry e;
    cr_assert_eq(dv_remote_index_find(ri, &ids1[8], &pack, &e), 1);
    cr_assert_eq(dv_pack_bytes(pack), bytes1, "the pack's size follows from its index");
    cr_assert_eq(dv_pack_check_bounds(pack, &e), 0, "%s", dv_error_last());
    cr_assert_eq(dv_remote_index_find(ri, &ids2[0], &pack, &e), 1);
    cr_assert_eq(dv_pack_bytes(pack), bytes2);
    dv_remote_index_free(ri);

    /* again: the cached copies are trusted without a size to compare */
    cr_assert_eq(dv_remote_index_load(&ri, r, cache.ptr, pool), 0, "%s", dv_error_last());
    cr_assert_eq(inner->stats.get_requests, 2, "cached indexes are not downloaded again");
    cr_assert_eq(dv_remote_index_find(ri, &ids1[0], &pack, NULL), 1);
    cr_assert_eq(dv_pack_bytes(pack), bytes1);
    dv_remote_index_free(ri);

    /* a damaged index read whole is refused like any other */
    dv_buf cached = DV_BUF_INIT, remote_idx = DV_BUF_INIT, data = DV_BUF_INIT;
    cr_assert_eq(dv_buf_printf(&cached, "%s", cache.ptr), 0);
    testutil_remove_tree(cache.ptr);
    cr_assert_eq(dv_buf_printf(&remote_idx, "%s/packs/%s.idx", rdir.ptr, dv_oid_hex(&p2)), 0);
    cr_assert_eq(dv_fs_read_file(&data, remote_idx.ptr, 1 << 20), 0);
    data.ptr[100] ^= 1;
    chmod(remote_idx.ptr, 0644);
    cr_assert_eq(dv_fs_write_atomic(remote_idx.ptr, data.ptr, data.len, 0444, 0), 0);
    cr_assert_lt(dv_remote_index_load(&ri, r, cache.ptr, pool), 0);
    cr_assert(strstr(dv_error_last(), dv_oid_hex(&p2)), "%s", dv_error_last());

    dv_remote_free(r);
    dv_pool_free(pool);
    dv_buf_release(&cached);
    dv_buf_release(&remote_idx);
    dv_buf_release(&data);
    dv_buf_release(&local);
    dv_buf_release(&rdir);
    dv_buf_release(&cache);
}

Test(remote_index_unknown_sizes, file_get_all_reads_whole_objects_within_a_bound)
{
    dv_buf rdir = DV_BUF_INIT, local = DV_BUF_INIT, out = DV_BUF_INIT;
    cr_assert_eq(dv_buf_printf(&rdir, "%s/remote", root_dir), 0);
    cr_assert_eq(dv_buf_printf(&local, "%s/obj", root_dir), 0);
    uint8_t data[5000];
    fill_random(data, sizeof(data), 5);
    cr_assert_eq(dv_fs_write_atomic(local.ptr, data, sizeof(data), 0644, 0), 0);
    dv_remote *r;
    cr_assert_eq(dv_remote_file_open(&r, rdir.ptr), 0);
    cr_assert_eq(r->ops->put_file(r, "packs/o", local.ptr), 0, "%s", dv_error_last());
    cr_assert_eq(r->ops->get_all(r, "packs/o", &out, sizeof(data)), 0, "%s", dv_error_last());
    cr_assert_eq(out.len, sizeof(data));
    cr_assert_eq(memcmp(out.ptr, data, sizeof(data)), 0);
    cr_assert_eq(r->ops->get_all(r, "packs/o", &out, sizeof(data) - 1), DV_ECORRUPT);
    cr_assert_eq(r->ops->get_all(r, "packs/missing", &out, 10), DV_ENOTFOUND);
    dv_remote_free(r);
    dv_buf_release(&out);
    dv_buf_release(&rdir);
    dv_buf_release(&local);
}
