/*
 * Tests for storage/bundle: the header section of docs/formats.md ("Bundle") byte by byte,
 * a header read back as written, and the refusals of damaged ones: every count, length and
 * offset checked against the section and the file's size, the table a pack and its index
 * each, end to end up to the trailer.
 */
#include "core/base/buf.h"
#include "core/base/bytes.h"
#include "core/base/error.h"
#include "core/object/hash.h"
#include "core/object/object.h"
#include "storage/bundle.h"

#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PACK_BYTES 1000u
#define INDEX_BYTES 1200u
#define COMMIT_V1 "0123456789abcdef0123456789abcdef01234567"
#define COMMIT_V2 "89abcdef0123456789abcdef0123456789abcdef"

static dv_oid oid_of(uint8_t b)
{
    dv_oid id;
    memset(id.id, b, sizeof(id.id));
    return id;
}

/* A header of two revisions, one path, two roots and two packs, encoded into out; its
 * file size (header, packs, trailer) into *file_bytes. */
static void make_header(dv_buf *out, uint64_t *file_bytes)
{
    dv_bundle_header h = {0};
    dv_oid root1 = oid_of(0x11), root2 = oid_of(0x22), pack1 = oid_of(0xa1), pack2 = oid_of(0xa2);
    cr_assert_eq(dv_bundle_header_add_rev(&h, DV_BUNDLE_REV_TIP, "v2", COMMIT_V2), 0);
    cr_assert_eq(dv_bundle_header_add_rev(&h, DV_BUNDLE_REV_BASE, "v1", COMMIT_V1), 0);
    cr_assert_eq(dv_bundle_header_add_path(&h, "data/train"), 0);
    cr_assert_eq(dv_bundle_header_add_root(&h, DV_OBJ_TREE, &root1), 0);
    cr_assert_eq(dv_bundle_header_add_root(&h, DV_OBJ_MANIFEST, &root2), 0);
    cr_assert_eq(dv_bundle_header_add_file(&h, DV_BUNDLE_FILE_PACK, &pack1, PACK_BYTES), 0);
    cr_assert_eq(dv_bundle_header_add_file(&h, DV_BUNDLE_FILE_INDEX, &pack1, INDEX_BYTES), 0);
    cr_assert_eq(dv_bundle_header_add_file(&h, DV_BUNDLE_FILE_PACK, &pack2, PACK_BYTES), 0);
    cr_assert_eq(dv_bundle_header_add_file(&h, DV_BUNDLE_FILE_INDEX, &pack2, INDEX_BYTES), 0);
    cr_assert_eq(dv_bundle_header_encode(out, &h), 0);
    cr_assert_eq(h.data_offset, out->len);
    cr_assert_eq(h.files[0].offset, out->len);
    cr_assert_eq(h.files[3].offset, out->len + 2 * PACK_BYTES + INDEX_BYTES);
    *file_bytes = out->len + 2 * (PACK_BYTES + INDEX_BYTES) + DV_BUNDLE_TRAILER_BYTES;
    dv_bundle_header_release(&h);
}

/* Where each part of make_header's section starts. */
#define REVS_AT 16
#define REV1_BYTES (1 + 2 + 2 + 1 + 40)
#define PATHS_AT (REVS_AT + 4 + 2 * REV1_BYTES)
#define ROOTS_AT (PATHS_AT + 4 + 2 + 10)
#define FILES_AT (ROOTS_AT + 4 + 2 * 33)
#define FILE_RECORD 49

static int parse(const dv_buf *b, uint64_t file_bytes)
{
    dv_bundle_header h;
    int error = dv_bundle_parse(&h, (const uint8_t *)b->ptr, b->len, file_bytes, "test.dvbundle");
    if (error == 0)
        dv_bundle_header_release(&h);
    else
        cr_assert_eq(h.n_files, 0, "a failed parse leaves the header empty");
    return error;
}

