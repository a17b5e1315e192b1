/*
 * Tests for storage/pack: the pack and index formats of docs/formats.md ("Pack file",
 * "Pack index") checked byte by byte, reading back from the unsealed writer across the
 * boundaries of its write buffer with and without O_DIRECT, and the checks that catch
 * damaged packs and indexes.
 */
#include "core/base/buf.h"
#include "core/base/bytes.h"
#include "core/base/error.h"
#include "core/object/hash.h"
#include "core/object/object.h"
#include "core/simd/crc32c.h"
#include "storage/pack.h"

#include "testutil.h"

#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>

#define KIB ((size_t)1024)
#define MIB (1024 * KIB)
/* The writer fills a private buffer (4 or 8 MiB) before each write to the file; a layout
 * with something at every multiple of 4 MiB exercises either size. */
#define WRITE_STEP_BYTES (4 * MIB)
#define INDEX_RECORDS_AT (DV_INDEX_HEADER_BYTES + DV_INDEX_FANOUT_BYTES)

/* ---- temp directories: <root>/tmp for the writer, <root>/packs for sealed packs ---- */

static char root_dir[64];
static char tmp_dir[96];
static char packs_dir[96];

static void make_dirs(void)
{
    testutil_make_root(root_dir, sizeof(root_dir), "pack");
    snprintf(tmp_dir, sizeof(tmp_dir), "%s/tmp", root_dir);
    snprintf(packs_dir, sizeof(packs_dir), "%s/packs", root_dir);
    cr_assert_eq(mkdir(tmp_dir, 0755), 0);
    cr_assert_eq(mkdir(packs_dir, 0755), 0);
}

static void remove_dirs(void)
{
    testutil_remove_tree(root_dir);
}

TestSuite(pack, .init = make_dirs, .fini = remove_dirs, .timeout = 120);

/* ---- helpers ---- */

/* An object as the test writes it: its bytes, id, and the stored form it is appended in. */
typedef struct sample {
    dv_oid id;
    uint8_t type;
    uint8_t flags;
    uint8_t *data;
    size_t len;
    uint8_t *stored; /* data itself when raw */
    size_t stored_len;
} sample;

static void sample_make(sample *s, uint64_t seed, size_t len, int compress, uint8_t type)
{
    memset(s, 0, sizeof(*s));
    s->data = malloc(len ? len : 1);
    cr_assert_not_null(s->data);
    s->len = len;
    s->type = type;
    if (compress)
        fill_text(s->data, len, seed);
    else
        fill_random(s->data, len, seed);
    cr_assert_eq(dv_hash_buffer(&s->id, s->data, len), 0);
    if (compress) {
        size_t bound = ZSTD_compressBound(len);
        s->stored = malloc(bound);
        cr_assert_not_null(s->stored);
        size_t n = ZSTD_compress(s->stored, bound, s->data, len, 3);
        cr_assert(!ZSTD_isError(n));
        cr_assert_lt(n, len, "test text of %zu bytes should compress", len);
        s->stored_len = n;
        s->flags = DV_PACK_ZSTD;
    } else {
        s->stored = s->data;
        s->stored_len = len;
        s->flags = DV_PACK_RAW;
    }
}

/* A small raw object whose id starts with the byte first (about 256 tries). */
static void sample_make_with_first_byte(sample *s, uint8_t first, uint8_t type)
{
    for (uint64_t seed = 1;; seed++) {
        sample_make(s, seed * 7777 + first, 100, 0, type);
        if (s->id.id[0] == first)
            return;
        free(s->data);
    }
}

static void sample_free(sample *s)
{
    if (s->stored != s->data)
        free(s->stored);
    free(s->data);
}

static void append_sample(dv_pack_writer *w, const sample *s)
{
    cr_assert_eq(dv_pack_writer_append(w, &s->id, s->type, s->flags, (uint32_t)s->len, s->stored,
                                       (uint32_t)s->stored_len),
                 0, "append: %s", dv_error_last());
}

static void path_in(char *out, size_t size, const char *dir, const dv_oid *pack_id, const char *ext)
{
    char hex[DV_OID_HEX_CHARS + 1];
    dv_oid_tohex(hex, pack_id);
    snprintf(out, size, "%s/%s.%s", dir, hex, ext);
}

static uint8_t *read_whole_file(const char *path, size_t *len)
{
    struct stat st;
    cr_assert_eq(stat(path, &st), 0, "stat %s: %s", path, strerror(errno));
    uint8_t *p = malloc(st.st_size ? (size_t)st.st_size : 1);
    cr_assert_not_null(p);
    int fd = open(path, O_RDONLY);
    cr_assert_geq(fd, 0);
    size_t got = 0;
    while (got < (size_t)st.st_size) {
        ssize_t n = read(fd, p + got, (size_t)st.st_size - got);
        cr_assert_gt(n, 0);
        got += (size_t)n;
    }
    close(fd);
    *len = got;
    return p;
}

static void write_whole_file(const char *path, const void *data, size_t len)
{
    chmod(path, 0644); /* packs and indexes are 0444; the test damages them on purpose */
    int fd = open(path, O_WRONLY | O_TRUNC);
    cr_assert_geq(fd, 0, "open %s: %s", path, strerror(errno));
    cr_assert_eq(write(fd, data, len), (ssize_t)len);
    cr_assert_eq(close(fd), 0);
}

static void flip_byte(const char *path, uint64_t offset)
{
    chmod(path, 0644);
    int fd = open(path, O_RDWR);
    cr_assert_geq(fd, 0, "open %s: %s", path, strerror(errno));
    uint8_t b;
    cr_assert_eq(pread(fd, &b, 1, (off_t)offset), 1);
    b ^= 0x5a;
    cr_assert_eq(pwrite(fd, &b, 1, (off_t)offset), 1);
    cr_assert_eq(close(fd), 0);
}

