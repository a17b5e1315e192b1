/*
 * Tests for core/ingest: a file read in 2 MiB batches, chunked, hashed and stored gives
 * one manifest id whatever the threads (pool or none) and whether anything is stored;
 * the stored manifest and chunks give back the file; a second ingest stores nothing;
 * an inserted byte changes only the chunks around it.
 */
#include "core/base/buf.h"
#include "core/base/error.h"
#include "core/base/pool.h"
#include "core/data/chunker.h"
#include "core/data/ingest.h"
#include "core/object/hash.h"
#include "core/object/object.h"
#include "storage/odb.h"

#include "testutil.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define KIB ((size_t)1024)
#define MIB (1024 * KIB)
#define BATCH_BYTES (2 * MIB) /* core/ingest.c reads files in batches of this size */

/* ---- temp directories ---- */

static char root_dir[64];

static void make_dirs(void)
{
    testutil_make_root(root_dir, sizeof(root_dir), "ingest");
}

static void remove_dirs(void)
{
    testutil_remove_tree(root_dir);
}

TestSuite(ingest, .init = make_dirs, .fini = remove_dirs, .timeout = 120);

/* ---- helpers ---- */

static void path_in_root(char *out, size_t size, const char *name)
{
    snprintf(out, size, "%s/%s", root_dir, name);
}

static uint8_t *random_bytes(size_t len, uint64_t seed)
{
    uint8_t *p = malloc(len ? len : 1);
    cr_assert_not_null(p);
    fill_random(p, len, seed);
    return p;
}

static void write_file(const char *path, const void *data, size_t len)
{
    int fd = open(path, O_CREAT | O_WRONLY | O_TRUNC, 0644);
    cr_assert_geq(fd, 0, "create %s: %s", path, strerror(errno));
    const uint8_t *p = data;
    size_t done = 0;
    while (done < len) {
        ssize_t n = write(fd, p + done, len - done);
        cr_assert_gt(n, 0, "write %s: %s", path, strerror(errno));
        done += (size_t)n;
    }
    cr_assert_eq(close(fd), 0);
}

static void open_odb(dv_odb **odb, const char *name)
{
    char dir[128];
    path_in_root(dir, sizeof(dir), name);
    cr_assert_eq(dv_odb_open(odb, dir, NULL), 0, "open: %s", dv_error_last());
}

static void count_progress(void *ctx, uint64_t bytes)
{
    *(uint64_t *)ctx += bytes;
}

/* Ingest path into odb (NULL: hash only) with pool (NULL: no threads), given the manifest
 * of a previous version (or NULL). Returns the size; stats, if given, gets the ingester's
 * stats. */
static uint64_t ingest_path_after(dv_oid *id, dv_ingest_stats *stats, dv_odb *odb, dv_pool *pool,
                                  const dv_chunk_params *params, const char *path,
                                  const dv_manifest *previous)
{
    dv_ingest *ing = NULL;
    uint64_t size = UINT64_MAX, progress = 0;
    cr_assert_eq(dv_ingest_new(&ing, odb, params, pool), 0, "%s", dv_error_last());
    dv_ingest_set_progress(ing, count_progress, &progress);
    int fd = open(path, O_RDONLY);
    cr_assert_geq(fd, 0, "open %s: %s", path, strerror(errno));
    cr_assert_eq(dv_ingest_fd(id, &size, ing, fd, path, previous), 0, "ingest: %s",
                 dv_error_last());
    close(fd);
    cr_assert_eq(progress, size, "progress reported %llu of %llu bytes",
                 (unsigned long long)progress, (unsigned long long)size);
    if (stats)
        dv_ingest_stats_get(ing, stats);
    dv_ingest_free(ing);
    return size;
}

static uint64_t ingest_path(dv_oid *id, dv_ingest_stats *stats, dv_odb *odb, dv_pool *pool,
                            const dv_chunk_params *params, const char *path)
{
    return ingest_path_after(id, stats, odb, pool, params, path, NULL);
}

/* Read and decode the manifest id from odb; its id must be the SHA-256 of its canonical
 * encoding. */
static void load_manifest(dv_manifest *m, dv_odb *odb, const dv_oid *id)
{
    dv_buf raw = DV_BUF_INIT, encoded = DV_BUF_INIT;
    uint8_t type = 0;
    cr_assert_eq(dv_odb_read(&raw, &type, odb, id), 0, "manifest: %s", dv_error_last());
    cr_assert_eq(type, DV_OBJ_MANIFEST);
    cr_assert_eq(dv_manifest_decode(m, raw.ptr, raw.len), 0, "%s", dv_error_last());
    cr_assert_eq(dv_manifest_encode(&encoded, m), 0);
    dv_oid again;
    cr_assert_eq(dv_hash_buffer(&again, encoded.ptr, encoded.len), 0);
    cr_assert_eq(dv_oid_cmp(&again, id), 0, "manifest id is not the hash of its encoding");
    cr_assert_eq(encoded.len, raw.len);
    cr_assert_eq(memcmp(encoded.ptr, raw.ptr, raw.len), 0, "stored manifest is not canonical");
    dv_buf_release(&raw);
    dv_buf_release(&encoded);
}