Test(bundle, header_bytes_are_those_of_the_format)
{
    dv_buf b = DV_BUF_INIT;
    uint64_t file_bytes;
    make_header(&b, &file_bytes);
    const uint8_t *p = (const uint8_t *)b.ptr;
    cr_assert_eq(memcmp(p, "DVBUNDLE", 8), 0);
    cr_assert_eq(dv_get_be32(p + 8), 1);
    cr_assert_eq(dv_get_be32(p + 12), b.len - 16, "header_len is the section's length");
    cr_assert_eq(dv_get_be32(p + REVS_AT), 2);
    cr_assert_eq(p[REVS_AT + 4], DV_BUNDLE_REV_TIP);
    cr_assert_eq(dv_get_be16(p + REVS_AT + 5), 2);
    cr_assert_eq(memcmp(p + REVS_AT + 7, "v2", 2), 0);
    cr_assert_eq(p[REVS_AT + 9], 40);
    cr_assert_eq(memcmp(p + REVS_AT + 10, COMMIT_V2, 40), 0);
    cr_assert_eq(dv_get_be32(p + PATHS_AT), 1);
    cr_assert_eq(dv_get_be16(p + PATHS_AT + 4), 10);
    cr_assert_eq(memcmp(p + PATHS_AT + 6, "data/train", 10), 0);
    cr_assert_eq(dv_get_be32(p + ROOTS_AT), 2);
    cr_assert_eq(p[ROOTS_AT + 4], DV_OBJ_TREE);
    cr_assert_eq(p[ROOTS_AT + 5], 0x11);
    cr_assert_eq(dv_get_be32(p + FILES_AT), 4);
    cr_assert_eq(p[FILES_AT + 4], DV_BUNDLE_FILE_PACK);
    cr_assert_eq(p[FILES_AT + 5], 0xa1);
    cr_assert_eq(dv_get_be64(p + FILES_AT + 4 + 33), b.len, "the first file follows the section");
    cr_assert_eq(dv_get_be64(p + FILES_AT + 4 + 41), PACK_BYTES);
    cr_assert_eq(FILES_AT + 4 + 4 * FILE_RECORD, b.len, "the table ends the section");
    dv_buf_release(&b);
}

Test(bundle, header_reads_back_as_written)
{
    dv_buf b = DV_BUF_INIT;
    uint64_t file_bytes;
    make_header(&b, &file_bytes);
    dv_bundle_header h;
    cr_assert_eq(dv_bundle_parse(&h, (const uint8_t *)b.ptr, b.len, file_bytes, "t"), 0, "%s",
                 dv_error_last());
    cr_assert_eq(h.n_revs, 2);
    cr_assert_str_eq(h.revs[0].name, "v2");
    cr_assert_str_eq(h.revs[0].commit, COMMIT_V2);
    cr_assert_eq(h.revs[1].kind, DV_BUNDLE_REV_BASE);
    cr_assert_str_eq(h.revs[1].name, "v1");
    cr_assert_eq(h.n_paths, 1);
    cr_assert_str_eq(h.paths[0], "data/train");
    cr_assert_eq(h.n_roots, 2);
    cr_assert_eq(h.roots[1].type, DV_OBJ_MANIFEST);
    cr_assert_eq(h.roots[1].id.id[31], 0x22);
    cr_assert_eq(h.n_files, 4);
    cr_assert_eq(h.data_offset, b.len);
    cr_assert_eq(h.files[2].kind, DV_BUNDLE_FILE_PACK);
    cr_assert_eq(h.files[2].pack_id.id[0], 0xa2);
    cr_assert_eq(h.files[2].offset, b.len + PACK_BYTES + INDEX_BYTES);
    cr_assert_eq(h.files[3].length, INDEX_BYTES);
    dv_bundle_header_release(&h);
    dv_buf_release(&b);
}

