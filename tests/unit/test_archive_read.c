/*
 * Tests for core/data/archive_read: archives written here with libarchive's writer (pax
 * tar, zip), read back into a tree. The tree of an accepted archive is the one built by
 * hand from the same files; the order of entries and missing directory entries change
 * nothing; symlinks are resolved through the whole archive (links followed, loops cut);
 * every hostile entry is refused with a message naming it.
 */
#include "core/base/buf.h"
#include "core/base/error.h"
#include "core/data/archive_read.h"
#include "core/data/chunker.h"
#include "core/data/ingest.h"
#include "core/object/hash.h"
#include "core/object/object.h"

#include <archive.h>
#include <archive_entry.h>
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

typedef struct entry {
    const char *name;
    char type; /* 'f' file, 'x' exec file, 'd' dir, 'l' symlink, 'h' hard link, 'c' char device */
    const char *data; /* file bytes, link target */
} entry;

/* An archive of entries in format (ARCHIVE_FORMAT_TAR_PAX_RESTRICTED, ARCHIVE_FORMAT_ZIP). */
static void *make(size_t *len, int format, const entry *entries, size_t n)
{
    size_t cap = 1 << 20;
    void *buf = malloc(cap);
    cr_assert_not_null(buf);
    struct archive *a = archive_write_new();
    cr_assert_eq(archive_write_set_format(a, format), ARCHIVE_OK);
    cr_assert_eq(archive_write_open_memory(a, buf, cap, len), ARCHIVE_OK);
    for (size_t i = 0; i < n; i++) {
        struct archive_entry *e = archive_entry_new();
        archive_entry_set_pathname(e, entries[i].name);
        archive_entry_set_mtime(e, 1700000000, 0);
        size_t size = 0;
        switch (entries[i].type) {
        case 'f':
        case 'x':
            size = strlen(entries[i].data);
            archive_entry_set_filetype(e, AE_IFREG);
            archive_entry_set_perm(e, entries[i].type == 'x' ? 0755 : 0644);
            archive_entry_set_size(e, (la_int64_t)size);
            break;
        case 'd':
            archive_entry_set_filetype(e, AE_IFDIR);
            archive_entry_set_perm(e, 0755);
            break;
        case 'l':
            archive_entry_set_filetype(e, AE_IFLNK);
            archive_entry_set_perm(e, 0777);
            archive_entry_set_symlink(e, entries[i].data);
            break;
        case 'h':
            archive_entry_set_filetype(e, AE_IFREG);
            archive_entry_set_perm(e, 0644);
            archive_entry_set_hardlink(e, entries[i].data);
            break;
        case 'c':
            archive_entry_set_filetype(e, AE_IFCHR);
            archive_entry_set_perm(e, 0644);
            archive_entry_set_rdev(e, 259);
            break;
        }
        cr_assert_eq(archive_write_header(a, e), ARCHIVE_OK, "%s", archive_error_string(a));
        if (size)
            cr_assert_eq(archive_write_data(a, entries[i].data, size), (la_ssize_t)size);
        archive_entry_free(e);
    }
    cr_assert_eq(archive_write_close(a), ARCHIVE_OK);
    archive_write_free(a);
    return buf;
}

static dv_ingest *ingester(void)
{
    dv_ingest *ing = NULL;
    dv_chunk_params params = dv_chunk_params_default();
    cr_assert_eq(dv_ingest_new(&ing, NULL, &params, NULL), 0);
    return ing;
}

/* Read entries written as a pax tar; the error code, with the result in *out. */
static int read_entries(dv_archive_result *out, int format, const entry *entries, size_t n)
{
    size_t len = 0;
    void *data = make(&len, format, entries, n);
    dv_ingest *ing = ingester();
    int error = dv_archive_read_memory(out, data, len, "test.tar", ing, NULL);
    dv_ingest_free(ing);
    free(data);
    return error;
}

#define N(a) (sizeof(a) / sizeof((a)[0]))

static void refused(const entry *entries, size_t n, const char *words)
{
    dv_archive_result r;
    cr_assert_eq(read_entries(&r, ARCHIVE_FORMAT_TAR_PAX_RESTRICTED, entries, n), DV_ECORRUPT,
                 "accepted an archive that should say: %s", words);
    cr_assert(strstr(dv_error_last(), words), "message [%s] lacks [%s]", dv_error_last(), words);
    cr_assert(strstr(dv_error_last(), "archive test.tar: entry "), "%s", dv_error_last());
}

static void accepted(const entry *entries, size_t n, dv_archive_result *r)
{
    cr_assert_eq(read_entries(r, ARCHIVE_FORMAT_TAR_PAX_RESTRICTED, entries, n), 0, "%s",
                 dv_error_last());
}