/* The manifest's chunks, read from odb, are data; lengths respect params. */
static void assert_manifest_gives(dv_odb *odb, const dv_manifest *m, const uint8_t *data,
                                  size_t len, const dv_chunk_params *params)
{
    dv_buf chunk = DV_BUF_INIT;
    uint64_t off = 0;
    cr_assert_eq(m->size, len);
    for (size_t i = 0; i < m->n_chunks; i++) {
        const dv_manifest_entry *c = &m->chunks[i];
        uint8_t type = 0;
        cr_assert_leq(c->len, params->max, "chunk %zu is %u bytes", i, c->len);
        if (i + 1 < m->n_chunks)
            cr_assert_geq(c->len, params->min, "chunk %zu of %zu is %u bytes", i, m->n_chunks,
                          c->len);
        else
            cr_assert_geq(c->len, 1);
        cr_assert_eq(dv_odb_read(&chunk, &type, odb, &c->id), 0, "chunk %zu: %s", i,
                     dv_error_last());
        cr_assert_eq(type, DV_OBJ_CHUNK);
        cr_assert_eq(chunk.len, c->len);
        cr_assert_leq(off + c->len, len);
        cr_assert_eq(memcmp(chunk.ptr, data + off, c->len), 0, "chunk %zu differs from the file",
                     i);
        off += c->len;
    }
    cr_assert_eq(off, len);
    dv_buf_release(&chunk);
}

/*
 * A random file of len bytes, ingested four ways: stored with a pool of 2 threads,
 * stored without a pool, and hash only with and without the pool. All give one id, and
 * both stores give back the file.
 */
static void check_every_mode_agrees(size_t len)
{
    dv_chunk_params params = dv_chunk_params_default();
    char path[128];
    path_in_root(path, sizeof(path), "file");
    uint8_t *data = random_bytes(len, len + 1);
    write_file(path, data, len);

    dv_pool *pool = NULL;
    cr_assert_eq(dv_pool_new(&pool, 2), 0);
    dv_odb *with_pool, *without_pool;
    open_odb(&with_pool, "pool");
    open_odb(&without_pool, "inline");

    dv_oid ids[4];
    dv_ingest_stats st[2];
    cr_assert_eq(ingest_path(&ids[0], &st[0], with_pool, pool, &params, path), len);
    cr_assert_eq(ingest_path(&ids[1], &st[1], without_pool, NULL, &params, path), len);
    cr_assert_eq(ingest_path(&ids[2], NULL, NULL, pool, &params, path), len);
    cr_assert_eq(ingest_path(&ids[3], NULL, NULL, NULL, &params, path), len);
    for (int i = 1; i < 4; i++)
        cr_assert_eq(dv_oid_cmp(&ids[i], &ids[0]), 0, "mode %d gives %s, mode 0 %s", i,
                     dv_oid_hex(&ids[i]), dv_oid_hex(&ids[0]));

    /* One store sealed, the other read from its unsealed pack. */
    cr_assert_eq(dv_odb_flush(with_pool), 0, "%s", dv_error_last());
    dv_odb *stores[2] = {with_pool, without_pool};
    for (int s = 0; s < 2; s++) {
        dv_manifest m = DV_MANIFEST_INIT;
        load_manifest(&m, stores[s], &ids[0]);
        assert_manifest_gives(stores[s], &m, data, len, &params);
        /* Random data: every chunk is new, and the stats say so. */
        cr_assert_eq(st[s].files, 1);
        cr_assert_eq(st[s].bytes_read, len);
        cr_assert_eq(st[s].chunks, m.n_chunks);
        cr_assert_eq(st[s].chunks_new, m.n_chunks);
        cr_assert_eq(st[s].bytes_new, len);
        cr_assert_eq(st[s].bytes_reused, 0);
        dv_odb_stats os;
        dv_odb_stats_get(stores[s], &os);
        cr_assert_eq(os.objects_added, m.n_chunks + 1, "the chunks and the manifest");
        if (len > 0)
            cr_assert_geq(m.n_chunks, (len + params.max - 1) / params.max);
        dv_manifest_release(&m);
    }

    dv_odb_free(with_pool);
    dv_odb_free(without_pool);
    dv_pool_free(pool);
    free(data);
}

/* ---- every mode gives the same manifest ---- */

Test(ingest, empty_file_gives_the_empty_manifest_in_every_mode)
{
    check_every_mode_agrees(0);
    /* "DVM1", be64 size 0, be32 count 0. */
    static const uint8_t empty[16] = {'D', 'V', 'M', '1'};
    dv_oid want, id;
    cr_assert_eq(dv_hash_buffer(&want, empty, sizeof(empty)), 0);
    char path[128];
    path_in_root(path, sizeof(path), "file");
    dv_chunk_params params = dv_chunk_params_default();
    ingest_path(&id, NULL, NULL, NULL, &params, path);
    cr_assert_eq(dv_oid_cmp(&id, &want), 0);
}

Test(ingest, one_byte_file_gives_one_chunk_in_every_mode)
{
    check_every_mode_agrees(1);
}

Test(ingest, file_one_byte_under_min_gives_one_chunk_in_every_mode)
{
    check_every_mode_agrees(16 * KIB - 1);
}