Test(bundle, bad_magic_version_and_sizes_are_refused)
{
    dv_buf b = DV_BUF_INIT;
    uint64_t file_bytes;
    make_header(&b, &file_bytes);
    b.ptr[0] = 'X';
    cr_assert_eq(parse(&b, file_bytes), DV_ECORRUPT);
    cr_assert(strstr(dv_error_last(), "not a dv bundle"), "%s", dv_error_last());
    b.ptr[0] = 'D';
    dv_put_be32((uint8_t *)b.ptr + 8, 2);
    cr_assert_eq(parse(&b, file_bytes), DV_ECORRUPT);
    cr_assert(strstr(dv_error_last(), "version 2"), "%s", dv_error_last());
    dv_put_be32((uint8_t *)b.ptr + 8, 1);
    cr_assert_eq(parse(&b, file_bytes), 0, "%s", dv_error_last());
    /* one byte short of the trailer, or of the section */
    cr_assert_eq(parse(&b, file_bytes - 1), DV_ECORRUPT);
    cr_assert(strstr(dv_error_last(), "truncated"), "%s", dv_error_last());
    cr_assert_eq(parse(&b, b.len + DV_BUNDLE_TRAILER_BYTES - 1), DV_ECORRUPT);
    b.len--;
    cr_assert_eq(parse(&b, file_bytes), DV_ECORRUPT);
    b.len++;
    /* a header length past the limit or past the file */
    dv_put_be32((uint8_t *)b.ptr + 12, 0xffffffffu);
    cr_assert_eq(parse(&b, UINT64_MAX), DV_ECORRUPT);
    dv_buf_release(&b);
}

Test(bundle, counts_larger_than_the_section_are_refused)
{
    static const size_t counts_at[] = {REVS_AT, PATHS_AT, ROOTS_AT, FILES_AT};
    for (size_t i = 0; i < 4; i++) {
        dv_buf b = DV_BUF_INIT;
        uint64_t file_bytes;
        make_header(&b, &file_bytes);
        dv_put_be32((uint8_t *)b.ptr + counts_at[i], 0xfffffff0u);
        cr_assert_eq(parse(&b, file_bytes), DV_ECORRUPT, "count at %zu", counts_at[i]);
        dv_buf_release(&b);
    }
}

Test(bundle, damaged_records_are_refused)
{
    struct {
        size_t at;
        uint8_t value;
        const char *says;
    } cases[] = {
        {REVS_AT + 4, 9, "unknown kind"},                           /* revision kind */
        {REVS_AT + 5, 0xff, "bytes"},                               /* name length */
        {REVS_AT + 9, 39, "commit"},                                /* commit length */
        {REVS_AT + 10, 'G', "commit"},                              /* commit not hex */
        {REVS_AT + 7, 0, "NUL"},                                    /* NUL in a name */
        {ROOTS_AT + 4, 7, "unknown type"},                          /* root type */
        {FILES_AT + 4, DV_BUNDLE_FILE_INDEX, "a pack"},             /* an index first */
        {FILES_AT + 4 + FILE_RECORD + 1, 0xa3, "follows"},          /* index of another pack */
        {FILES_AT + 4 + 40, 0x01, "where it should"},               /* offset moved */
        {FILES_AT + 4 + 48, 0x01, "where it should"},               /* length grown */
        {FILES_AT + 4 + FILE_RECORD + 33, 0x80, "where it should"}, /* offset huge */
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        dv_buf b = DV_BUF_INIT;
        uint64_t file_bytes;
        make_header(&b, &file_bytes);
        b.ptr[cases[i].at] = (char)cases[i].value;
        cr_assert_eq(parse(&b, file_bytes), DV_ECORRUPT, "case %zu", i);
        cr_assert(strstr(dv_error_last(), cases[i].says), "case %zu: %s", i, dv_error_last());
        dv_buf_release(&b);
    }
}