static size_t count_dir_entries(const char *dir)
{
    DIR *d = opendir(dir);
    cr_assert_not_null(d);
    size_t n = 0;
    struct dirent *de;
    while ((de = readdir(d)))
        n += strcmp(de->d_name, ".") && strcmp(de->d_name, "..");
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

static int compare_oids(const void *a, const void *b)
{
    return dv_oid_cmp(a, b);
}

/* ---- the standard sample set: every type with both flags, 1 byte .. 300 KiB ---- */

#define N_SIZED_SAMPLES 128
#define N_SAMPLES (N_SIZED_SAMPLES + 2)

static size_t sample_len(size_t i)
{
    if (i == 0)
        return 1;
    if (i == 1)
        return 300 * KIB;
    return 1 + (i * 2654435761u) % (300 * KIB);
}

/* Sizes from 1 byte to 300 KiB; types and flags in every combination; and two objects
 * whose ids start with 0x00 and 0xff, the edges of the fanout table. */
static void make_samples(sample *s)
{
    for (size_t i = 0; i < N_SIZED_SAMPLES; i++) {
        size_t len = sample_len(i);
        int compress = (i / 3) % 2 && len >= 1024;
        sample_make(&s[i], 1000 + i, len, compress, (uint8_t)(DV_OBJ_CHUNK + i % 3));
    }
    sample_make_with_first_byte(&s[N_SIZED_SAMPLES], 0x00, DV_OBJ_CHUNK);
    sample_make_with_first_byte(&s[N_SIZED_SAMPLES + 1], 0xff, DV_OBJ_TREE);
}

static void free_samples(sample *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        sample_free(&s[i]);
}

static dv_oid write_pack(const sample *s, size_t n)
{
    dv_pack_writer *w = NULL;
    dv_oid pack_id;
    cr_assert_eq(dv_pack_writer_new(&w, tmp_dir), 0, "%s", dv_error_last());
    for (size_t i = 0; i < n; i++)
        append_sample(w, &s[i]);
    cr_assert_eq(dv_pack_writer_count(w), n);
    cr_assert_eq(dv_pack_writer_finish(&pack_id, w, packs_dir), 0, "%s", dv_error_last());
    cr_assert_not(dv_oid_is_zero(&pack_id));
    return pack_id;
}

/*
 * Walk the pack file from the start as a reader without an index would: header, then
 * each entry in append order, then the trailer, which is the SHA-256 of the pack header
 * and every entry header in order (not the stored bytes) and also the file's name.
 * Returns the entry offsets in append order.
 */
static uint64_t *check_pack_bytes(const sample *s, size_t n, const dv_oid *pack_id)
{
    char path[256];
    size_t len;
    path_in(path, sizeof(path), packs_dir, pack_id, "pack");
    uint8_t *p = read_whole_file(path, &len);
    uint64_t *offsets = calloc(n, sizeof(*offsets));
    cr_assert_not_null(offsets);

    cr_assert_geq(len, DV_PACK_HEADER_BYTES + DV_PACK_TRAILER_BYTES);
    cr_assert_eq(memcmp(p + len - DV_PACK_TRAILER_BYTES, pack_id->id, DV_OID_BYTES), 0,
                 "trailer is not the pack id");
    /* The headers the trailer covers: 8 + 48 x entries bytes. */
    size_t headers_len = DV_PACK_HEADER_BYTES + n * DV_PACK_ENTRY_HEADER_BYTES;
    uint8_t *headers = malloc(headers_len);
    cr_assert_not_null(headers);
    memcpy(headers, p, DV_PACK_HEADER_BYTES);

    cr_assert_eq(memcmp(p, "DVPK", 4), 0);
    cr_assert_eq(dv_get_be32(p + 4), 1);
    uint64_t off = DV_PACK_HEADER_BYTES;
    for (size_t i = 0; i < n; i++) {
        cr_assert_leq(off + DV_PACK_ENTRY_HEADER_BYTES, len - DV_PACK_TRAILER_BYTES);
        const uint8_t *h = p + off;
        offsets[i] = off;
        memcpy(headers + DV_PACK_HEADER_BYTES + i * DV_PACK_ENTRY_HEADER_BYTES, h,
               DV_PACK_ENTRY_HEADER_BYTES);
        cr_assert_eq(h[0], s[i].type, "entry %zu type", i);
        cr_assert_eq(h[1], s[i].flags, "entry %zu flags", i);
        cr_assert_eq(dv_get_be16(h + 2), 0, "entry %zu reserved", i);
        cr_assert_eq(dv_get_be32(h + 4), s[i].len, "entry %zu raw_len", i);
        cr_assert_eq(dv_get_be32(h + 8), s[i].stored_len, "entry %zu stored_len", i);
        cr_assert_eq(memcmp(h + 12, s[i].id.id, DV_OID_BYTES), 0, "entry %zu id", i);
        cr_assert_eq(dv_get_be32(h + 44), dv_crc32c(s[i].stored, s[i].stored_len),
                     "entry %zu CRC-32C", i);
        off += DV_PACK_ENTRY_HEADER_BYTES;
        cr_assert_leq(off + s[i].stored_len, len - DV_PACK_TRAILER_BYTES);
        cr_assert_eq(memcmp(p + off, s[i].stored, s[i].stored_len), 0, "entry %zu bytes", i);
        off += s[i].stored_len;
    }
    cr_assert_eq(off, len - DV_PACK_TRAILER_BYTES, "bytes between the last entry and trailer");
    dv_oid sum;
    cr_assert_eq(dv_hash_buffer(&sum, headers, headers_len), 0);
    cr_assert_eq(dv_oid_cmp(&sum, pack_id), 0,
                 "pack name is not the SHA-256 of the pack header and entry headers");
    free(headers);
    free(p);
    return offsets;
}

static void assert_not_found(const dv_pack *pack, const dv_oid *id)
{
    dv_pack_entry e;
    cr_assert_eq(dv_pack_find(pack, id, &e), 0, "%s should not be found", dv_oid_hex(id));
}

/* Everything a reader of a sealed pack relies on. */
static void check_sealed_pack(const sample *s, size_t n, const dv_oid *pack_id)
{
    char pack_path[256], idx_path[256];
    struct stat st;
    path_in(pack_path, sizeof(pack_path), packs_dir, pack_id, "pack");
    path_in(idx_path, sizeof(idx_path), packs_dir, pack_id, "idx");
    cr_assert_eq(stat(pack_path, &st), 0, "no %s", pack_path);
    cr_assert(S_ISREG(st.st_mode));
    cr_assert_eq(st.st_mode & 07777, 0444, "pack mode %o", st.st_mode & 07777);
    cr_assert_eq(stat(idx_path, &st), 0, "no %s", idx_path);
    cr_assert_eq(st.st_mode & 07777, 0444, "index mode %o", st.st_mode & 07777);
    cr_assert_eq((size_t)st.st_size, 44 + 1024 + 52 * n + 32);
    cr_assert_eq(count_dir_entries(packs_dir), 2, "only the pack and its index");
    cr_assert_eq(count_dir_entries(tmp_dir), 0, "the temp file is gone");

    uint64_t *offsets = check_pack_bytes(s, n, pack_id);

    dv_pack *pack = NULL;
    cr_assert_eq(dv_pack_open(&pack, packs_dir, pack_id), 0, "%s", dv_error_last());
    cr_assert_eq(dv_pack_count(pack), n);
    cr_assert_eq(dv_oid_cmp(dv_pack_id(pack), pack_id), 0);
    cr_assert_str_eq(dv_pack_path(pack), pack_path);

    dv_buf stored = DV_BUF_INIT, raw = DV_BUF_INIT;
    ZSTD_DCtx *dctx = ZSTD_createDCtx();
    for (size_t i = 0; i < n; i++) {
        dv_pack_entry e;
        memset(&e, 0, sizeof(e));
        cr_assert_eq(dv_pack_find(pack, &s[i].id, &e), 1, "sample %zu not found", i);
        cr_assert_eq(dv_oid_cmp(&e.id, &s[i].id), 0);
        cr_assert_eq(e.offset, offsets[i], "sample %zu offset", i);
        cr_assert_eq(e.raw_len, s[i].len);
        cr_assert_eq(e.stored_len, s[i].stored_len);
        cr_assert_eq(e.type, s[i].type);
        cr_assert_eq(e.flags, s[i].flags);
        cr_assert_eq(dv_pack_read_stored(&stored, pack, &e), 0, "%s", dv_error_last());
        cr_assert_eq(stored.len, s[i].stored_len);
        cr_assert_eq(memcmp(stored.ptr, s[i].stored, stored.len), 0);
        /* Alternate between a caller's decompression context and none. */
        cr_assert_eq(dv_pack_decode(&raw, &e, stored.ptr, stored.len, i % 2 ? dctx : NULL,
                                    dv_pack_path(pack)),
                     0, "%s", dv_error_last());
        cr_assert_eq(raw.len, s[i].len);
        cr_assert_eq(memcmp(raw.ptr, s[i].data, raw.len), 0, "sample %zu bytes", i);
    }

    /* Ids not written: the fanout edges, every first byte, and near misses of each id. */
    dv_oid probe;
    memset(probe.id, 0x00, DV_OID_BYTES);
    assert_not_found(pack, &probe);
    memset(probe.id, 0xff, DV_OID_BYTES);
    assert_not_found(pack, &probe);
    for (int b = 0; b < 256; b++) {
        memset(probe.id, 0x80, DV_OID_BYTES);
        probe.id[0] = (uint8_t)b;
        assert_not_found(pack, &probe);
    }
    for (size_t i = 0; i < n; i++) {
        probe = s[i].id;
        probe.id[DV_OID_BYTES - 1] ^= 1;
        assert_not_found(pack, &probe);
        memset(probe.id + 1, 0x00, DV_OID_BYTES - 1);
        assert_not_found(pack, &probe);
        memset(probe.id + 1, 0xff, DV_OID_BYTES - 1);
        assert_not_found(pack, &probe);
    }

    /* entry_at walks the ids in sorted order, each once, with the same records as find. */
    dv_oid *sorted = malloc(n * sizeof(*sorted));
    cr_assert_not_null(sorted);
    for (size_t i = 0; i < n; i++)
        sorted[i] = s[i].id;
    qsort(sorted, n, sizeof(*sorted), compare_oids);
    for (size_t i = 0; i < n; i++) {
        dv_pack_entry at, found;
        dv_pack_entry_at(pack, i, &at);
        cr_assert_eq(dv_oid_cmp(&at.id, &sorted[i]), 0, "entry_at(%zu) is out of order", i);
        cr_assert_eq(dv_pack_find(pack, &at.id, &found), 1);
        cr_assert_eq(at.offset, found.offset);
        cr_assert_eq(at.stored_len, found.stored_len);
        cr_assert_eq(at.raw_len, found.raw_len);
        cr_assert_eq(at.type, found.type);
        cr_assert_eq(at.flags, found.flags);
    }

    free(sorted);
    ZSTD_freeDCtx(dctx);
    dv_buf_release(&stored);
    dv_buf_release(&raw);
    dv_pack_free(pack);
    free(offsets);
}

static void round_trip(void)
{
    sample s[N_SAMPLES];
    make_samples(s);
    /* Precondition: the entries span more than 8 MiB, and entries lie across 4 MiB and
     * 8 MiB, whichever the writer's buffer size. */
    uint64_t off = DV_PACK_HEADER_BYTES;
    int straddles[2] = {0, 0};
    for (size_t i = 0; i < N_SAMPLES; i++) {
        uint64_t end = off + DV_PACK_ENTRY_HEADER_BYTES + s[i].stored_len;
        for (int k = 0; k < 2; k++)
            straddles[k] |= off < (k + 1) * WRITE_STEP_BYTES && end > (k + 1) * WRITE_STEP_BYTES;
        off = end;
    }
    cr_assert_gt(off, 2 * WRITE_STEP_BYTES);
    cr_assert(straddles[0] && straddles[1]);

    dv_oid pack_id = write_pack(s, N_SAMPLES);
    check_sealed_pack(s, N_SAMPLES, &pack_id);
    free_samples(s, N_SAMPLES);
}

/* ---- O_DIRECT ---- */

/* Open flags of this process's writable descriptor on a temp pack in tmp_dir, or -1. */
static int writer_descriptor_flags(void)
{
    char real_tmp[PATH_MAX];
    cr_assert_not_null(realpath(tmp_dir, real_tmp));
    DIR *d = opendir("/proc/self/fd");
    cr_assert_not_null(d);
    int result = -1;
    struct dirent *de;
    while ((de = readdir(d))) {
        if (de->d_name[0] == '.')
            continue;
        char link[300], target[PATH_MAX], info_path[300];
        snprintf(link, sizeof(link), "/proc/self/fd/%s", de->d_name);
        ssize_t n = readlink(link, target, sizeof(target) - 1);
        if (n < 0)
            continue;
        target[n] = '\0';
        if (strncmp(target, real_tmp, strlen(real_tmp)) || !strstr(target, "/pack-"))
            continue;
        snprintf(info_path, sizeof(info_path), "/proc/self/fdinfo/%s", de->d_name);
        FILE *f = fopen(info_path, "r");
        cr_assert_not_null(f);
        char line[256];
        unsigned flags = 0;
        while (fgets(line, sizeof(line), f))
            if (sscanf(line, "flags: %o", &flags) == 1)
                break;
        fclose(f);
        if ((flags & O_ACCMODE) == O_RDWR)
            result = (int)flags;
    }
    closedir(d);
    return result;
}

static int file_system_takes_o_direct(const char *dir)
{
    char path[256];
    snprintf(path, sizeof(path), "%s/direct-probe", dir);
    int fd = open(path, O_CREAT | O_RDWR | O_DIRECT, 0600);
    if (fd < 0)
        return 0;
    close(fd);
    unlink(path);
    return 1;
}

Test(pack, writer_uses_o_direct_where_the_file_system_allows_it)
{
    unsetenv("DV_NO_DIRECT_IO");
    int expect = file_system_takes_o_direct(tmp_dir);
    dv_pack_writer *w = NULL;
    cr_assert_eq(dv_pack_writer_new(&w, tmp_dir), 0, "%s", dv_error_last());
    int flags = writer_descriptor_flags();
    cr_assert_geq(flags, 0, "no writable descriptor on the temp pack");
    cr_assert_eq(!!(flags & O_DIRECT), expect, "O_DIRECT %s on a file system that %s it",
                 flags & O_DIRECT ? "on" : "off", expect ? "takes" : "refuses");
    dv_pack_writer_free(w);
}

Test(pack, no_direct_io_variable_turns_o_direct_off)
{
    cr_assert_eq(setenv("DV_NO_DIRECT_IO", "1", 1), 0);
    dv_pack_writer *w = NULL;
    cr_assert_eq(dv_pack_writer_new(&w, tmp_dir), 0, "%s", dv_error_last());
    int flags = writer_descriptor_flags();
    cr_assert_geq(flags, 0, "no writable descriptor on the temp pack");
    cr_assert_eq(flags & O_DIRECT, 0);
    dv_pack_writer_free(w);
}

/* ---- round trips ---- */

Test(pack, round_trip_keeps_every_object_in_the_documented_format)
{
    unsetenv("DV_NO_DIRECT_IO");
    round_trip();
}

Test(pack, round_trip_keeps_every_object_without_direct_io)
{
    cr_assert_eq(setenv("DV_NO_DIRECT_IO", "1", 1), 0);
    round_trip();
}

Test(pack, index_is_laid_out_as_documented)
{
    sample s[N_SAMPLES];
    make_samples(s);
    dv_oid pack_id = write_pack(s, N_SAMPLES);
    uint64_t *offsets = check_pack_bytes(s, N_SAMPLES, &pack_id);
    char idx_path[256];
    size_t len;
    path_in(idx_path, sizeof(idx_path), packs_dir, &pack_id, "idx");
    uint8_t *p = read_whole_file(idx_path, &len);

    cr_assert_eq(len, 44 + 1024 + 52 * (size_t)N_SAMPLES + 32);
    cr_assert_eq(memcmp(p, "DVIX", 4), 0);
    cr_assert_eq(dv_get_be32(p + 4), 1);
    cr_assert_eq(dv_get_be32(p + 8), N_SAMPLES);
    cr_assert_eq(memcmp(p + 12, pack_id.id, DV_OID_BYTES), 0);

    /* Sorted ids, and for each the sample it came from. */
    size_t order[N_SAMPLES];
    for (size_t i = 0; i < N_SAMPLES; i++)
        order[i] = i;
    for (size_t i = 1; i < N_SAMPLES; i++)
        for (size_t j = i; j > 0 && dv_oid_cmp(&s[order[j - 1]].id, &s[order[j]].id) > 0; j--) {
            size_t t = order[j];
            order[j] = order[j - 1];
            order[j - 1] = t;
        }

    uint32_t fanout[256] = {0};
    for (size_t i = 0; i < N_SAMPLES; i++)
        for (int b = s[i].id.id[0]; b < 256; b++)
            fanout[b]++;
    for (int b = 0; b < 256; b++)
        cr_assert_eq(dv_get_be32(p + 44 + 4 * b), fanout[b], "fanout[%d]", b);
    cr_assert_geq(fanout[0], 1, "the first bucket holds the 0x00 sample");
    cr_assert_lt(fanout[254], N_SAMPLES, "the last bucket holds the 0xff sample");

    const uint8_t *ids = p + INDEX_RECORDS_AT;
    const uint8_t *records = ids + (size_t)N_SAMPLES * DV_OID_BYTES;
    for (size_t k = 0; k < N_SAMPLES; k++) {
        const sample *x = &s[order[k]];
        const uint8_t *r = records + k * DV_INDEX_RECORD_BYTES;
        cr_assert_eq(memcmp(ids + k * DV_OID_BYTES, x->id.id, DV_OID_BYTES), 0, "id %zu", k);
        cr_assert_eq(dv_get_be64(r), offsets[order[k]], "record %zu offset", k);
        cr_assert_eq(dv_get_be32(r + 8), x->stored_len, "record %zu stored_len", k);
        cr_assert_eq(dv_get_be32(r + 12), x->len, "record %zu raw_len", k);
        cr_assert_eq(r[16], x->type);
        cr_assert_eq(r[17], x->flags);
        cr_assert_eq(dv_get_be16(r + 18), 0);
    }
    dv_oid sum;
    cr_assert_eq(dv_hash_buffer(&sum, p, len - DV_INDEX_TRAILER_BYTES), 0);
    cr_assert_eq(memcmp(p + len - DV_INDEX_TRAILER_BYTES, sum.id, DV_OID_BYTES), 0);

    free(p);
    free(offsets);
    free_samples(s, N_SAMPLES);
}

/* ---- reading back from the unsealed pack ---- */

/* Check every sample appended so far through the writer, and that the next is absent. */
static void check_writer_has(dv_pack_writer *w, const sample *s, const uint64_t *offsets,
                             size_t n_appended, const sample *next)
{
    dv_buf stored = DV_BUF_INIT;
    cr_assert_eq(dv_pack_writer_count(w), n_appended);
    for (size_t i = 0; i < n_appended; i++) {
        dv_pack_entry e;
        cr_assert_eq(dv_pack_writer_find(w, &s[i].id, &e), 1, "sample %zu not found", i);
        cr_assert_eq(dv_oid_cmp(&e.id, &s[i].id), 0);
        cr_assert_eq(e.offset, offsets[i], "sample %zu offset", i);
        cr_assert_eq(e.raw_len, s[i].len);
        cr_assert_eq(e.stored_len, s[i].stored_len);
        cr_assert_eq(e.type, s[i].type);
        cr_assert_eq(e.flags, s[i].flags);
        cr_assert_eq(dv_pack_writer_read_stored(&stored, w, &e), 0, "%s", dv_error_last());
        cr_assert_eq(stored.len, s[i].stored_len);
        cr_assert_eq(memcmp(stored.ptr, s[i].stored, stored.len), 0,
                     "sample %zu read back wrong after %zu appends", i, n_appended);
    }
    if (next)
        cr_assert_eq(dv_pack_writer_find(w, &next->id, NULL), 0);
    dv_buf_release(&stored);
}

/* How the writer-read-back layout places an entry relative to a multiple of 4 MiB. */
typedef enum placement {
    FIXED,              /* a given length, wherever it falls */
    STORED_ACROSS,      /* stored bytes run from before the boundary to 5000 bytes past it */
    NEXT_HEADER_ACROSS, /* ends 20 bytes before the boundary, so the next header straddles it */
    ENDS_AT,            /* stored bytes end exactly at the boundary */
} placement;

typedef struct layout_step {
    placement where;
    uint64_t boundary_mib; /* for all but FIXED */
    size_t len;            /* for FIXED */
    int compress;
    uint8_t type;
} layout_step;

/*
 * Entries around every multiple of 4 MiB up to 24 MiB, so whatever the writer's buffer
 * size (4 or 8 MiB), entries lie wholly in the file, wholly in the buffer, with their
 * stored bytes across a flush, with their header across a flush, and ending exactly
 * where a flush leaves an empty buffer. Checked after every append, and after sealing.
 */
static const layout_step writer_layout[] = {
    {FIXED, 0, MIB, 0, DV_OBJ_CHUNK},
    {STORED_ACROSS, 4, 0, 0, DV_OBJ_CHUNK},
    {FIXED, 0, 10 * KIB, 1, DV_OBJ_MANIFEST},
    {NEXT_HEADER_ACROSS, 8, 0, 0, DV_OBJ_CHUNK},
    {FIXED, 0, 1000, 0, DV_OBJ_TREE},
    {ENDS_AT, 12, 0, 0, DV_OBJ_CHUNK},
    {FIXED, 0, 1, 0, DV_OBJ_CHUNK},
    {STORED_ACROSS, 16, 0, 0, DV_OBJ_MANIFEST},
    {NEXT_HEADER_ACROSS, 20, 0, 0, DV_OBJ_CHUNK},
    {FIXED, 0, 1000, 0, DV_OBJ_CHUNK},
    {ENDS_AT, 24, 0, 0, DV_OBJ_CHUNK},
    {FIXED, 0, 200 * KIB, 1, DV_OBJ_TREE},
    {FIXED, 0, 1, 0, DV_OBJ_MANIFEST},
};
#define N_LAYOUT (sizeof(writer_layout) / sizeof(writer_layout[0]))

static void writer_reads_back(void)
{
    sample s[N_LAYOUT];
    uint64_t offsets[N_LAYOUT];
    dv_pack_writer *w = NULL;
    cr_assert_eq(dv_pack_writer_new(&w, tmp_dir), 0, "%s", dv_error_last());
    cr_assert_eq(dv_pack_writer_bytes(w), DV_PACK_HEADER_BYTES);

    uint64_t bytes = DV_PACK_HEADER_BYTES;
    for (size_t i = 0; i < N_LAYOUT; i++) {
        const layout_step *step = &writer_layout[i];
        uint64_t boundary = step->boundary_mib * MIB;
        uint64_t stored_end = 0;
        size_t len = step->len;
        switch (step->where) {
        case STORED_ACROSS:
            stored_end = boundary + 5000;
            break;
        case NEXT_HEADER_ACROSS:
            stored_end = boundary - 20;
            break;
        case ENDS_AT:
            stored_end = boundary;
            break;
        default:
            break;
        }
        if (stored_end) {
            cr_assert_gt(stored_end, bytes + DV_PACK_ENTRY_HEADER_BYTES + 1000, "step %zu", i);
            len = (size_t)(stored_end - (bytes + DV_PACK_ENTRY_HEADER_BYTES));
        }
        sample_make(&s[i], 500 + i, len, step->compress, step->type);
        offsets[i] = bytes;
        bytes += DV_PACK_ENTRY_HEADER_BYTES + s[i].stored_len;
        if (step->where == STORED_ACROSS)
            cr_assert_lt(offsets[i] + DV_PACK_ENTRY_HEADER_BYTES, boundary);
        if (step->where == NEXT_HEADER_ACROSS)
            cr_assert_eq(bytes, boundary - 20);
    }

    for (size_t i = 0; i < N_LAYOUT; i++) {
        append_sample(w, &s[i]);
        cr_assert_eq(dv_pack_writer_bytes(w),
                     offsets[i] + DV_PACK_ENTRY_HEADER_BYTES + s[i].stored_len);
        check_writer_has(w, s, offsets, i + 1, i + 1 < N_LAYOUT ? &s[i + 1] : NULL);
    }

    dv_oid pack_id;
    cr_assert_eq(dv_pack_writer_finish(&pack_id, w, packs_dir), 0, "%s", dv_error_last());
    check_sealed_pack(s, N_LAYOUT, &pack_id);
    free_samples(s, N_LAYOUT);
}

Test(pack, writer_reads_back_entries_in_the_file_in_the_buffer_and_across_both)
{
    unsetenv("DV_NO_DIRECT_IO");
    writer_reads_back();
}

Test(pack, writer_reads_back_entries_without_direct_io)
{
    cr_assert_eq(setenv("DV_NO_DIRECT_IO", "1", 1), 0);
    writer_reads_back();
}

Test(pack, pack_ending_exactly_at_a_buffer_boundary_is_sealed_whole)
{
    /* One object sized so that header, entry and trailer fill exactly 4 or 8 MiB, with and
     * without O_DIRECT: the last flush leaves nothing (or only the trailer) behind. */
    for (int direct = 0; direct < 2; direct++) {
        if (direct)
            unsetenv("DV_NO_DIRECT_IO");
        else
            cr_assert_eq(setenv("DV_NO_DIRECT_IO", "1", 1), 0);
        for (uint64_t mib = 4; mib <= 8; mib += 4) {
            for (size_t trailer_in_next = 0; trailer_in_next < 2; trailer_in_next++) {
                /* Either the trailer ends the buffer, or the entry does and the trailer
                 * starts a new one. */
                uint64_t end = mib * MIB + (trailer_in_next ? DV_PACK_TRAILER_BYTES : 0);
                size_t len = (size_t)(end - DV_PACK_HEADER_BYTES - DV_PACK_ENTRY_HEADER_BYTES -
                                      DV_PACK_TRAILER_BYTES);
                sample x;
                sample_make(&x, mib * 10 + trailer_in_next, len, 0, DV_OBJ_CHUNK);
                dv_oid pack_id = write_pack(&x, 1);
                char path[256];
                struct stat st;
                path_in(path, sizeof(path), packs_dir, &pack_id, "pack");
                cr_assert_eq(stat(path, &st), 0);
                cr_assert_eq((uint64_t)st.st_size, end, "direct %d: %lld bytes, want %llu", direct,
                             (long long)st.st_size, (unsigned long long)end);
                check_sealed_pack(&x, 1, &pack_id);
                char idx_path[256];
                path_in(idx_path, sizeof(idx_path), packs_dir, &pack_id, "idx");
                cr_assert_eq(unlink(path), 0);
                cr_assert_eq(unlink(idx_path), 0);
                sample_free(&x);
            }
        }
    }
}

/* ---- empty and abandoned writers ---- */

Test(pack, empty_writer_finish_writes_nothing_and_returns_a_zero_id)
{
    dv_pack_writer *w = NULL;
    dv_oid pack_id;
    memset(pack_id.id, 0xaa, DV_OID_BYTES);
    cr_assert_eq(dv_pack_writer_new(&w, tmp_dir), 0, "%s", dv_error_last());
    cr_assert_eq(count_dir_entries(tmp_dir), 1, "the writer has a temp file");
    cr_assert_eq(dv_pack_writer_count(w), 0);
    cr_assert_eq(dv_pack_writer_finish(&pack_id, w, packs_dir), 0, "%s", dv_error_last());
    cr_assert(dv_oid_is_zero(&pack_id));
    cr_assert_eq(count_dir_entries(packs_dir), 0);
    cr_assert_eq(count_dir_entries(tmp_dir), 0);
}

Test(pack, free_of_an_unfinished_writer_removes_its_temp_file)
{
    sample big, small;
    sample_make(&big, 1, 2 * WRITE_STEP_BYTES + 100, 0, DV_OBJ_CHUNK); /* forces a flush */
    sample_make(&small, 2, 100, 0, DV_OBJ_CHUNK);
    for (int round = 0; round < 2; round++) {
        dv_pack_writer *w = NULL;
        cr_assert_eq(dv_pack_writer_new(&w, tmp_dir), 0, "%s", dv_error_last());
        append_sample(w, &small);
        if (round == 1)
            append_sample(w, &big);
        cr_assert_eq(count_dir_entries(tmp_dir), 1);
        dv_pack_writer_free(w);
        cr_assert_eq(count_dir_entries(tmp_dir), 0, "round %d left its temp file", round);
        cr_assert_eq(count_dir_entries(packs_dir), 0);
    }
    dv_pack_writer_free(NULL);
    dv_pack_free(NULL);
    sample_free(&big);
    sample_free(&small);
}

/* ---- damage ---- */

/* A small pack: raw and zstd objects of each type. */
#define N_SMALL 6

static dv_oid write_small_pack(sample *s)
{
    sample_make(&s[0], 11, 50 * KIB, 0, DV_OBJ_CHUNK);
    sample_make(&s[1], 12, 100 * KIB, 1, DV_OBJ_MANIFEST);
    sample_make(&s[2], 13, 1, 0, DV_OBJ_TREE);
    sample_make(&s[3], 14, 5 * KIB, 1, DV_OBJ_CHUNK);
    sample_make(&s[4], 15, 200 * KIB, 0, DV_OBJ_MANIFEST);
    sample_make(&s[5], 16, 3 * KIB, 1, DV_OBJ_TREE);
    return write_pack(s, N_SMALL);
}

typedef struct problems {
    int n;
    dv_buf text;
} problems;

static void collect_problem(void *ctx, const dv_pack *pack, const dv_oid *object,
                            const char *message)
{
    problems *p = ctx;
    (void)pack;
    (void)object;
    p->n++;
    dv_buf_printf(&p->text, "%s\n", message);
}

static void open_pack(dv_pack **pack, const dv_oid *pack_id)
{
    cr_assert_eq(dv_pack_open(pack, packs_dir, pack_id), 0, "%s", dv_error_last());
}

static int decode_sample(dv_pack *pack, const sample *x, dv_buf *stored, dv_buf *raw)
{
    dv_pack_entry e;
    cr_assert_eq(dv_pack_find(pack, &x->id, &e), 1);
    int rc = dv_pack_read_stored(stored, pack, &e);
    if (rc < 0)
        return rc;
    return dv_pack_decode(raw, &e, stored->ptr, stored->len, NULL, dv_pack_path(pack));
}

Test(pack, verify_structure_finds_nothing_wrong_with_a_sound_pack)
{
    sample s[N_SMALL];
    dv_oid pack_id = write_small_pack(s);
    dv_pack *pack;
    open_pack(&pack, &pack_id);
    problems p = {0, DV_BUF_INIT};
    cr_assert_eq(dv_pack_verify_structure(pack, collect_problem, &p), 0, "%s", p.text.ptr);
    cr_assert_eq(p.n, 0);
    dv_buf_release(&p.text);
    dv_pack_free(pack);
    free_samples(s, N_SMALL);
}

/* Write the small pack, name sample k's pack file and hex id, and open the pack with
 * k's entry located. */
static dv_pack *write_and_locate(sample *s, size_t k, dv_oid *pack_id, char pack_path[256],
                                 char hex[DV_OID_HEX_CHARS + 1], dv_pack_entry *e)
{
    dv_pack *pack;
    *pack_id = write_small_pack(s);
    path_in(pack_path, 256, packs_dir, pack_id, "pack");
    dv_oid_tohex(hex, &s[k].id);
    open_pack(&pack, pack_id);
    cr_assert_eq(dv_pack_find(pack, &s[k].id, e), 1);
    return pack;
}

/* Flip a byte in the middle of sample k's stored bytes, then read it back. The pack
 * checksum covers only headers (docs/formats.md): the entry's CRC-32C and the object's
 * own id catch this. */
static void check_damaged_object(size_t k)
{
    sample s[N_SMALL];
    dv_oid pack_id;
    char pack_path[256], hex[DV_OID_HEX_CHARS + 1];
    dv_pack_entry e;
    dv_pack *pack = write_and_locate(s, k, &pack_id, pack_path, hex, &e);
    dv_pack_free(pack);
    flip_byte(pack_path, e.offset + DV_PACK_ENTRY_HEADER_BYTES + e.stored_len / 2);

    open_pack(&pack, &pack_id);
    dv_buf stored = DV_BUF_INIT, raw = DV_BUF_INIT;
    /* The entry's CRC-32C catches it when the stored bytes are read... */
    assert_error(dv_pack_read_stored(&stored, pack, &e), DV_ECORRUPT, hex);
    cr_assert(strstr(dv_error_last(), "CRC-32C"), "%s", dv_error_last());
    /* ...and the object's own id catches it too, for bytes taken without that check. */
    size_t file_len;
    uint8_t *file = read_whole_file(pack_path, &file_len);
    const uint8_t *damaged = file + e.offset + DV_PACK_ENTRY_HEADER_BYTES;
    cr_assert_neq(memcmp(damaged, s[k].stored, e.stored_len), 0);
    assert_error(dv_pack_decode(&raw, &e, damaged, e.stored_len, NULL, dv_pack_path(pack)),
                 DV_ECORRUPT, hex);
    free(file);
    /* The neighbours are intact. */
    for (size_t i = 0; i < N_SMALL; i++) {
        if (i == k)
            continue;
        cr_assert_eq(decode_sample(pack, &s[i], &stored, &raw), 0, "%s", dv_error_last());
        cr_assert_eq(memcmp(raw.ptr, s[i].data, s[i].len), 0);
    }

    dv_buf_release(&stored);
    dv_buf_release(&raw);
    dv_pack_free(pack);
    free_samples(s, N_SMALL);
}

Test(pack, damaged_raw_object_fails_decode_naming_it)
{
    check_damaged_object(0);
}

Test(pack, damaged_zstd_object_fails_decode_naming_it)
{
    check_damaged_object(1);
}

/* Flip byte at of sample k's entry header: reading it is refused, and verify_structure
 * reports both the pack checksum and the disagreement with the index. */
static void check_damaged_entry_header(size_t k, size_t at)
{
    sample s[N_SMALL];
    dv_oid pack_id;
    char pack_path[256], hex[DV_OID_HEX_CHARS + 1];
    dv_pack_entry e;
    dv_pack *pack = write_and_locate(s, k, &pack_id, pack_path, hex, &e);
    flip_byte(pack_path, e.offset + at);
    dv_buf stored = DV_BUF_INIT;
    assert_error(dv_pack_read_stored(&stored, pack, &e), DV_ECORRUPT, hex);

    problems p = {0, DV_BUF_INIT};
    cr_assert_geq(dv_pack_verify_structure(pack, collect_problem, &p), 2, "problems: %s",
                  p.text.ptr);
    cr_assert(strstr(p.text.ptr, "pack checksum"), "problems: %s", p.text.ptr);
    cr_assert(strstr(p.text.ptr, "does not match the index"), "problems: %s", p.text.ptr);

    dv_buf_release(&p.text);
    dv_buf_release(&stored);
    dv_pack_free(pack);
    free_samples(s, N_SMALL);
}

Test(pack, damaged_entry_length_is_refused_and_reported_by_verify)
{
    check_damaged_entry_header(3, 5); /* inside raw_len */
}

Test(pack, damaged_entry_reserved_bytes_are_refused_and_reported_by_verify)
{
    check_damaged_entry_header(0, 2);
}

Test(pack, damaged_trailer_is_reported_by_verify)
{
    sample s[N_SMALL];
    dv_oid pack_id = write_small_pack(s);
    char pack_path[256];
    struct stat st;
    path_in(pack_path, sizeof(pack_path), packs_dir, &pack_id, "pack");
    cr_assert_eq(stat(pack_path, &st), 0);
    flip_byte(pack_path, (uint64_t)st.st_size - 1);
    dv_pack *pack;
    open_pack(&pack, &pack_id);
    problems p = {0, DV_BUF_INIT};
    cr_assert_eq(dv_pack_verify_structure(pack, collect_problem, &p), 1, "problems: %s",
                 p.text.ptr);
    cr_assert(strstr(p.text.ptr, "pack checksum"), "problems: %s", p.text.ptr);
    dv_buf_release(&p.text);
    dv_pack_free(pack);
    free_samples(s, N_SMALL);
}

Test(pack, decode_rejects_unknown_flags_and_a_raw_length_mismatch)
{
    sample x;
    sample_make(&x, 3, 1000, 0, DV_OBJ_CHUNK);
    char hex[DV_OID_HEX_CHARS + 1];
    dv_oid_tohex(hex, &x.id);
    dv_pack_entry e = {x.id, DV_PACK_HEADER_BYTES, 1000, 1000, DV_OBJ_CHUNK, 2};
    dv_buf raw = DV_BUF_INIT;
    assert_error(dv_pack_decode(&raw, &e, x.data, x.len, NULL, "test"), DV_ECORRUPT, hex);
    e.flags = DV_PACK_RAW;
    assert_error(dv_pack_decode(&raw, &e, x.data, x.len - 1, NULL, "test"), DV_ECORRUPT, hex);
    e.raw_len = DV_OBJECT_MAX_BYTES + 1;
    assert_error(dv_pack_decode(&raw, &e, x.data, x.len, NULL, "test"), DV_ECORRUPT, hex);
    e.raw_len = 1000;
    cr_assert_eq(dv_pack_decode(&raw, &e, x.data, x.len, NULL, "test"), 0, "%s", dv_error_last());
    cr_assert_eq(memcmp(raw.ptr, x.data, x.len), 0);
    dv_buf_release(&raw);
    sample_free(&x);
}

Test(pack, damaged_index_is_reported_by_verify_and_its_record_is_refused)
{
    sample s[N_SMALL];
    dv_oid pack_id = write_small_pack(s);
    char idx_path[256];
    path_in(idx_path, sizeof(idx_path), packs_dir, &pack_id, "idx");
    /* Last byte of record 0's offset: the index still opens, but lies about entry 0. */
    flip_byte(idx_path, INDEX_RECORDS_AT + (size_t)N_SMALL * DV_OID_BYTES + 7);

    dv_pack *pack;
    open_pack(&pack, &pack_id);
    problems p = {0, DV_BUF_INIT};
    cr_assert_geq(dv_pack_verify_structure(pack, collect_problem, &p), 1);
    cr_assert(strstr(p.text.ptr, "index checksum"), "problems: %s", p.text.ptr);

    dv_pack_entry e;
    dv_pack_entry_at(pack, 0, &e);
    char hex[DV_OID_HEX_CHARS + 1];
    dv_oid_tohex(hex, &e.id);
    dv_buf stored = DV_BUF_INIT;
    assert_error(dv_pack_read_stored(&stored, pack, &e), DV_ECORRUPT, hex);

    dv_buf_release(&stored);
    dv_buf_release(&p.text);
    dv_pack_free(pack);
    free_samples(s, N_SMALL);
}

Test(pack, truncated_index_fails_to_open)
{
    sample s[N_SMALL];
    dv_oid pack_id = write_small_pack(s);
    char idx_path[256];
    size_t len;
    path_in(idx_path, sizeof(idx_path), packs_dir, &pack_id, "idx");
    uint8_t *idx = read_whole_file(idx_path, &len);
    static const size_t keep[] = {0, 20, 44 + 1024 + 31, 44 + 1024 + 32, 100};
    dv_pack *pack = NULL;

    cr_assert_eq(truncate(idx_path, (off_t)(len - 1)), 0);
    assert_error(dv_pack_open(&pack, packs_dir, &pack_id), DV_ECORRUPT, ".idx");
    cr_assert_null(pack);
    for (size_t i = 0; i < sizeof(keep) / sizeof(keep[0]); i++) {
        write_whole_file(idx_path, idx, keep[i]);
        assert_error(dv_pack_open(&pack, packs_dir, &pack_id), DV_ECORRUPT, ".idx");
    }
    /* One byte too many is as wrong as one too few. */
    uint8_t *longer = malloc(len + 1);
    cr_assert_not_null(longer);
    memcpy(longer, idx, len);
    longer[len] = 0;
    write_whole_file(idx_path, longer, len + 1);
    assert_error(dv_pack_open(&pack, packs_dir, &pack_id), DV_ECORRUPT, ".idx");

    write_whole_file(idx_path, idx, len);
    open_pack(&pack, &pack_id);
    dv_pack_free(pack);
    free(longer);
    free(idx);
    free_samples(s, N_SMALL);
}

Test(pack, index_with_a_bad_fanout_fails_to_open)
{
    sample s[N_SMALL];
    dv_oid pack_id = write_small_pack(s);
    char idx_path[256];
    size_t len;
    path_in(idx_path, sizeof(idx_path), packs_dir, &pack_id, "idx");
    uint8_t *idx = read_whole_file(idx_path, &len);
    uint8_t *bad = malloc(len);
    cr_assert_not_null(bad);
    uint8_t *fanout = bad + DV_INDEX_HEADER_BYTES;
    /* Precondition for the first case: bucket 0 is not already full. */
    cr_assert_lt(dv_get_be32(idx + DV_INDEX_HEADER_BYTES), N_SMALL);

    for (int variant = 0; variant < 4; variant++) {
        memcpy(bad, idx, len);
        switch (variant) {
        case 0: /* decreasing */
            dv_put_be32(fanout, N_SMALL);
            break;
        case 1: /* the last bucket short of count */
            dv_put_be32(fanout + 4 * 255, N_SMALL - 1);
            break;
        case 2: /* beyond count */
            dv_put_be32(fanout + 4 * 255, N_SMALL + 1);
            break;
        default: /* all zero */
            memset(fanout, 0, DV_INDEX_FANOUT_BYTES);
            break;
        }
        write_whole_file(idx_path, bad, len);
        dv_pack *pack = NULL;
        assert_error(dv_pack_open(&pack, packs_dir, &pack_id), DV_ECORRUPT, "fanout");
        cr_assert_null(pack, "variant %d", variant);
    }
    free(bad);
    free(idx);
    free_samples(s, N_SMALL);
}

Test(pack, index_of_another_pack_or_with_bad_magic_fails_to_open)
{
    sample s[N_SMALL];
    dv_oid pack_id = write_small_pack(s);
    char idx_path[256];
    path_in(idx_path, sizeof(idx_path), packs_dir, &pack_id, "idx");
    dv_pack *pack = NULL;

    flip_byte(idx_path, 12 + 5); /* the pack id in the header */
    assert_error(dv_pack_open(&pack, packs_dir, &pack_id), DV_ECORRUPT, "another pack");
    flip_byte(idx_path, 12 + 5);
    flip_byte(idx_path, 0);
    assert_error(dv_pack_open(&pack, packs_dir, &pack_id), DV_ECORRUPT, ".idx");
    flip_byte(idx_path, 0);
    flip_byte(idx_path, 7); /* version */
    assert_error(dv_pack_open(&pack, packs_dir, &pack_id), DV_ECORRUPT, ".idx");
    flip_byte(idx_path, 7);
    open_pack(&pack, &pack_id);
    dv_pack_free(pack);
    free_samples(s, N_SMALL);
}

Test(pack, open_of_a_missing_index_is_not_found)
{
    dv_oid pack_id;
    memset(pack_id.id, 0x42, DV_OID_BYTES);
    dv_pack *pack = NULL;
    assert_error(dv_pack_open(&pack, packs_dir, &pack_id), DV_ENOTFOUND, dv_oid_hex(&pack_id));
    cr_assert_null(pack);
}

/*
 * docs: dv_pack_verify_structure verifies "that the index matches the pack's entries".
 * An index that is internally consistent (sorted, fanout and checksum right) but lacks
 * one of the pack's entries does not match the pack: that object can no longer be found.
 */
Test(pack, verify_structure_reports_an_index_that_omits_an_entry_of_the_pack)
{
    sample s[N_SMALL];
    dv_oid pack_id = write_small_pack(s);
    char idx_path[256];
    size_t len;
    path_in(idx_path, sizeof(idx_path), packs_dir, &pack_id, "idx");
    uint8_t *idx = read_whole_file(idx_path, &len);

    /* Rebuild the index without its entry 1, with a correct fanout and checksum. */
    const size_t n = N_SMALL, drop = 1;
    const uint8_t *ids = idx + INDEX_RECORDS_AT;
    const uint8_t *records = ids + n * DV_OID_BYTES;
    dv_buf out = DV_BUF_INIT;
    dv_buf_put(&out, idx, 8);
    dv_buf_put_be32(&out, (uint32_t)(n - 1));
    dv_buf_put(&out, pack_id.id, DV_OID_BYTES);
    for (int b = 0; b < 256; b++) {
        uint32_t count = 0;
        for (size_t i = 0; i < n; i++)
            count += i != drop && ids[i * DV_OID_BYTES] <= b;
        dv_buf_put_be32(&out, count);
    }
    for (size_t i = 0; i < n; i++)
        if (i != drop)
            dv_buf_put(&out, ids + i * DV_OID_BYTES, DV_OID_BYTES);
    for (size_t i = 0; i < n; i++)
        if (i != drop)
            dv_buf_put(&out, records + i * DV_INDEX_RECORD_BYTES, DV_INDEX_RECORD_BYTES);
    dv_oid sum;
    cr_assert_eq(dv_hash_buffer(&sum, out.ptr, out.len), 0);
    dv_buf_put(&out, sum.id, DV_OID_BYTES);
    write_whole_file(idx_path, out.ptr, out.len);

    dv_pack *pack;
    open_pack(&pack, &pack_id);
    cr_assert_eq(dv_pack_count(pack), n - 1);
    problems p = {0, DV_BUF_INIT};
    int rc = dv_pack_verify_structure(pack, collect_problem, &p);
    cr_assert_geq(rc, 1,
                  "verify_structure found %d problems in an index that lists %zu of the "
                  "pack's %zu entries",
                  rc, n - 1, n);

    dv_buf_release(&p.text);
    dv_buf_release(&out);
    dv_pack_free(pack);
    free(idx);
    free_samples(s, N_SMALL);
}

/* ---- reading runs for a restore: from the page cache, else around it ---- */

/* Pages of [offset, offset + len) of the file at path that are in the page cache. */
static size_t cached_pages(const char *path, uint64_t offset, size_t len)
{
    int fd = open(path, O_RDONLY);
    cr_assert_geq(fd, 0);
    struct stat st;
    cr_assert_eq(fstat(fd, &st), 0);
    void *map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_SHARED, fd, 0);
    cr_assert_neq(map, MAP_FAILED);
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    uint64_t first = offset / page * page;
    size_t span = (size_t)(offset + len - first), n = (span + page - 1) / page, cached = 0;
    unsigned char *vec = malloc(n);
    cr_assert_not_null(vec);
    cr_assert_eq(mincore((uint8_t *)map + first, span, vec), 0);
    for (size_t i = 0; i < n; i++)
        cached += vec[i] & 1;
    free(vec);
    munmap(map, (size_t)st.st_size);
    close(fd);
    return cached;
}

