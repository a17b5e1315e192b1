/*
 * Tests for core/chunkmap: chunks found by id at their offsets in the file a manifest
 * describes, and read back from that file only while their bytes still hash to their
 * ids (a changed, shortened or unknown chunk is reported as not found).
 */
#include "testutil.h"

#include "core/data/chunkmap.h"
#include "core/object/hash.h"

#include <fcntl.h>
#include <unistd.h>

#define N_CHUNKS 40

static char root[4096];
static uint8_t content[N_CHUNKS * 9000];
static dv_manifest manifest = DV_MANIFEST_INIT;
static size_t offsets[N_CHUNKS];

/* N_CHUNKS chunks of 1000..8999 bytes; chunk 7 is a copy of chunk 3. */
static int write_file(const char *name)
{
    char path[4200];
    size_t at = 0;
    fill_random(content, sizeof(content), 5);
    dv_manifest_release(&manifest);
    for (size_t i = 0; i < N_CHUNKS; i++) {
        size_t len = 1000 + (i * 7919) % 8000;
        if (i == 7) {
            len = manifest.chunks[3].len;
            memmove(content + at, content + offsets[3], len);
        }
        dv_oid id;
        cr_assert_eq(dv_hash_buffer(&id, content + at, len), 0);
        cr_assert_eq(dv_manifest_append(&manifest, &id, (uint32_t)len), 0);
        offsets[i] = at;
        at += len;
    }
    snprintf(path, sizeof(path), "%s/%s", root, name);
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
    cr_assert_geq(fd, 0);
    cr_assert_eq(write(fd, content, at), (ssize_t)at);
    return fd;
}

static void setup(void)
{
    testutil_make_root(root, sizeof(root), "chunkmap");
}

static void teardown(void)
{
    dv_manifest_release(&manifest);
    testutil_remove_tree(root);
}

TestSuite(chunkmap, .init = setup, .fini = teardown);

Test(chunkmap, finds_each_chunk_at_its_first_offset)
{
    int fd = write_file("f");
    dv_chunkmap *map;
    cr_assert_eq(dv_chunkmap_new(&map, &manifest), 0);
    for (size_t i = 0; i < N_CHUNKS; i++) {
        uint64_t at = 99;
        cr_assert_eq(dv_chunkmap_find(map, &manifest.chunks[i].id, &at), 1, "chunk %zu", i);
        cr_assert_eq(at, offsets[i == 7 ? 3 : i], "chunk %zu", i);
    }
    dv_oid other;
    cr_assert_eq(dv_hash_buffer(&other, "not a chunk", 11), 0);
    uint64_t at = 99;
    cr_assert_eq(dv_chunkmap_find(map, &other, &at), 0);
    cr_assert_eq(at, 99);
    dv_chunkmap_free(map);
    close(fd);
}

Test(chunkmap, reads_the_chunks_the_file_holds_in_any_order)
{
    int fd = write_file("f");
    dv_chunkmap *map;
    cr_assert_eq(dv_chunkmap_new(&map, &manifest), 0);
    /* backwards, with an unknown chunk in the middle */
    dv_manifest_entry wanted[N_CHUNKS + 1];
    for (size_t i = 0; i < N_CHUNKS; i++)
        wanted[i] = manifest.chunks[N_CHUNKS - 1 - i];
    wanted[N_CHUNKS] = wanted[N_CHUNKS / 2];
    cr_assert_eq(dv_hash_buffer(&wanted[N_CHUNKS / 2].id, "unknown", 7), 0);
    int found[N_CHUNKS + 1];
    const uint8_t *data[N_CHUNKS + 1];
    dv_buf buf = DV_BUF_INIT;
    cr_assert_eq(dv_chunkmap_read(map, fd, wanted, N_CHUNKS + 1, &buf, found, data), 0);
    for (size_t i = 0; i <= N_CHUNKS; i++) {
        if (i == N_CHUNKS / 2) {
            cr_assert_eq(found[i], 0, "the unknown chunk is not found");
            continue;
        }
        size_t chunk = i == N_CHUNKS ? N_CHUNKS - 1 - N_CHUNKS / 2 : N_CHUNKS - 1 - i;
        cr_assert_eq(found[i], 1, "wanted %zu (chunk %zu)", i, chunk);
        cr_assert_eq(memcmp(data[i], content + offsets[chunk], wanted[i].len), 0, "bytes of %zu",
                     i);
    }
    dv_buf_release(&buf);
    dv_chunkmap_free(map);
    close(fd);
}

/* After the map was made the file changed: one byte of chunk 12, and the file cut in
 * the middle of chunk 30. The chunks read with them in one read are still found. */
Test(chunkmap, a_chunk_that_changed_or_was_cut_off_is_not_found)
{
    int fd = write_file("f");
    dv_chunkmap *map;
    cr_assert_eq(dv_chunkmap_new(&map, &manifest), 0);
    uint8_t b = content[offsets[12] + 100] ^ 0x40;
    cr_assert_eq(pwrite(fd, &b, 1, (off_t)offsets[12] + 100), 1);
    cr_assert_eq(ftruncate(fd, (off_t)(offsets[30] + 10)), 0);
    int found[N_CHUNKS];
    const uint8_t *data[N_CHUNKS];
    dv_buf buf = DV_BUF_INIT;
    cr_assert_eq(dv_chunkmap_read(map, fd, manifest.chunks, N_CHUNKS, &buf, found, data), 0);
    for (size_t i = 0; i < N_CHUNKS; i++) {
        int want = i != 12 && i < 30;
        cr_assert_eq(found[i], want, "chunk %zu", i);
        if (want)
            cr_assert_eq(memcmp(data[i], content + offsets[i], manifest.chunks[i].len), 0);
    }
    dv_buf_release(&buf);
    dv_chunkmap_free(map);
    close(fd);
}