Test(bundle, a_pack_twice_and_an_odd_table_are_refused)
{
    dv_bundle_header h = {0};
    dv_buf b = DV_BUF_INIT;
    dv_oid pack = oid_of(0xa1);
    cr_assert_eq(dv_bundle_header_add_rev(&h, DV_BUNDLE_REV_TIP, "v1", COMMIT_V1), 0);
    for (int i = 0; i < 2; i++) {
        cr_assert_eq(dv_bundle_header_add_file(&h, DV_BUNDLE_FILE_PACK, &pack, PACK_BYTES), 0);
        cr_assert_eq(dv_bundle_header_add_file(&h, DV_BUNDLE_FILE_INDEX, &pack, INDEX_BYTES), 0);
    }
    cr_assert_eq(dv_bundle_header_encode(&b, &h), 0);
    uint64_t file_bytes = b.len + 2 * (PACK_BYTES + INDEX_BYTES) + DV_BUNDLE_TRAILER_BYTES;
    cr_assert_eq(parse(&b, file_bytes), DV_ECORRUPT);
    cr_assert(strstr(dv_error_last(), "twice"), "%s", dv_error_last());
    dv_bundle_header_release(&h);

    /* three files: a pack without its index */
    memset(&h, 0, sizeof(h));
    cr_assert_eq(dv_bundle_header_add_rev(&h, DV_BUNDLE_REV_TIP, "v1", COMMIT_V1), 0);
    cr_assert_eq(dv_bundle_header_add_file(&h, DV_BUNDLE_FILE_PACK, &pack, PACK_BYTES), 0);
    cr_assert_eq(dv_bundle_header_add_file(&h, DV_BUNDLE_FILE_INDEX, &pack, INDEX_BYTES), 0);
    cr_assert_eq(dv_bundle_header_add_file(&h, DV_BUNDLE_FILE_PACK, &pack, PACK_BYTES), 0);
    cr_assert_eq(dv_bundle_header_encode(&b, &h), 0);
    file_bytes = b.len + 2 * PACK_BYTES + INDEX_BYTES + DV_BUNDLE_TRAILER_BYTES;
    cr_assert_eq(parse(&b, file_bytes), DV_ECORRUPT);
    cr_assert(strstr(dv_error_last(), "a pack and an index"), "%s", dv_error_last());
    dv_bundle_header_release(&h);
    dv_buf_release(&b);
}

Test(bundle, bytes_after_the_table_are_refused)
{
    dv_buf b = DV_BUF_INIT;
    uint64_t file_bytes;
    make_header(&b, &file_bytes);
    /* the section one byte longer than its records: the files then start one byte later */
    cr_assert_eq(dv_buf_putc(&b, 0), 0);
    dv_put_be32((uint8_t *)b.ptr + 12, (uint32_t)(b.len - 16));
    cr_assert_eq(parse(&b, file_bytes + 1), DV_ECORRUPT);
    cr_assert(strstr(dv_error_last(), "follow the table"), "%s", dv_error_last());
    dv_buf_release(&b);
}

Test(bundle, an_empty_bundle_is_a_header_and_a_trailer)
{
    dv_bundle_header h = {0};
    dv_buf b = DV_BUF_INIT;
    cr_assert_eq(dv_bundle_header_add_rev(&h, DV_BUNDLE_REV_TIP, "v1", COMMIT_V1), 0);
    cr_assert_eq(dv_bundle_header_encode(&b, &h), 0);
    cr_assert_eq(parse(&b, b.len + DV_BUNDLE_TRAILER_BYTES), 0, "%s", dv_error_last());
    cr_assert_eq(parse(&b, b.len + DV_BUNDLE_TRAILER_BYTES + 1), DV_ECORRUPT);
    dv_bundle_header_release(&h);
    dv_buf_release(&b);
}

Test(bundle, names_the_format_cannot_hold_are_refused)
{
    dv_bundle_header h = {0};
    char *long_name = malloc(DV_BUNDLE_NAME_MAX_BYTES + 2);
    cr_assert_not_null(long_name);
    memset(long_name, 'a', DV_BUNDLE_NAME_MAX_BYTES + 1);
    long_name[DV_BUNDLE_NAME_MAX_BYTES + 1] = '\0';
    cr_assert_eq(dv_bundle_header_add_rev(&h, DV_BUNDLE_REV_TIP, long_name, COMMIT_V1), DV_EUSAGE);
    cr_assert_eq(dv_bundle_header_add_rev(&h, DV_BUNDLE_REV_TIP, "v1", "abc"), DV_EUSAGE);
    cr_assert_eq(dv_bundle_header_add_path(&h, long_name), DV_EUSAGE);
    cr_assert_eq(h.n_revs + h.n_paths, 0);
    free(long_name);
    dv_bundle_header_release(&h);
}