/* Drop the file's pages from the page cache; 1 when none is left. */
static int evict(const char *path)
{
    int fd = open(path, O_RDONLY);
    cr_assert_geq(fd, 0);
    struct stat st;
    cr_assert_eq(fstat(fd, &st), 0);
    fdatasync(fd);
    posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
    close(fd);
    return cached_pages(path, 0, (size_t)st.st_size) == 0;
}

/* dv_pack_read_run of [offset, offset + len) gives the file's bytes, where it says. */
static void check_run(const dv_pack *pack, const uint8_t *file, uint64_t offset, size_t len)
{
    uint8_t *buf;
    cr_assert_eq(posix_memalign((void **)&buf, DV_PACK_READ_ALIGN, DV_PACK_RUN_BUFFER_BYTES(len)),
                 0);
    const uint8_t *out = NULL;
    cr_assert_eq(dv_pack_read_run(pack, buf, len, offset, &out), 0, "%s", dv_error_last());
    cr_assert(out >= buf && out + len <= buf + DV_PACK_RUN_BUFFER_BYTES(len),
              "the run at %llu is outside its buffer", (unsigned long long)offset);
    cr_assert_eq(memcmp(out, file + offset, len), 0, "bytes of the run at %llu (%zu bytes) differ",
                 (unsigned long long)offset, len);
    free(buf);
}