/* The manifest id of bytes, as dv add gives a file of them. */
static dv_oid file_id(const char *bytes)
{
    dv_manifest m = DV_MANIFEST_INIT;
    dv_buf enc = DV_BUF_INIT;
    dv_oid id, chunk;
    size_t len = strlen(bytes);
    if (len) {
        cr_assert_eq(dv_hash_buffer(&chunk, bytes, len), 0);
        cr_assert_eq(dv_manifest_append(&m, &chunk, (uint32_t)len), 0);
    }
    cr_assert_eq(dv_manifest_encode(&enc, &m), 0);
    cr_assert_eq(dv_hash_buffer(&id, enc.ptr, enc.len), 0);
    dv_manifest_release(&m);
    dv_buf_release(&enc);
    return id;
}

static dv_oid tree_id(dv_tree *t)
{
    dv_buf enc = DV_BUF_INIT;
    dv_oid id;
    cr_assert_eq(dv_tree_sort(t), 0);
    cr_assert_eq(dv_tree_encode(&enc, t), 0);
    cr_assert_eq(dv_hash_buffer(&id, enc.ptr, enc.len), 0);
    dv_buf_release(&enc);
    dv_tree_release(t);
    return id;
}

Test(archive_read, the_tree_is_the_one_built_from_the_same_files)
{
    const entry entries[] = {
        {"./", 'd', NULL},
        {"./bin/", 'd', NULL},
        {"./bin/run", 'x', "#!/bin/sh\n"},
        {"./a.txt", 'f', "alpha\n"},
        {"./bin/a", 'l', "../a.txt"},
        {"./empty/", 'd', NULL},
        {"./nothing", 'f', ""},
    };
    dv_archive_result r;
    accepted(entries, N(entries), &r);
    /* by hand: bin/{a -> ../a.txt, run (exec)}, a.txt, empty/, nothing */
    dv_tree bin = DV_TREE_INIT, empty = DV_TREE_INIT, top = DV_TREE_INIT;
    dv_oid link, run = file_id("#!/bin/sh\n"), a = file_id("alpha\n");
    cr_assert_eq(dv_hash_buffer(&link, "../a.txt", 8), 0);
    cr_assert_eq(dv_tree_add(&bin, "a", 1, DV_MODE_SYMLINK, &link, 8), 0);
    cr_assert_eq(dv_tree_add(&bin, "run", 3, DV_MODE_EXEC, &run, 10), 0);
    dv_oid bin_id = tree_id(&bin), empty_id = tree_id(&empty), nothing = file_id("");
    cr_assert_eq(dv_tree_add(&top, "bin", 3, DV_MODE_DIR, &bin_id, 18), 0);
    cr_assert_eq(dv_tree_add(&top, "a.txt", 5, DV_MODE_FILE, &a, 6), 0);
    cr_assert_eq(dv_tree_add(&top, "empty", 5, DV_MODE_DIR, &empty_id, 0), 0);
    cr_assert_eq(dv_tree_add(&top, "nothing", 7, DV_MODE_FILE, &nothing, 0), 0);
    dv_oid want = tree_id(&top);
    cr_assert_eq(dv_oid_cmp(&r.id, &want), 0, "got %s", dv_oid_hex(&r.id));
    cr_assert_eq(r.size, 24);
    cr_assert_eq(r.files, 4);
    cr_assert_eq(r.dirs, 2);
    cr_assert_eq(r.entries, 7);
}

Test(archive_read, order_and_missing_directory_entries_change_nothing)
{
    const entry listed[] = {
        {"d/", 'd', NULL}, {"d/e/", 'd', NULL}, {"d/e/f", 'f', "f\n"}, {"g", 'f', "g\n"}};
    const entry shuffled[] = {{"g", 'f', "g\n"}, {"d/e/f", 'f', "f\n"}, {"d/", 'd', NULL}};
    dv_archive_result a, b, z;
    accepted(listed, N(listed), &a);
    accepted(shuffled, N(shuffled), &b);
    cr_assert_eq(dv_oid_cmp(&a.id, &b.id), 0);
    cr_assert_eq(read_entries(&z, ARCHIVE_FORMAT_ZIP, shuffled, N(shuffled)), 0, "%s",
                 dv_error_last());
    cr_assert_eq(dv_oid_cmp(&a.id, &z.id), 0, "the same entries as a zip");
}