Test(bundle, reads_stay_inside_their_file)
{
    char path[] = "/tmp/dv-test-bundle-XXXXXX";
    int fd = mkstemp(path);
    cr_assert(fd >= 0);
    dv_bundle_header h = {0};
    dv_buf b = DV_BUF_INIT;
    dv_oid pack = oid_of(0xa1), sum;
    cr_assert_eq(dv_bundle_header_add_rev(&h, DV_BUNDLE_REV_TIP, "v1", COMMIT_V1), 0);
    cr_assert_eq(dv_bundle_header_add_file(&h, DV_BUNDLE_FILE_PACK, &pack, PACK_BYTES), 0);
    cr_assert_eq(dv_bundle_header_add_file(&h, DV_BUNDLE_FILE_INDEX, &pack, INDEX_BYTES), 0);
    cr_assert_eq(dv_bundle_header_encode(&b, &h), 0);
    for (uint32_t i = 0; i < PACK_BYTES + INDEX_BYTES; i++)
        cr_assert_eq(dv_buf_putc(&b, (char)(i < PACK_BYTES ? 'p' : 'i')), 0);
    cr_assert_eq(dv_hash_buffer(&sum, b.ptr, b.len), 0);
    cr_assert_eq(dv_buf_put(&b, sum.id, sizeof(sum.id)), 0);
    cr_assert_eq(write(fd, b.ptr, b.len), (ssize_t)b.len);
    close(fd);

    dv_bundle *bundle;
    cr_assert_eq(dv_bundle_open(&bundle, path), 0, "%s", dv_error_last());
    cr_assert_eq(dv_bundle_is_bundle(path), 1);
    cr_assert_eq(dv_bundle_check_sum(bundle), 0, "%s", dv_error_last());
    char got[4];
    cr_assert_eq(dv_bundle_read(bundle, 1, INDEX_BYTES - 4, 4, got), 0);
    cr_assert_eq(memcmp(got, "iiii", 4), 0);
    cr_assert_eq(dv_bundle_read(bundle, 0, PACK_BYTES - 2, 4, got), DV_ECORRUPT,
                 "a read past the pack's end is refused, not served from the index");
    cr_assert_eq(dv_bundle_read(bundle, 0, UINT64_MAX - 1, 4, got), DV_ECORRUPT);
    dv_buf name = DV_BUF_INIT;
    cr_assert_eq(dv_buf_printf(&name, "packs/%s.idx", dv_oid_hex(&pack)), 0);
    cr_assert_eq(dv_bundle_find_name(bundle, name.ptr), 1);
    name.ptr[name.len - 3] = 'x';
    cr_assert_eq(dv_bundle_find_name(bundle, name.ptr), -1);
    dv_buf_release(&name);
    cr_assert_eq(dv_bundle_find_name(bundle, "packs/../../etc/passwd"), -1);
    dv_bundle_free(bundle);

    /* one flipped byte of a file: the checksum says so */
    fd = open(path, O_RDWR);
    cr_assert(fd >= 0);
    cr_assert_eq(pwrite(fd, "q", 1, (off_t)(h.data_offset + 10)), 1);
    close(fd);
    cr_assert_eq(dv_bundle_open(&bundle, path), 0);
    cr_assert_eq(dv_bundle_check_sum(bundle), DV_ECORRUPT);
    cr_assert(strstr(dv_error_last(), "checksum"), "%s", dv_error_last());
    dv_bundle_free(bundle);

    /* cut short: the table no longer fits */
    cr_assert_eq(truncate(path, (off_t)(b.len - 1)), 0);
    cr_assert_eq(dv_bundle_open(&bundle, path), DV_ECORRUPT);
    cr_assert(strstr(dv_error_last(), "truncated"), "%s", dv_error_last());
    unlink(path);
    dv_bundle_header_release(&h);
    dv_buf_release(&b);
}