/* Runs at aligned and odd offsets, across block boundaries and up to the file's last byte. */
static void check_runs(const dv_pack *pack, const uint8_t *file, size_t file_len)
{
    const uint64_t offsets[] = {0, 1, 8, 4095, 4096, 4097, 65536 + 17, file_len / 2};
    const size_t lens[] = {1, 47, 4096, 4097, 3 * 4096 + 5, 300000};
    for (size_t i = 0; i < sizeof(offsets) / sizeof(offsets[0]); i++)
        for (size_t j = 0; j < sizeof(lens) / sizeof(lens[0]); j++)
            if (offsets[i] + lens[j] <= file_len)
                check_run(pack, file, offsets[i], lens[j]);
    check_run(pack, file, 0, file_len);
    check_run(pack, file, file_len - 1, 1);
    check_run(pack, file, file_len - 5000, 5000);
    check_run(pack, file, 4096, file_len - 4096);
}

/* The standard samples sealed in a pack (with O_DIRECT where it can), opened: its path and
 * its bytes as read (which leaves them in the page cache). */
static uint8_t *open_standard_pack(dv_pack **pack, sample *s, char *path, size_t path_size,
                                   size_t *file_len)
{
    unsetenv("DV_NO_DIRECT_IO");
    make_samples(s);
    dv_oid pack_id = write_pack(s, N_SAMPLES);
    path_in(path, path_size, packs_dir, &pack_id, "pack");
    uint8_t *file = read_whole_file(path, file_len);
    open_pack(pack, &pack_id);
    return file;
}