Test(ingest, ten_mib_file_gives_the_same_manifest_in_every_mode)
{
    check_every_mode_agrees(10 * MIB);
}

Test(ingest, file_of_exactly_one_batch_gives_the_same_manifest_in_every_mode)
{
    check_every_mode_agrees(BATCH_BYTES);
}

Test(ingest, forty_mib_file_over_several_batches_gives_the_same_manifest_in_every_mode)
{
    check_every_mode_agrees(40 * MIB);
}

/* ---- deduplication ---- */

Test(ingest, ingesting_the_same_file_again_stores_nothing_new)
{
    const size_t len = 10 * MIB;
    dv_chunk_params params = dv_chunk_params_default();
    char path[128];
    path_in_root(path, sizeof(path), "file");
    uint8_t *data = random_bytes(len, 99);
    write_file(path, data, len);
    dv_pool *pool = NULL;
    cr_assert_eq(dv_pool_new(&pool, 2), 0);
    dv_odb *odb;
    open_odb(&odb, "cache");

    dv_oid first, second, third;
    dv_ingest_stats st;
    dv_odb_stats before, after;
    ingest_path(&first, &st, odb, pool, &params, path);
    cr_assert_gt(st.chunks_new, 0);
    dv_odb_stats_get(odb, &before);

    /* Again while the chunks are in the unsealed pack, then after sealing it. */
    ingest_path(&second, &st, odb, pool, &params, path);
    cr_assert_eq(dv_oid_cmp(&first, &second), 0);
    cr_assert_eq(st.chunks_new, 0);
    cr_assert_eq(st.bytes_new, 0);
    cr_assert_eq(st.bytes_reused, len);
    cr_assert_gt(st.chunks, 0);
    cr_assert_eq(dv_odb_flush(odb), 0, "%s", dv_error_last());
    ingest_path(&third, &st, odb, NULL, &params, path);
    cr_assert_eq(dv_oid_cmp(&first, &third), 0);
    cr_assert_eq(st.chunks_new, 0);
    dv_odb_stats_get(odb, &after);
    cr_assert_eq(after.objects_added, before.objects_added, "no object, not even the manifest");
    cr_assert_eq(after.stored_bytes_added, before.stored_bytes_added);

    dv_odb_free(odb);
    dv_pool_free(pool);
    free(data);
}

Test(ingest, zeros_are_stored_once)
{
    const size_t len = 12 * DV_CHUNK_MAX_DEFAULT; /* zeros are cut at max: 12 equal chunks */
    dv_chunk_params params = dv_chunk_params_default();
    char path[128];
    path_in_root(path, sizeof(path), "zeros");
    uint8_t *zeros = calloc(len, 1);
    cr_assert_not_null(zeros);
    write_file(path, zeros, len);
    dv_pool *pool = NULL;
    cr_assert_eq(dv_pool_new(&pool, 2), 0);
    dv_odb *odb;
    open_odb(&odb, "cache");

    dv_oid id;
    dv_ingest_stats st;
    ingest_path(&id, &st, odb, pool, &params, path);
    cr_assert_eq(st.chunks, 12);
    cr_assert_eq(st.chunks_new, 1);
    cr_assert_eq(st.bytes_new, DV_CHUNK_MAX_DEFAULT);
    dv_odb_stats os;
    dv_odb_stats_get(odb, &os);
    cr_assert_eq(os.objects_added, 2, "one chunk and the manifest");
    cr_assert_lt(os.stored_bytes_added, DV_CHUNK_MAX_DEFAULT / 10, "zeros compress");

    dv_manifest m = DV_MANIFEST_INIT;
    load_manifest(&m, odb, &id);
    cr_assert_eq(m.n_chunks, 12);
    for (size_t i = 1; i < m.n_chunks; i++)
        cr_assert_eq(dv_oid_cmp(&m.chunks[i].id, &m.chunks[0].id), 0);
    assert_manifest_gives(odb, &m, zeros, len, &params);

    dv_manifest_release(&m);
    dv_odb_free(odb);
    dv_pool_free(pool);
    free(zeros);
}

static int manifest_has(const dv_manifest *m, const dv_oid *id)
{
    for (size_t i = 0; i < m->n_chunks; i++)
        if (!dv_oid_cmp(&m->chunks[i].id, id))
            return 1;
    return 0;
}