Test(archive_read, a_hard_link_is_the_earlier_file)
{
    const entry linked[] = {{"a", 'f', "same\n"}, {"b", 'h', "a"}};
    const entry copied[] = {{"a", 'f', "same\n"}, {"b", 'f', "same\n"}};
    dv_archive_result a, b;
    accepted(linked, N(linked), &a);
    accepted(copied, N(copied), &b);
    cr_assert_eq(dv_oid_cmp(&a.id, &b.id), 0);
    const entry later[] = {{"b", 'h', "a"}, {"a", 'f', "same\n"}};
    refused(later, N(later), "'b' is a hard link to 'a', which is not an earlier entry");
}

Test(archive_read, symlinks_that_stay_inside_are_kept)
{
    const entry ok[] = {
        {"d/l", 'l', ".."},             /* the top itself */
        {"x", 'l', "d/../d/l"},         /* through d, back, through the link: the top */
        {"m", 'l', "missing/.."},       /* a name the archive lacks, then back */
        {"deep/a/b", 'l', "../../d"},   /* up to the top, not past it */
        {"dangling", 'l', "not/there"}, /* inside, if never written */
    };
    dv_archive_result r;
    accepted(ok, N(ok), &r);
    cr_assert_eq(r.files, 5);
}

Test(archive_read, symlinks_that_leave_are_refused_even_through_other_links)
{
    const entry up[] = {{"a", 'l', "../x"}};
    refused(up, N(up), "'a' is a symlink to '../x', which is outside the archive");
    const entry absolute[] = {{"a", 'l', "/etc/passwd"}};
    refused(absolute, N(absolute), "'a' is a symlink to an absolute path");
    /* each stays inside on its own; e leaves through d/l, which comes after it */
    const entry chained[] = {{"e", 'l', "d/l/.."}, {"d/l", 'l', ".."}};
    refused(chained, N(chained), "'e' is a symlink to 'd/l/..', which is outside the archive");
    const entry missing[] = {{"s", 'l', "missing/../.."}};
    refused(missing, N(missing), "outside the archive");
    const entry loop[] = {{"p", 'l', "q"}, {"q", 'l', "p"}};
    refused(loop, N(loop), "through too many symlinks");
}

Test(archive_read, hostile_names_and_types_are_refused)
{
    const entry dotdot[] = {{"a/../../b", 'f', "x"}};
    refused(dotdot, N(dotdot), "'a/../../b' goes up with '..'");
    const entry absolute[] = {{"/etc/x", 'f', "x"}};
    refused(absolute, N(absolute), "is an absolute path");
    const entry dotgit[] = {{"a/.GIT./config", 'f', "x"}};
    refused(dotgit, N(dotgit), "has the name '.GIT.'");
    const entry device[] = {{"dev/null", 'c', NULL}};
    refused(device, N(device), "'dev/null' is a device file");
    const entry twice[] = {{"a", 'f', "x"}, {"b", 'f', "y"}, {"a", 'f', "z"}};
    refused(twice, N(twice), "entry 3 'a' is there twice (entry 1 has the same name)");
    const entry below_file[] = {{"a", 'f', "x"}, {"a/b", 'f', "y"}};
    refused(below_file, N(below_file), "'a/b' lies below 'a', which entry 1 made a file");
    const entry below_link[] = {{"l", 'l', "."}, {"l/b", 'f', "y"}};
    refused(below_link, N(below_link), "'l/b' lies below 'l', which entry 1 made a symlink");
    const entry file_over_dir[] = {{"a/b", 'f', "x"}, {"a", 'f', "y"}};
    refused(file_over_dir, N(file_over_dir),
            "'a' is a file, but earlier entries have it as a directory");
    char long_name[300];
    memset(long_name, 'n', 256);
    long_name[256] = '\0';
    const entry too_long[] = {{long_name, 'f', "x"}};
    refused(too_long, N(too_long), "has a name of 256 bytes");
    const entry top[] = {{".", 'f', "x"}};
    refused(top, N(top), "names the top of the archive itself");
}

Test(archive_read, a_directory_implied_first_may_have_its_entry_later)
{
    const entry later_dir[] = {{"a/b", 'f', "x"}, {"a/", 'd', NULL}};
    dv_archive_result r;
    accepted(later_dir, N(later_dir), &r);
    cr_assert_eq(r.files, 1);
    const entry dir_twice[] = {{"a/", 'd', NULL}, {"a/", 'd', NULL}};
    refused(dir_twice, N(dir_twice), "is there twice");
}

Test(archive_read, bytes_that_are_no_archive_are_refused)
{
    dv_ingest *ing = ingester();
    dv_archive_result r;
    cr_assert_eq(
        dv_archive_read_memory(&r, "not an archive at all, just text\n", 33, "t.bin", ing, NULL),
        DV_ECORRUPT);
    cr_assert(strstr(dv_error_last(), "archive t.bin"), "%s", dv_error_last());
    dv_ingest_free(ing);
}
