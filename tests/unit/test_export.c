#include "core/base/error.h"
#include "core/base/tempfile.h"
#include "core/ops/add.h"
#include "core/ops/export.h"
#include "core/repo/repo.h"
#include "testrepo.h"
#include "testutil.h"

#include <archive.h>
#include <archive_entry.h>
#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char root[256];
static dv_repo *repo;
static uint8_t big[300000];

static void setup(void)
{
    testutil_make_root(root, sizeof(root), "export");
    repo = testrepo_init(root);
    char path[512];
    snprintf(path, sizeof(path), "%s/d", root);
    cr_assert_eq(mkdir(path, 0755), 0);
    snprintf(path, sizeof(path), "%s/d/x", root);
    cr_assert_eq(mkdir(path, 0755), 0);
    snprintf(path, sizeof(path), "%s/d/empty", root);
    cr_assert_eq(mkdir(path, 0755), 0);
    testrepo_write_file(root, "d/a.txt", "hello\n", 6);
    fill_random(big, sizeof(big), 7);
    testrepo_write_file(root, "d/x/b.bin", big, sizeof(big));
    testrepo_write_file(root, "d/run", "#!/bin/sh\n", 10);
    snprintf(path, sizeof(path), "%s/d/run", root);
    cr_assert_eq(chmod(path, 0755), 0);
    snprintf(path, sizeof(path), "%s/d/l", root);
    cr_assert_eq(symlink("x/b.bin", path), 0);
    dv_add_result result;
    dv_add_options opts = {0};
    const char *paths[] = {"d"};
    cr_assert_eq(dv_add(&result, repo, paths, 1, &opts), 0, "%s", dv_error_last());
}

static void teardown(void)
{
    dv_repo_free(repo);
    testutil_remove_tree(root);
}

TestSuite(export, .init = setup, .fini = teardown);

/* The entries of the archive at path, read back with libarchive: "name mode [target]" lines,
 * and each regular file's bytes compared with what setup wrote. */
static char *read_back(const char *path)
{
    struct archive *a = archive_read_new();
    struct archive_entry *e;
    dv_buf listing = DV_BUF_INIT;
    cr_assert_eq(archive_read_support_format_all(a), ARCHIVE_OK);
    cr_assert_eq(archive_read_support_filter_all(a), ARCHIVE_OK);
    cr_assert_eq(archive_read_open_filename(a, path, 65536), ARCHIVE_OK, "%s",
                 archive_error_string(a));
    int r;
    while ((r = archive_read_next_header(a, &e)) == ARCHIVE_OK) {
        const char *name = archive_entry_pathname(e);
        cr_assert_eq(dv_buf_printf(&listing, "%s %o", name, (unsigned)archive_entry_mode(e)), 0);
        if (archive_entry_filetype(e) == AE_IFLNK)
            cr_assert_eq(dv_buf_printf(&listing, " %s", archive_entry_symlink(e)), 0);
        cr_assert_eq(archive_entry_uid(e), 0);
        cr_assert_eq(archive_entry_gid(e), 0);
        if (archive_entry_filetype(e) == AE_IFREG) {
            const uint8_t *want = NULL;
            size_t want_len = 0;
            if (strstr(name, "b.bin")) {
                want = big;
                want_len = sizeof(big);
            } else if (strstr(name, "a.txt")) {
                want = (const uint8_t *)"hello\n";
                want_len = 6;
            } else {
                want = (const uint8_t *)"#!/bin/sh\n";
                want_len = 10;
            }
            dv_buf got = DV_BUF_INIT;
            char block[8192];
            la_ssize_t n;
            while ((n = archive_read_data(a, block, sizeof(block))) > 0)
                cr_assert_eq(dv_buf_put(&got, block, (size_t)n), 0);
            cr_assert_eq(n, 0, "%s", archive_error_string(a));
            cr_assert_eq(got.len, want_len, "%s", name);
            cr_assert_eq(memcmp(got.ptr, want, want_len), 0, "%s", name);
            dv_buf_release(&got);
        }
        cr_assert_eq(dv_buf_putc(&listing, '\n'), 0);
    }
    cr_assert_eq(r, ARCHIVE_EOF, "%s", archive_error_string(a));
    archive_read_free(a);
    return dv_buf_detach(&listing);
}

static void export_to(const char *name, dv_export_format format, const char *prefix,
                      const char *path)
{
    char out[512];
    snprintf(out, sizeof(out), "%s/%s", root, name);
    dv_export_options opts = {format, prefix, 1};
    dv_export_result result;
    cr_assert_eq(dv_export_file(&result, repo, NULL, path, &opts, out, 0), 0, "%s",
                 dv_error_last());
}