Test(ingest, inserted_byte_changes_only_the_chunks_around_it)
{
    const size_t len = 10 * MIB, at = 5 * MIB + 12345;
    dv_chunk_params params = dv_chunk_params_default();
    char path[128], edited_path[128];
    path_in_root(path, sizeof(path), "original");
    path_in_root(edited_path, sizeof(edited_path), "edited");
    uint8_t *data = random_bytes(len, 7);
    uint8_t *edited = malloc(len + 1);
    cr_assert_not_null(edited);
    memcpy(edited, data, at);
    edited[at] = 0x42;
    memcpy(edited + at + 1, data + at, len - at);
    write_file(path, data, len);
    write_file(edited_path, edited, len + 1);
    dv_pool *pool = NULL;
    cr_assert_eq(dv_pool_new(&pool, 2), 0);
    dv_odb *odb;
    open_odb(&odb, "cache");

    dv_oid id_a, id_b;
    dv_ingest_stats st;
    ingest_path(&id_a, NULL, odb, pool, &params, path);
    ingest_path(&id_b, &st, odb, pool, &params, edited_path);
    cr_assert_neq(dv_oid_cmp(&id_a, &id_b), 0);

    dv_manifest a = DV_MANIFEST_INIT, b = DV_MANIFEST_INIT;
    load_manifest(&a, odb, &id_a);
    load_manifest(&b, odb, &id_b);
    assert_manifest_gives(odb, &b, edited, len + 1, &params);
    size_t only_in_b = 0, only_in_a = 0;
    for (size_t i = 0; i < b.n_chunks; i++)
        only_in_b += !manifest_has(&a, &b.chunks[i].id);
    for (size_t i = 0; i < a.n_chunks; i++)
        only_in_a += !manifest_has(&b, &a.chunks[i].id);
    cr_assert_gt(a.n_chunks, 100);
    cr_assert_geq(only_in_b, 1);
    cr_assert_leq(only_in_b, 3, "%zu of %zu chunks changed for one inserted byte", only_in_b,
                  b.n_chunks);
    cr_assert_leq(only_in_a, 3, "%zu of %zu chunks lost for one inserted byte", only_in_a,
                  a.n_chunks);
    cr_assert_eq(st.chunks_new, only_in_b, "only the changed chunks are stored");
    cr_assert_leq(st.bytes_new, 3 * (uint64_t)params.max);

    dv_manifest_release(&a);
    dv_manifest_release(&b);
    dv_odb_free(odb);
    dv_pool_free(pool);
    free(edited);
    free(data);
}

/* ---- chunk lengths and parameters ---- */

Test(ingest, chunk_lengths_respect_custom_min_and_max)
{
    const size_t len = 3 * MIB + 777;
    dv_chunk_params params = {1024, 4096, 16384};
    char path[128], zeros_path[128];
    path_in_root(path, sizeof(path), "random");
    path_in_root(zeros_path, sizeof(zeros_path), "zeros");
    uint8_t *data = random_bytes(len, 5);
    uint8_t *zeros = calloc(len, 1);
    cr_assert_not_null(zeros);
    write_file(path, data, len);
    write_file(zeros_path, zeros, len);
    dv_pool *pool = NULL;
    cr_assert_eq(dv_pool_new(&pool, 2), 0);
    dv_odb *odb;
    open_odb(&odb, "cache");

    dv_oid id, id_inline;
    dv_manifest m = DV_MANIFEST_INIT;
    ingest_path(&id, NULL, odb, pool, &params, path);
    ingest_path(&id_inline, NULL, NULL, NULL, &params, path);
    cr_assert_eq(dv_oid_cmp(&id, &id_inline), 0);
    load_manifest(&m, odb, &id);
    cr_assert_gt(m.n_chunks, len / params.max);
    assert_manifest_gives(odb, &m, data, len, &params);
    size_t at_max = 0;
    for (size_t i = 0; i < m.n_chunks; i++)
        at_max += m.chunks[i].len == params.max;
    dv_manifest_release(&m);

    /* Zeros never match a mask: every chunk but the last is exactly max. */
    ingest_path(&id, NULL, odb, pool, &params, zeros_path);
    load_manifest(&m, odb, &id);
    assert_manifest_gives(odb, &m, zeros, len, &params);
    cr_assert_eq(m.n_chunks, len / params.max + 1);
    for (size_t i = 0; i + 1 < m.n_chunks; i++)
        cr_assert_eq(m.chunks[i].len, params.max);
    cr_assert_eq(m.chunks[m.n_chunks - 1].len, len % params.max);
    cr_assert_lt(2 * at_max, m.n_chunks, "random data is mostly cut by content");

    dv_manifest_release(&m);
    dv_odb_free(odb);
    dv_pool_free(pool);
    free(zeros);
    free(data);
}

Test(ingest, bad_chunk_params_are_refused)
{
    dv_chunk_params bad[] = {{16, 4096, 16384}, {1024, 3000, 16384}, {1024, 4096, 4096}};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        dv_ingest *ing = NULL;
        cr_assert_eq(dv_ingest_new(&ing, NULL, &bad[i], NULL), DV_EUSAGE, "params %zu", i);
        cr_assert_null(ing);
    }
}

/* ---- other inputs ---- */