Test(pack, runs_read_the_same_bytes_from_the_page_cache_and_from_the_device)
{
    sample s[N_SAMPLES];
    char path[256];
    size_t file_len;
    dv_pack *pack;
    uint8_t *file = open_standard_pack(&pack, s, path, sizeof(path), &file_len);
    cr_assert_gt(file_len, 400000, "the pack is too small for the runs tested");

    /* cached: read_whole_file just read all of it */
    check_runs(pack, file, file_len);

    /* not cached: the reads go around the page cache and leave nothing in it */
    if (!evict(path)) {
        cr_log_warn("the file system keeps %s in the page cache; not checked uncached", path);
    } else {
        check_runs(pack, file, file_len);
        if (file_system_takes_o_direct(packs_dir))
            cr_assert_eq(cached_pages(path, 0, file_len), 0,
                         "reading runs of an uncached pack filled the page cache");
    }
    dv_pack_free(pack);
    free(file);
    free_samples(s, N_SAMPLES);
}

Test(pack, a_run_past_the_end_of_a_truncated_pack_is_refused_cached_or_not)
{
    sample s[N_SAMPLES];
    char path[256];
    size_t file_len;
    dv_pack *pack;
    free(open_standard_pack(&pack, s, path, sizeof(path), &file_len));
    /* shortened after it was opened, at an odd offset */
    size_t cut = file_len / 2 + 123;
    cr_assert_eq(truncate(path, (off_t)cut), 0);
    uint8_t *buf;
    size_t len = 20000;
    cr_assert_eq(posix_memalign((void **)&buf, DV_PACK_READ_ALIGN, DV_PACK_RUN_BUFFER_BYTES(len)),
                 0);
    const uint8_t *out;
    for (int pass = 0; pass < 2; pass++) {
        if (pass == 1 && !evict(path))
            break;
        int rc = dv_pack_read_run(pack, buf, len, cut - 1000, &out);
        assert_error(rc, DV_ECORRUPT, "truncated");
        cr_assert(strstr(dv_error_last(), path), "the message names the pack: %s", dv_error_last());
    }
    free(buf);
    dv_pack_free(pack);
    free_samples(s, N_SAMPLES);
}