Test(export, every_format_reads_back_in_tree_order_with_modes_and_bytes)
{
    static const char want[] = "d/ 40755\n"
                               "d/a.txt 100644\n"
                               "d/empty/ 40755\n"
                               "d/l 120777 x/b.bin\n"
                               "d/run 100755\n"
                               "d/x/ 40755\n"
                               "d/x/b.bin 100644\n";
    const dv_export_format formats[] = {DV_EXPORT_TAR, DV_EXPORT_TAR_GZ, DV_EXPORT_TAR_ZST,
                                        DV_EXPORT_TAR_XZ, DV_EXPORT_ZIP};
    for (size_t i = 0; i < sizeof(formats) / sizeof(formats[0]); i++) {
        char name[64], out[512];
        snprintf(name, sizeof(name), "out.%s", dv_export_format_name(formats[i]));
        export_to(name, formats[i], NULL, "d");
        snprintf(out, sizeof(out), "%s/%s", root, name);
        char *got = read_back(out);
        cr_assert_str_eq(got, want, "%s", name);
        free(got);
    }
}

Test(export, prefix_replaces_the_top_and_paths_inside_are_exported_alone)
{
    char out[512];
    export_to("p.tar", DV_EXPORT_TAR, "rel/v1/", "d/x");
    snprintf(out, sizeof(out), "%s/p.tar", root);
    char *got = read_back(out);
    cr_assert_str_eq(got, "rel/ 40755\nrel/v1/ 40755\nrel/v1/b.bin 100644\n");
    free(got);
    export_to("f.tar", DV_EXPORT_TAR, NULL, "d/x/b.bin");
    snprintf(out, sizeof(out), "%s/f.tar", root);
    got = read_back(out);
    cr_assert_str_eq(got, "b.bin 100644\n");
    free(got);
    export_to("top.zip", DV_EXPORT_ZIP, "", "d/x");
    snprintf(out, sizeof(out), "%s/top.zip", root);
    got = read_back(out);
    cr_assert_str_eq(got, "b.bin 100644\n");
    free(got);
}

Test(export, formats_come_from_names_and_unknown_ones_are_refused)
{
    dv_export_format f;
    const struct {
        const char *path;
        dv_export_format want;
    } ok_cases[] = {
        {"a.tar", DV_EXPORT_TAR},        {"a.TAR.GZ", DV_EXPORT_TAR_GZ},
        {"dir/a.tgz", DV_EXPORT_TAR_GZ}, {"a.tar.zst", DV_EXPORT_TAR_ZST},
        {"a.tzst", DV_EXPORT_TAR_ZST},   {"a.tar.xz", DV_EXPORT_TAR_XZ},
        {"a.txz", DV_EXPORT_TAR_XZ},     {"a.zip", DV_EXPORT_ZIP},
        {"x.zip.tar", DV_EXPORT_TAR},
    };
    for (size_t i = 0; i < sizeof(ok_cases) / sizeof(ok_cases[0]); i++) {
        cr_assert_eq(dv_export_format_of_path(&f, ok_cases[i].path), 0, "%s", ok_cases[i].path);
        cr_assert_eq(f, ok_cases[i].want, "%s", ok_cases[i].path);
    }
    const char *bad[] = {"a.rar", "tar", ".tar", "dir/.zip", "a.gz", "a.tar.bz2", "a"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        cr_assert_eq(dv_export_format_of_path(&f, bad[i]), DV_EUSAGE, "%s", bad[i]);
    cr_assert_eq(dv_export_format_parse(&f, "tar.zst"), 0);
    cr_assert_eq(f, DV_EXPORT_TAR_ZST);
    cr_assert_eq(dv_export_format_parse(&f, "7z"), DV_EUSAGE);
    cr_assert(strstr(dv_error_last(), "'7z'"));
}

Test(export, prefixes_that_leave_the_extraction_directory_are_refused)
{
    const char *good[] = {"", "a", "a/", "a/b/", "release-1.0/", "..a/", "a..b"};
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
        cr_assert_eq(dv_export_check_prefix(good[i]), 0, "%s: %s", good[i], dv_error_last());
    const char *bad[] = {"/", "/a", "..", "../a", "a/../b", "a/..", ".", "./a", "a//b", "a\nb"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        cr_assert_eq(dv_export_check_prefix(bad[i]), DV_EUSAGE, "%s", bad[i]);
}

Test(export, an_existing_file_is_kept_without_replace_and_nothing_is_left_on_failure)
{
    char out[512];
    snprintf(out, sizeof(out), "%s/exists.tar", root);
    testrepo_write_file(root, "exists.tar", "keep", 4);
    dv_export_options opts = {DV_EXPORT_TAR, NULL, 0};
    dv_export_result result;
    cr_assert_eq(dv_export_file(&result, repo, NULL, "d", &opts, out, 0), DV_EUSAGE);
    struct stat st;
    cr_assert_eq(stat(out, &st), 0);
    cr_assert_eq(st.st_size, 4);
    cr_assert_eq(dv_export_file(&result, repo, NULL, "d", &opts, out, 1), 0, "%s", dv_error_last());
    cr_assert_eq(result.files, 3);
    cr_assert_eq(result.symlinks, 1);
    cr_assert_eq(result.dirs, 3);
    cr_assert_eq(result.bytes, 6 + 10 + sizeof(big));
    snprintf(out, sizeof(out), "%s/none.tar", root);
    cr_assert_eq(dv_export_file(&result, repo, NULL, "d/nosuch", &opts, out, 0), DV_EUSAGE);
    cr_assert_eq(stat(out, &st), -1);
    cr_assert_eq(dv_tempfile_count(), 0);
}