Test(ingest, blob_is_stored_as_a_chunk)
{
    static const char target[] = "../some/where/else";
    const size_t len = sizeof(target) - 1;
    dv_chunk_params params = dv_chunk_params_default();
    dv_odb *odb;
    open_odb(&odb, "cache");
    dv_ingest *ing = NULL;
    cr_assert_eq(dv_ingest_new(&ing, odb, &params, NULL), 0, "%s", dv_error_last());

    dv_oid id, want;
    cr_assert_eq(dv_hash_buffer(&want, target, len), 0);
    cr_assert_eq(dv_ingest_blob(&id, ing, target, len), 0, "%s", dv_error_last());
    cr_assert_eq(dv_oid_cmp(&id, &want), 0);
    dv_buf out = DV_BUF_INIT;
    uint8_t type = 0;
    cr_assert_eq(dv_odb_read(&out, &type, odb, &id), 0, "%s", dv_error_last());
    cr_assert_eq(type, DV_OBJ_CHUNK);
    cr_assert_str_eq(out.ptr, target);
    dv_ingest_stats st;
    dv_ingest_stats_get(ing, &st);
    cr_assert_eq(st.bytes_new, len);

    /* Again: reused, nothing stored. */
    dv_odb_stats before, after;
    dv_odb_stats_get(odb, &before);
    cr_assert_eq(dv_ingest_blob(&id, ing, target, len), 0, "%s", dv_error_last());
    dv_odb_stats_get(odb, &after);
    cr_assert_eq(after.objects_added, before.objects_added);
    dv_ingest_stats_get(ing, &st);
    cr_assert_eq(st.bytes_new, len);
    cr_assert_eq(st.bytes_reused, len);
    dv_ingest_free(ing);

    /* Hash only: the same id, nothing stored. */
    cr_assert_eq(dv_ingest_new(&ing, NULL, &params, NULL), 0, "%s", dv_error_last());
    memset(id.id, 0, sizeof(id.id));
    cr_assert_eq(dv_ingest_blob(&id, ing, "other", 5), 0);
    cr_assert_eq(dv_ingest_blob(&id, ing, target, len), 0);
    cr_assert_eq(dv_oid_cmp(&id, &want), 0);
    dv_ingest_free(ing);

    dv_buf_release(&out);
    dv_odb_free(odb);
}

typedef struct pipe_feed {
    int fd;
    const uint8_t *data;
    size_t len;
} pipe_feed;

/* Write in odd-sized pieces so the reader sees short reads. */
static void *feed_pipe(void *arg)
{
    pipe_feed *f = arg;
    size_t done = 0, piece = 1;
    while (done < f->len) {
        size_t n = f->len - done < piece ? f->len - done : piece;
        ssize_t w = write(f->fd, f->data + done, n);
        if (w <= 0)
            break;
        done += (size_t)w;
        piece = piece * 3 % 100003 + 1;
    }
    close(f->fd);
    return NULL;
}

Test(ingest, pipe_input_gives_the_same_manifest_as_the_file)
{
    const size_t len = BATCH_BYTES + 3 * MIB + 5;
    dv_chunk_params params = dv_chunk_params_default();
    char path[128];
    path_in_root(path, sizeof(path), "file");
    uint8_t *data = random_bytes(len, 17);
    write_file(path, data, len);
    dv_pool *pool = NULL;
    cr_assert_eq(dv_pool_new(&pool, 2), 0);

    dv_oid from_file, from_pipe;
    ingest_path(&from_file, NULL, NULL, pool, &params, path);

    int fds[2];
    cr_assert_eq(pipe(fds), 0);
    pipe_feed feed = {fds[1], data, len};
    pthread_t feeder;
    cr_assert_eq(pthread_create(&feeder, NULL, feed_pipe, &feed), 0);
    dv_ingest *ing = NULL;
    uint64_t size = 0;
    cr_assert_eq(dv_ingest_new(&ing, NULL, &params, pool), 0);
    cr_assert_eq(dv_ingest_fd(&from_pipe, &size, ing, fds[0], "<pipe>", NULL), 0, "%s",
                 dv_error_last());
    pthread_join(feeder, NULL);
    close(fds[0]);
    cr_assert_eq(size, len);
    cr_assert_eq(dv_oid_cmp(&from_file, &from_pipe), 0);

    dv_ingest_free(ing);
    dv_pool_free(pool);
    free(data);
}

Test(ingest, one_ingester_gives_each_file_its_own_manifest)
{
    dv_chunk_params params = dv_chunk_params_default();
    char a_path[128], b_path[128];
    path_in_root(a_path, sizeof(a_path), "a");
    path_in_root(b_path, sizeof(b_path), "b");
    uint8_t *a = random_bytes(3 * MIB, 1), *b = random_bytes(MIB, 2);
    write_file(a_path, a, 3 * MIB);
    write_file(b_path, b, MIB);
    dv_odb *odb;
    open_odb(&odb, "cache");
    dv_ingest *ing = NULL;
    cr_assert_eq(dv_ingest_new(&ing, odb, &params, NULL), 0);

    dv_oid ids[2], alone;
    uint64_t size;
    const char *paths[2] = {a_path, b_path};
    for (int i = 0; i < 2; i++) {
        int fd = open(paths[i], O_RDONLY);
        cr_assert_geq(fd, 0);
        cr_assert_eq(dv_ingest_fd(&ids[i], &size, ing, fd, paths[i], NULL), 0, "%s",
                     dv_error_last());
        close(fd);
    }
    cr_assert_eq(size, MIB);
    ingest_path(&alone, NULL, NULL, NULL, &params, b_path);
    cr_assert_eq(dv_oid_cmp(&ids[1], &alone), 0,
                 "the second file's manifest has only its own chunks");
    dv_ingest_stats st;
    dv_ingest_stats_get(ing, &st);
    cr_assert_eq(st.files, 2);
    cr_assert_eq(st.bytes_read, 4 * MIB);

    dv_manifest m = DV_MANIFEST_INIT;
    load_manifest(&m, odb, &ids[0]);
    assert_manifest_gives(odb, &m, a, 3 * MIB, &params);
    dv_manifest_release(&m);

    dv_ingest_free(ing);
    dv_odb_free(odb);
    free(a);
    free(b);
}