/* ---- sealing in the background ---- */

/* The stored bytes of every sample come back from w (find + read_stored). */
static void check_writer_reads(dv_pack_writer *w, const sample *s, size_t n)
{
    dv_buf out = DV_BUF_INIT;
    for (size_t i = 0; i < n; i++) {
        dv_pack_entry e;
        cr_assert_eq(dv_pack_writer_find(w, &s[i].id, &e), 1, "sample %zu not found", i);
        cr_assert_eq(dv_pack_writer_read_stored(&out, w, &e), 0, "%s", dv_error_last());
        cr_assert_eq(out.len, s[i].stored_len);
        cr_assert_eq(memcmp(out.ptr, s[i].stored, out.len), 0, "sample %zu reads back wrong", i);
    }
    dv_buf_release(&out);
}

Test(pack, a_started_seal_keeps_entries_readable_and_ends_in_the_same_pack)
{
    unsetenv("DV_NO_DIRECT_IO");
    sample s[N_SAMPLES];
    make_samples(s);
    dv_pack_writer *w = NULL;
    cr_assert_eq(dv_pack_writer_new(&w, tmp_dir), 0, "%s", dv_error_last());
    for (size_t i = 0; i < N_SAMPLES; i++)
        append_sample(w, &s[i]);
    cr_assert_eq(dv_pack_writer_finish_start(w, packs_dir), 0, "%s", dv_error_last());
    /* while the writer's thread seals (and after it is done) */
    check_writer_reads(w, s, N_SAMPLES);
    dv_oid pack_id;
    cr_assert_eq(dv_pack_writer_finish_wait(&pack_id, w), 0, "%s", dv_error_last());
    cr_assert_eq(dv_pack_writer_finish_done(w), 1);
    check_writer_reads(w, s, N_SAMPLES);
    dv_pack_writer_free(w);
    /* the same pack, byte for byte, as a seal that waits */
    check_sealed_pack(s, N_SAMPLES, &pack_id);
    free_samples(s, N_SAMPLES);
}