/*
 * The pool is the caller's (dv_pool_default_threads() is the number of CPUs, which may
 * be well above 64): an ingester must work with a pool of any size. Small chunks give
 * every one of the 80 workers many items.
 */
Test(ingest, pool_of_more_than_64_workers_still_stores_the_file)
{
    const size_t len = 2 * BATCH_BYTES + 1;
    dv_chunk_params params = {64, 256, 1024}; /* about 4000 chunks, 500 groups per batch */
    char path[128];
    path_in_root(path, sizeof(path), "file");
    uint8_t *data = random_bytes(len, 23);
    write_file(path, data, len);
    dv_pool *pool = NULL;
    cr_assert_eq(dv_pool_new(&pool, 80), 0);
    dv_odb *odb;
    open_odb(&odb, "cache");

    dv_oid id, want;
    ingest_path(&want, NULL, NULL, NULL, &params, path);
    ingest_path(&id, NULL, odb, pool, &params, path);
    cr_assert_eq(dv_oid_cmp(&id, &want), 0);
    dv_manifest m = DV_MANIFEST_INIT;
    load_manifest(&m, odb, &id);
    assert_manifest_gives(odb, &m, data, len, &params);

    dv_manifest_release(&m);
    dv_odb_free(odb);
    dv_pool_free(pool);
    free(data);
}

/*
 * The manifest of data (ingested with a pool of 2, so batches are read and chunked on
 * the workers) has exactly the boundaries of one chunker run over the whole buffer.
 */
static void check_one_pass(const dv_chunk_params *params, const uint8_t *data, size_t len,
                           const char *name)
{
    char path[128];
    path_in_root(path, sizeof(path), name);
    write_file(path, data, len);

    /* The reference: one chunker over the whole buffer. */
    dv_chunker chunker;
    dv_chunker_init(&chunker, params);
    size_t n_ref = 0, alloc_ref = len / params->min + 2, start = 0;
    size_t *ref = malloc(alloc_ref * sizeof(*ref));
    cr_assert_not_null(ref);
    for (size_t pos = 0; pos < len;) {
        int cut = 0;
        pos += dv_chunker_scan(&chunker, data + pos, len - pos, &cut);
        if (!cut)
            break;
        cr_assert_lt(n_ref, alloc_ref);
        ref[n_ref++] = pos - start;
        start = pos;
    }
    if (start < len)
        ref[n_ref++] = len - start;

    dv_pool *pool = NULL;
    cr_assert_eq(dv_pool_new(&pool, 2), 0);
    dv_odb *odb;
    char store[128];
    snprintf(store, sizeof(store), "%s.store", name);
    open_odb(&odb, store);
    dv_oid id;
    cr_assert_eq(ingest_path(&id, NULL, odb, pool, params, path), len);
    dv_manifest m = DV_MANIFEST_INIT;
    load_manifest(&m, odb, &id);
    cr_assert_eq(m.n_chunks, n_ref, "%zu chunks, one pass gives %zu", m.n_chunks, n_ref);
    for (size_t i = 0; i < n_ref; i++)
        cr_assert_eq(m.chunks[i].len, ref[i], "chunk %zu: %u bytes, one pass %zu", i,
                     m.chunks[i].len, ref[i]);
    assert_manifest_gives(odb, &m, data, len, params);
    dv_manifest_release(&m);
    dv_odb_free(odb);
    dv_pool_free(pool);
    free(ref);
}

/*
 * Across batches, and across a switch from random data to zeros (cut every max
 * bytes) and back, the manifest has exactly the boundaries of one chunker run
 * over the whole file.
 */
Test(ingest, batches_give_the_boundaries_of_one_pass)
{
    dv_chunk_params params = dv_chunk_params_default();
    const size_t part = 9 * 1024 * 1024, len = 3 * part;
    uint8_t *data = random_bytes(len, 77);
    memset(data + part, 0, part);
    check_one_pass(&params, data, len, "mixed");
    free(data);
}

/*
 * Each batch is first chunked on its own from its first byte. In zeros every chain
 * cuts every max bytes from where it started, so a chain from a batch start that is
 * not on the true chain's grid never meets it: the whole run of zeros must follow the
 * true chain. Zeros start at an odd offset so the grids differ.
 */
Test(ingest, chains_that_never_meet_in_zeros_still_give_one_pass)
{
    dv_chunk_params params = {4 * KIB, 16 * KIB, 40 * KIB};
    const size_t len = 12 * MIB + 77;
    uint8_t *data = random_bytes(len, 78);
    memset(data + 2 * MIB + 12345, 0, 7 * MIB);
    check_one_pass(&params, data, len, "zeros");
    free(data);
}

/* Chunks longer than a batch: the unfinished chunk is carried through several batches,
 * and most batches hold no cut of the true chain at all. */
Test(ingest, chunks_longer_than_a_batch_give_one_pass)
{
    dv_chunk_params params = {MIB, 2 * MIB, 5 * MIB};
    const size_t len = 23 * MIB + 3;
    uint8_t *data = random_bytes(len, 79);
    memset(data + 11 * MIB, 0, 9 * MIB);
    check_one_pass(&params, data, len, "long");
    free(data);
}