Test(pack, a_seal_that_fails_in_the_background_is_reported_by_wait_and_leaves_nothing)
{
    sample s[8];
    for (size_t i = 0; i < 8; i++)
        sample_make(&s[i], 50 + i, 3000 + i, i % 2, DV_OBJ_CHUNK);
    dv_pack_writer *w = NULL;
    cr_assert_eq(dv_pack_writer_new(&w, tmp_dir), 0, "%s", dv_error_last());
    for (size_t i = 0; i < 8; i++)
        append_sample(w, &s[i]);
    char missing[256];
    snprintf(missing, sizeof(missing), "%s/no-such-dir", root_dir);
    cr_assert_eq(dv_pack_writer_finish_start(w, missing), 0, "%s", dv_error_last());
    dv_oid pack_id;
    int rc = dv_pack_writer_finish_wait(&pack_id, w);
    cr_assert_lt(rc, 0, "a seal into a missing directory succeeded");
    cr_assert(strstr(dv_error_last(), "no-such-dir"), "the message names the pack: %s",
              dv_error_last());
    cr_assert(dv_oid_is_zero(&pack_id));
    dv_pack_writer_free(w);
    cr_assert_eq(count_dir_entries(tmp_dir), 0, "the temp file is left behind");
    cr_assert_eq(count_dir_entries(packs_dir), 0);
    free_samples(s, 8);
}

/* ---- dv_pack_verify with CRC-32C and dv_pack_check_whole (what dv push runs) ---- */

static int verify_crc(dv_pack *pack, problems *p)
{
    return dv_pack_verify(pack, DV_PACK_VERIFY_CRC, collect_problem, p);
}

/* The standard samples and one raw object larger than the verifier's 8 MiB read buffer, so
 * that entries lie across buffer refills and one needs a grown buffer. */
#define N_VERIFY (N_SAMPLES + 1)

static dv_oid write_verify_pack(sample *s)
{
    make_samples(s);
    sample_make(&s[N_SAMPLES], 77, 9 * MIB, 0, DV_OBJ_CHUNK);
    return write_pack(s, N_VERIFY);
}

Test(pack, verify_with_crc_and_check_whole_pass_a_sound_pack)
{
    sample s[N_VERIFY];
    dv_oid pack_id = write_verify_pack(s);
    dv_pack *pack;
    open_pack(&pack, &pack_id);
    problems p = {0, DV_BUF_INIT};
    cr_assert_eq(verify_crc(pack, &p), 0, "%s", p.text.ptr);
    cr_assert_eq(dv_pack_check_whole(pack), 0, "%s", dv_error_last());
    dv_buf_release(&p.text);
    dv_pack_free(pack);
    free_samples(s, N_VERIFY);
}

/* One flipped stored byte leaves every header and both checksums intact: only the entry's
 * CRC-32C shows it, so the structure check alone passes and the whole check does not. */
static void check_flipped_stored_byte(size_t k, uint64_t into)
{
    sample s[N_VERIFY];
    dv_oid pack_id = write_verify_pack(s);
    char pack_path[256], hex[DV_OID_HEX_CHARS + 1];
    dv_pack *pack;
    dv_pack_entry e;
    path_in(pack_path, sizeof(pack_path), packs_dir, &pack_id, "pack");
    open_pack(&pack, &pack_id);
    cr_assert_eq(dv_pack_find(pack, &s[k].id, &e), 1);
    dv_pack_free(pack);
    flip_byte(pack_path, e.offset + DV_PACK_ENTRY_HEADER_BYTES + into);
    open_pack(&pack, &pack_id);

    problems p = {0, DV_BUF_INIT};
    cr_assert_eq(dv_pack_verify_structure(pack, collect_problem, &p), 0, "%s", p.text.ptr);
    cr_assert_eq(verify_crc(pack, &p), 1, "problems: %s", p.text.ptr);
    cr_assert(strstr(p.text.ptr, "CRC-32C"), "problems: %s", p.text.ptr);
    dv_oid_tohex(hex, &s[k].id);
    assert_error(dv_pack_check_whole(pack), DV_ECORRUPT, hex);
    cr_assert(strstr(dv_error_last(), pack_path), "%s", dv_error_last());
    cr_assert(strstr(dv_error_last(), "run dv fsck"), "%s", dv_error_last());

    dv_buf_release(&p.text);
    dv_pack_free(pack);
    free_samples(s, N_VERIFY);
}

Test(pack, check_whole_finds_a_flipped_stored_byte_that_the_structure_check_cannot)
{
    check_flipped_stored_byte(1, 1000); /* the 300 KiB sample */
}

Test(pack, check_whole_finds_a_flipped_byte_at_the_end_of_an_entry_larger_than_its_buffer)
{
    check_flipped_stored_byte(N_SAMPLES, 9 * MIB - 1);
}

/* The index of a small pack, read whole (idx_path gets its path). */
static uint8_t *read_small_index(char *idx_path, size_t size, size_t *len, const dv_oid *pack_id)
{
    path_in(idx_path, size, packs_dir, pack_id, "idx");
    return read_whole_file(idx_path, len);
}

/* Compute an altered index's trailer again, so that only its content is wrong. */
static void rehash_index(uint8_t *idx, size_t len)
{
    dv_oid sum;
    cr_assert_eq(dv_hash_buffer(&sum, idx, len - DV_INDEX_TRAILER_BYTES), 0);
    memcpy(idx + len - DV_INDEX_TRAILER_BYTES, sum.id, DV_OID_BYTES);
}

/* An index record that disagrees with its entry header, in an index whose trailer was
 * computed again: the index's own checksum passes, the comparison with the pack does not. */
static void check_altered_record(size_t field_at, uint8_t xor_with)
{
    sample s[N_SMALL];
    dv_oid pack_id = write_small_pack(s);
    char idx_path[256];
    size_t len;
    uint8_t *idx = read_small_index(idx_path, sizeof(idx_path), &len, &pack_id);
    idx[INDEX_RECORDS_AT + (size_t)N_SMALL * DV_OID_BYTES + 2 * DV_INDEX_RECORD_BYTES + field_at] ^=
        xor_with;
    rehash_index(idx, len);
    cr_assert_eq(dv_pack_check_index(idx, len, &pack_id, idx_path), 0, "%s", dv_error_last());
    write_whole_file(idx_path, idx, len);
    free(idx);

    dv_pack *pack;
    open_pack(&pack, &pack_id);
    problems p = {0, DV_BUF_INIT};
    cr_assert_geq(verify_crc(pack, &p), 1, "problems: %s", p.text.ptr);
    cr_assert(strstr(p.text.ptr, "does not match the index"), "problems: %s", p.text.ptr);
    cr_assert_null(strstr(p.text.ptr, "index checksum"), "problems: %s", p.text.ptr);
    assert_error(dv_pack_check_whole(pack), DV_ECORRUPT, "does not match the index");
    dv_buf_release(&p.text);
    dv_pack_free(pack);
    free_samples(s, N_SMALL);
}

Test(pack, check_whole_finds_an_index_record_with_another_offset_and_a_valid_trailer)
{
    check_altered_record(7, 0x08); /* the low byte of the offset */
}

Test(pack, check_whole_finds_an_index_record_with_another_raw_length_and_a_valid_trailer)
{
    check_altered_record(15, 0x01);
}

Test(pack, check_whole_finds_an_index_record_with_another_type_and_a_valid_trailer)
{
    check_altered_record(16, 0x03);
}

Test(pack, check_whole_refuses_a_truncated_pack_at_every_kind_of_cut)
{
    sample s[N_SMALL];
    dv_oid pack_id = write_small_pack(s);
    char pack_path[256];
    path_in(pack_path, sizeof(pack_path), packs_dir, &pack_id, "pack");
    size_t len;
    uint8_t *whole = read_whole_file(pack_path, &len);
    /* inside the trailer, inside stored bytes, inside an entry header, the header alone */
    const size_t cuts[] = {len - 1, len - 10 * KIB, DV_PACK_HEADER_BYTES + 20, DV_PACK_HEADER_BYTES,
                           3};
    for (size_t i = 0; i < sizeof(cuts) / sizeof(cuts[0]); i++) {
        write_whole_file(pack_path, whole, cuts[i]);
        dv_pack *pack;
        open_pack(&pack, &pack_id);
        assert_error(dv_pack_check_whole(pack), DV_ECORRUPT, pack_path);
        cr_assert(strstr(dv_error_last(), "run dv fsck"), "%s", dv_error_last());
        dv_pack_free(pack);
    }
    write_whole_file(pack_path, whole, len);
    dv_pack *pack;
    open_pack(&pack, &pack_id);
    cr_assert_eq(dv_pack_check_whole(pack), 0, "%s", dv_error_last());
    dv_pack_free(pack);
    free(whole);
    free_samples(s, N_SMALL);
}

Test(pack, check_bounds_refuses_an_entry_whose_end_is_past_two_to_the_64)
{
    sample s[N_SMALL];
    dv_oid pack_id = write_small_pack(s);
    dv_pack *pack;
    open_pack(&pack, &pack_id);
    dv_pack_entry e;
    dv_pack_entry_at(pack, 0, &e);
    cr_assert_eq(dv_pack_check_bounds(pack, &e), 0, "%s", dv_error_last());
    /* offset + 48 + stored_len wraps to a small number that would lie inside the pack */
    e.stored_len = 1000;
    e.offset = UINT64_MAX - DV_PACK_ENTRY_HEADER_BYTES - 100;
    assert_error(dv_pack_check_bounds(pack, &e), DV_ECORRUPT, "lies outside pack");
    e.offset = UINT64_MAX;
    assert_error(dv_pack_check_bounds(pack, &e), DV_ECORRUPT, "lies outside pack");
    dv_pack_free(pack);
    free_samples(s, N_SMALL);
}