/* The smallest chunks: thousands of cuts in every batch. */
Test(ingest, smallest_chunks_give_one_pass)
{
    dv_chunk_params params = {64, 256, 1024};
    const size_t len = 5 * MIB + 1;
    uint8_t *data = random_bytes(len, 80);
    memset(data + MIB + 7, 0, MIB);
    check_one_pass(&params, data, len, "small");
    free(data);
}

/* Reading starts where the descriptor is, as read(2) would, also when batches are read
 * at offsets by the workers. */
Test(ingest, reading_starts_at_the_descriptors_offset)
{
    dv_chunk_params params = dv_chunk_params_default();
    const size_t skip = 3 * MIB + 11, len = 9 * MIB;
    uint8_t *data = random_bytes(len, 81);
    char path[128], tail_path[128];
    path_in_root(path, sizeof(path), "whole");
    path_in_root(tail_path, sizeof(tail_path), "tail");
    write_file(path, data, len);
    write_file(tail_path, data + skip, len - skip);
    dv_pool *pool = NULL;
    cr_assert_eq(dv_pool_new(&pool, 2), 0);

    dv_oid want, got;
    ingest_path(&want, NULL, NULL, NULL, &params, tail_path);
    dv_ingest *ing = NULL;
    uint64_t size = 0;
    cr_assert_eq(dv_ingest_new(&ing, NULL, &params, pool), 0);
    int fd = open(path, O_RDONLY);
    cr_assert_geq(fd, 0);
    cr_assert_eq(lseek(fd, (off_t)skip, SEEK_SET), (off_t)skip);
    cr_assert_eq(dv_ingest_fd(&got, &size, ing, fd, path, NULL), 0, "%s", dv_error_last());
    close(fd);
    cr_assert_eq(size, len - skip);
    cr_assert_eq(dv_oid_cmp(&got, &want), 0);

    dv_ingest_free(ing);
    dv_pool_free(pool);
    free(data);
}

/* A file 1% edited: scattered overwrites and a 4 KiB insertion, as a new version is. */
static uint8_t *edited_version(const uint8_t *old, size_t len, size_t *out_len, uint64_t seed)
{
    uint64_t state = seed;
    const size_t ins = 4 * KIB, at = len / 2;
    uint8_t *p = malloc(len + ins);
    cr_assert_not_null(p);
    memcpy(p, old, at);
    fill_random(p + at, ins, seed);
    memcpy(p + at + ins, old + at, len - at);
    for (int i = 0; i < 8; i++)
        fill_random(p + splitmix64(&state) % (len - 32 * KIB), 32 * KIB, splitmix64(&state));
    *out_len = len + ins;
    return p;
}

/* dv add of a new version passes the old version's manifest: the cuts along its chunks
 * must be exactly the scanned ones, and the unchanged stretches must not be scanned. */
Test(ingest, the_previous_versions_chunks_save_scanning_and_change_nothing)
{
    dv_chunk_params params = dv_chunk_params_default();
    const size_t len = 24 * MIB;
    size_t new_len = 0;
    uint8_t *old = random_bytes(len, 91);
    uint8_t *data = edited_version(old, len, &new_len, 92);
    char old_path[128], path[128];
    path_in_root(old_path, sizeof(old_path), "previous-v1");
    path_in_root(path, sizeof(path), "previous-v2");
    write_file(old_path, old, len);
    write_file(path, data, new_len);
    dv_pool *pool = NULL;
    cr_assert_eq(dv_pool_new(&pool, 2), 0);
    dv_odb *plain = NULL, *along = NULL;
    open_odb(&plain, "previous-plain");
    open_odb(&along, "previous-along");

    dv_oid v1, want, got;
    dv_ingest_stats ws, gs;
    dv_manifest m = DV_MANIFEST_INIT;
    ingest_path(&v1, NULL, plain, pool, &params, old_path);
    ingest_path(&v1, NULL, along, pool, &params, old_path);
    load_manifest(&m, along, &v1);
    ingest_path(&want, &ws, plain, pool, &params, path);
    ingest_path_after(&got, &gs, along, pool, &params, path, &m);
    cr_assert_eq(dv_oid_cmp(&got, &want), 0, "the manifest differs with the previous version");
    cr_assert_eq(gs.chunks, ws.chunks);
    cr_assert_eq(gs.chunks_new, ws.chunks_new);
    cr_assert_eq(gs.bytes_new, ws.bytes_new);
    cr_assert_geq(ws.bytes_scanned, new_len, "without it every byte is scanned");
    cr_assert_lt(gs.bytes_scanned, new_len / 5, "scanned %llu of %zu bytes",
                 (unsigned long long)gs.bytes_scanned, new_len);
    dv_manifest stored = DV_MANIFEST_INIT;
    load_manifest(&stored, along, &got);
    assert_manifest_gives(along, &stored, data, new_len, &params);
    dv_manifest_release(&stored);

    /* Hashing only, and with an unrelated file's manifest: the same id. */
    ingest_path_after(&got, NULL, NULL, pool, &params, path, &m);
    cr_assert_eq(dv_oid_cmp(&got, &want), 0);
    dv_manifest other = DV_MANIFEST_INIT;
    load_manifest(&other, along, &want);
    ingest_path_after(&got, NULL, NULL, pool, &params, old_path, &other);
    cr_assert_eq(dv_oid_cmp(&got, &v1), 0);

    dv_manifest_release(&other);
    dv_manifest_release(&m);
    dv_odb_free(plain);
    dv_odb_free(along);
    dv_pool_free(pool);
    free(data);
    free(old);
}