Test(pack, an_entry_whose_end_wraps_around_64_bits_lies_outside_the_pack)
{
    /* one entry at offset 2^64 - 40 with 8 stored bytes: its end, offset + 48 + 8, would
     * wrap around to 16, inside any pack */
    dv_oid pack_id, id, sum;
    memset(pack_id.id, 0x5a, sizeof(pack_id.id));
    memset(id.id, 0x80, sizeof(id.id));
    dv_buf idx = DV_BUF_INIT;
    cr_assert_eq(dv_buf_put(&idx, DV_INDEX_MAGIC, 4), 0);
    cr_assert_eq(dv_buf_put_be32(&idx, DV_PACK_VERSION), 0);
    cr_assert_eq(dv_buf_put_be32(&idx, 1), 0);
    cr_assert_eq(dv_buf_put(&idx, pack_id.id, DV_OID_BYTES), 0);
    for (int b = 0; b < 256; b++)
        cr_assert_eq(dv_buf_put_be32(&idx, b >= 0x80), 0);
    cr_assert_eq(dv_buf_put(&idx, id.id, DV_OID_BYTES), 0);
    cr_assert_eq(dv_buf_put_be64(&idx, UINT64_MAX - 39), 0);
    cr_assert_eq(dv_buf_put_be32(&idx, 8), 0); /* stored_len */
    cr_assert_eq(dv_buf_put_be32(&idx, 8), 0); /* raw_len */
    cr_assert_eq(dv_buf_put(&idx, "\x01\x00\x00\x00", 4), 0);
    cr_assert_eq(dv_hash_buffer(&sum, idx.ptr, idx.len), 0);
    cr_assert_eq(dv_buf_put(&idx, sum.id, DV_OID_BYTES), 0);
    cr_assert_eq(dv_pack_check_index((const uint8_t *)idx.ptr, idx.len, &pack_id, "wraps.idx"), 0,
                 "%s", dv_error_last());

    char idx_path[256];
    snprintf(idx_path, sizeof(idx_path), "%s/wraps.idx", root_dir);
    FILE *created = fopen(idx_path, "w");
    cr_assert_not_null(created, "%s: %s", idx_path, strerror(errno));
    cr_assert_eq(fclose(created), 0);
    write_whole_file(idx_path, idx.ptr, idx.len);
    dv_pack *pack = NULL;
    cr_assert_eq(dv_pack_open_index(&pack, idx_path, "remote.pack", &pack_id, (uint64_t)1 << 30), 0,
                 "%s", dv_error_last());
    dv_pack_entry e;
    dv_pack_entry_at(pack, 0, &e);
    assert_error(dv_pack_check_bounds(pack, &e), DV_ECORRUPT, "outside pack");
    dv_pack_free(pack);
    dv_buf_release(&idx);
}

/* Two ids of an index swapped, its trailer computed again: the checksum passes, and the
 * order (which every lookup's binary search relies on) is what refuses it. */
Test(pack, check_index_refuses_ids_out_of_order)
{
    sample s[N_SMALL];
    dv_oid pack_id = write_small_pack(s);
    char idx_path[256];
    size_t len;
    uint8_t *idx = read_small_index(idx_path, sizeof(idx_path), &len, &pack_id);
    cr_assert_eq(dv_pack_check_index(idx, len, &pack_id, idx_path), 0, "%s", dv_error_last());
    uint8_t held[DV_OID_BYTES];
    uint8_t *first = idx + INDEX_RECORDS_AT, *second = first + DV_OID_BYTES;
    memcpy(held, first, DV_OID_BYTES);
    memcpy(first, second, DV_OID_BYTES);
    memcpy(second, held, DV_OID_BYTES);
    rehash_index(idx, len);
    assert_error(dv_pack_check_index(idx, len, &pack_id, idx_path), DV_ECORRUPT, "out of order");
    free(idx);
    free_samples(s, N_SMALL);
}

/* ---- a series of packs ---- */

Test(pack, a_series_seals_each_pack_at_its_target_and_lists_them_in_order)
{
    dv_pack_series s = DV_PACK_SERIES_INIT;
    s.dir = packs_dir;
    s.target_bytes = 150 * 1024; /* two 64 KiB objects and a bit: three a pack at most */
    sample samples[7];
    for (int i = 0; i < 7; i++) {
        sample_make(&samples[i], 900 + (uint64_t)i, 64 * 1024, 0, DV_OBJ_CHUNK);
        cr_assert_eq(dv_pack_series_append(&s, &samples[i].id, samples[i].type, samples[i].flags,
                                           (uint32_t)samples[i].len, samples[i].stored,
                                           (uint32_t)samples[i].stored_len),
                     0, "%s", dv_error_last());
    }
    cr_assert_eq(s.n, 2, "sealed at 3 objects (over 150 KiB) twice: %zu packs", s.n);
    cr_assert_eq(dv_pack_series_seal(&s), 0, "%s", dv_error_last());
    cr_assert_eq(s.n, 3, "the last object in a pack of its own");
    size_t where[7] = {0, 0, 0, 1, 1, 1, 2}; /* which pack holds each sample */
    for (int i = 0; i < 7; i++) {
        dv_pack *p = NULL;
        cr_assert_eq(dv_pack_open(&p, packs_dir, &s.ids[where[i]]), 0, "%s", dv_error_last());
        cr_assert_eq(dv_pack_find(p, &samples[i].id, NULL), 1, "sample %d in pack %zu", i,
                     where[i]);
        dv_pack_free(p);
        cr_assert_eq(dv_pack_series_has(&s, &s.ids[where[i]]), 1);
    }
    cr_assert_eq(dv_pack_series_has(&s, &samples[0].id), 0, "an object id is no pack of it");
    cr_assert_eq(dv_pack_series_seal(&s), 0, "nothing being written: nothing to seal");
    cr_assert_eq(s.n, 3);
    /* an unsealed pack is abandoned on release: no new file appears */
    cr_assert_eq(dv_pack_series_append(&s, &samples[0].id, samples[0].type, samples[0].flags,
                                       (uint32_t)samples[0].len, samples[0].stored,
                                       (uint32_t)samples[0].stored_len),
                 0);
    dv_pack_series_release(&s);
    DIR *d = opendir(packs_dir);
    cr_assert_not_null(d);
    size_t files = 0;
    for (struct dirent *de; (de = readdir(d));)
        files += de->d_name[0] != '.';
    closedir(d);
    cr_assert_eq(files, 6, "three packs and their indexes, nothing of the abandoned one (%zu)",
                 files);
    for (int i = 0; i < 7; i++)
        sample_free(&samples[i]);
}

Test(pack, lookups_give_the_same_answers_once_the_filter_of_ids_is_built)
{
    /* 3000 objects, then enough lookups (present and absent ids) for the filter to be
     * built part way through: every object is found before and after, at its offset, and
     * no absent id is. */
    enum { N = 3000, ROUNDS = 3 };
    sample *s = calloc(N, sizeof(*s));
    cr_assert_not_null(s);
    for (size_t i = 0; i < N; i++)
        sample_make(&s[i], 900000 + i, 64, 0, DV_OBJ_CHUNK);
    dv_oid pack_id = write_pack(s, N);
    dv_pack *pack = NULL;
    cr_assert_eq(dv_pack_open(&pack, packs_dir, &pack_id), 0, "%s", dv_error_last());
    dv_pack_entry first[N];
    for (int round = 0; round < ROUNDS; round++) {
        for (size_t i = 0; i < N; i++) {
            dv_pack_entry e;
            cr_assert_eq(dv_pack_find(pack, &s[i].id, &e), 1, "round %d: object %zu", round, i);
            if (round == 0)
                first[i] = e;
            cr_assert_eq(e.offset, first[i].offset);
            dv_oid absent = s[i].id;
            absent.id[31] ^= 0x5a;
            absent.id[20] ^= (uint8_t)round;
            assert_not_found(pack, &absent);
        }
    }
    dv_pack_free(pack);
    free_samples(s, N);
    free(s);
}

Test(pack, lookups_find_every_id_of_a_bucket_whose_ids_are_far_from_uniform)
{
    /* A lookup's first steps guess positions from the ids' values; an index whose ids
     * are bunched (written with chosen ids, not hashes) must still answer exactly. */
    enum { N = 600 };
    sample *s = calloc(N, sizeof(*s));
    cr_assert_not_null(s);
    for (size_t i = 0; i < N; i++) {
        sample_make(&s[i], 700000 + i, 32, 0, DV_OBJ_CHUNK);
        memset(s[i].id.id, 0, DV_OID_BYTES);
        s[i].id.id[0] = 0x42;
        /* most ids at the bottom of the bucket, a few near its top */
        if (i % 100 == 99)
            memset(s[i].id.id + 1, 0xff, 6);
        s[i].id.id[7] = (uint8_t)(i >> 8);
        s[i].id.id[8] = (uint8_t)i;
        s[i].id.id[31] = (uint8_t)(i * 7);
    }
    qsort(s, N, sizeof(*s), compare_oids);
    dv_oid pack_id = write_pack(s, N);
    dv_pack *pack = NULL;
    cr_assert_eq(dv_pack_open(&pack, packs_dir, &pack_id), 0, "%s", dv_error_last());
    for (size_t i = 0; i < N; i++) {
        dv_pack_entry e;
        dv_pack_prefetch(pack, &s[(i + 8) % N].id);
        cr_assert_eq(dv_pack_find(pack, &s[i].id, &e), 1, "object %zu", i);
        cr_assert_eq(memcmp(e.id.id, s[i].id.id, DV_OID_BYTES), 0);
        dv_oid absent = s[i].id;
        absent.id[31] ^= 0x01;
        assert_not_found(pack, &absent);
        absent = s[i].id;
        absent.id[5] ^= 0x10;
        assert_not_found(pack, &absent);
    }
    dv_pack_free(pack);
    free_samples(s, N);
    free(s);
}