/* ---- a stream (an archive's entry) ---- */

typedef struct memory_stream {
    const uint8_t *data;
    size_t len, pos;
    size_t step; /* the most bytes one call copies at a time, as a decompressor gives them */
    size_t calls;
} memory_stream;

static int read_memory(void *ctx, void *buf, size_t len, size_t *got)
{
    memory_stream *m = ctx;
    m->calls++;
    size_t done = 0;
    while (done < len && m->pos < m->len) {
        size_t n = m->len - m->pos < m->step ? m->len - m->pos : m->step;
        if (n > len - done)
            n = len - done;
        memcpy((uint8_t *)buf + done, m->data + m->pos, n);
        m->pos += n;
        done += n;
    }
    *got = done;
    return 0;
}

static int read_failing(void *ctx, void *buf, size_t len, size_t *got)
{
    memory_stream *m = ctx;
    if (m->pos >= m->len / 2)
        return dv_error_set(DV_ECORRUPT, "entry is truncated");
    return read_memory(ctx, buf, len, got);
}

Test(ingest, a_stream_gives_the_manifest_of_the_same_bytes_in_a_file)
{
    const size_t lens[] = {0, 1, 70000, BATCH_BYTES, 5 * BATCH_BYTES + 12345};
    dv_chunk_params params = dv_chunk_params_default();
    dv_pool *pool = NULL;
    cr_assert_eq(dv_pool_new(&pool, 2), 0);
    char path[128];
    path_in_root(path, sizeof(path), "file");
    for (size_t t = 0; t < sizeof(lens) / sizeof(lens[0]); t++) {
        size_t len = lens[t];
        uint8_t *data = random_bytes(len, 99 + t);
        write_file(path, data, len);
        dv_oid from_file;
        ingest_path(&from_file, NULL, NULL, pool, &params, path);
        /* the size a stream declares only bounds the read-ahead: right, none, or wrong */
        const uint64_t declared[] = {len, 0, len / 3, (uint64_t)len * 4 + 1};
        for (size_t d = 0; d < 4; d++) {
            dv_odb *odb;
            char name[32];
            snprintf(name, sizeof(name), "stream-%zu-%zu", t, d);
            open_odb(&odb, name);
            dv_ingest *ing = NULL;
            cr_assert_eq(dv_ingest_new(&ing, odb, &params, d == 1 ? NULL : pool), 0);
            memory_stream m = {data, len, 0, 10000 + 777 * d, 0};
            dv_oid id;
            uint64_t size = 0;
            cr_assert_eq(dv_ingest_stream(&id, &size, ing, read_memory, &m, declared[d], "entry"),
                         0, "%s", dv_error_last());
            cr_assert_eq(size, len);
            cr_assert_eq(dv_oid_cmp(&id, &from_file), 0, "len %zu declared %llu", len,
                         (unsigned long long)declared[d]);
            cr_assert_eq(dv_odb_flush(odb), 0);
            dv_manifest man = DV_MANIFEST_INIT;
            load_manifest(&man, odb, &id);
            assert_manifest_gives(odb, &man, data, len, &params);
            dv_manifest_release(&man);
            dv_ingest_free(ing);
            dv_odb_free(odb);
        }
        free(data);
    }
    dv_pool_free(pool);
}

Test(ingest, a_failing_stream_fails_and_the_ingester_stays_usable)
{
    const size_t len = 6 * BATCH_BYTES;
    dv_chunk_params params = dv_chunk_params_default();
    dv_pool *pool = NULL;
    cr_assert_eq(dv_pool_new(&pool, 2), 0);
    uint8_t *data = random_bytes(len, 5);
    dv_ingest *ing = NULL;
    cr_assert_eq(dv_ingest_new(&ing, NULL, &params, pool), 0);
    memory_stream m = {data, len, 0, 65536, 0};
    dv_oid id, again, expected;
    uint64_t size;
    cr_assert_eq(dv_ingest_stream(&id, &size, ing, read_failing, &m, len, "entry"), DV_ECORRUPT);
    cr_assert(strstr(dv_error_last(), "entry") && strstr(dv_error_last(), "truncated"), "%s",
              dv_error_last());
    /* the same ingester then gives what a fresh one gives */
    memory_stream m2 = {data, len, 0, 65536, 0};
    cr_assert_eq(dv_ingest_stream(&again, &size, ing, read_memory, &m2, len, "entry"), 0);
    dv_ingest_free(ing);
    cr_assert_eq(dv_ingest_new(&ing, NULL, &params, NULL), 0);
    memory_stream m3 = {data, len, 0, 65536, 0};
    cr_assert_eq(dv_ingest_stream(&expected, &size, ing, read_memory, &m3, 0, "entry"), 0);
    cr_assert_eq(dv_oid_cmp(&again, &expected), 0);
    dv_ingest_free(ing);
    dv_pool_free(pool);
    free(data);
}
