/*
 * Tests for core/wtfs: paths are walked without following a symlink at any
 * component, directories are made on the way only when asked, removal never
 * descends through a link, and atomic writes refuse a symlink in place of the file.
 */
#include "testutil.h"

#include "core/base/buf.h"
#include "core/base/error.h"
#include "core/base/wtfs.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

static char root[4096], outside[4096];
static int top = -1;

static void setup(void)
{
    testutil_make_root(root, sizeof(root), "wtfs");
    testutil_make_root(outside, sizeof(outside), "wtfs-outside");
    top = open(root, O_RDONLY | O_DIRECTORY);
    cr_assert_geq(top, 0);
    char path[8192];
    snprintf(path, sizeof(path), "%s/keep", outside);
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f);
    fputs("outside data\n", f);
    fclose(f);
    cr_assert_eq(mkdirat(top, "real", 0755), 0);
    cr_assert_eq(symlinkat(outside, top, "link"), 0);
}

static void teardown(void)
{
    close(top);
    testutil_remove_tree(root);
    testutil_remove_tree(outside);
}

TestSuite(wtfs, .init = setup, .fini = teardown);

static int outside_has(const char *name)
{
    char path[8192];
    snprintf(path, sizeof(path), "%s/%s", outside, name);
    struct stat st;
    return lstat(path, &st) == 0;
}

Test(wtfs, a_symlinked_directory_on_the_way_is_refused)
{
    int fd = -1;
    const char *leaf;
    cr_expect_eq(dv_wtfs_open_dir(&fd, top, "link", 0), DV_EUSAGE);
    cr_expect(strstr(dv_error_last(), "beyond a symbolic link"), "%s", dv_error_last());
    cr_expect_eq(dv_wtfs_open_parent(&fd, &leaf, top, "link/x", DV_WTFS_CREATE), DV_EUSAGE);
    cr_expect_eq(dv_wtfs_open_dir(&fd, top, "link/sub", DV_WTFS_CREATE), DV_EUSAGE);
    cr_expect(!outside_has("sub"), "a directory was made through the link");
    cr_expect_eq(dv_wtfs_open_regular(&fd, top, "link/keep"), DV_EUSAGE);
}

Test(wtfs, directories_are_made_on_the_way_only_when_asked)
{
    int fd = -1;
    const char *leaf;
    cr_expect_eq(dv_wtfs_open_parent(&fd, &leaf, top, "real/a/b/file", 0), DV_ENOTFOUND);
    cr_assert_eq(dv_wtfs_open_parent(&fd, &leaf, top, "real/a/b/file", DV_WTFS_CREATE), 0);
    cr_expect_str_eq(leaf, "file");
    struct stat st;
    cr_expect_eq(fstatat(top, "real/a/b", &st, 0), 0);
    cr_expect(S_ISDIR(st.st_mode));
    close(fd);
    cr_expect_eq(dv_wtfs_open_dir(&fd, top, "real/../link", 0), DV_EUSAGE);
}

Test(wtfs, regular_files_only_and_fifos_do_not_block)
{
    int fd = -1;
    cr_assert_eq(mkfifoat(top, "real/fifo", 0644), 0);
    cr_expect_eq(dv_wtfs_open_regular(&fd, top, "real/fifo"), DV_EUSAGE);
    char target[8192];
    snprintf(target, sizeof(target), "%s/keep", outside);
    cr_assert_eq(symlinkat(target, top, "real/ptr"), 0);
    cr_expect_eq(dv_wtfs_open_regular(&fd, top, "real/ptr"), DV_EUSAGE);
    cr_expect(!strstr(dv_error_last(), "outside data"));
    cr_expect_eq(dv_wtfs_open_regular(&fd, top, "real/missing"), DV_ENOTFOUND);
}

Test(wtfs, remove_tree_removes_a_link_not_what_it_points_to)
{
    int dir = -1;
    cr_assert_eq(dv_wtfs_open_dir(&dir, top, "real/d/e", DV_WTFS_CREATE), 0);
    cr_assert_eq(symlinkat(outside, dir, "out"), 0);
    close(dir);
    cr_assert_eq(dv_wtfs_remove_tree(top, "real", "real"), 0);
    struct stat st;
    cr_expect_neq(fstatat(top, "real", &st, AT_SYMLINK_NOFOLLOW), 0);
    cr_expect(outside_has("keep"), "the link's target was emptied");
    cr_assert_eq(dv_wtfs_remove_tree(top, "link", "link"), 0);
    cr_expect(outside_has("keep"));
    cr_expect_eq(dv_wtfs_remove_tree(top, "missing", "missing"), 0);
}

static int dir_fd_of(const char *path)
{
    int fd = open(path, O_RDONLY | O_DIRECTORY);
    cr_assert_geq(fd, 0);
    return fd;
}

Test(wtfs, write_atomic_replaces_a_file_and_refuses_a_link)
{
    cr_assert_eq(dv_wtfs_write_atomic(top, "f", "one\n", 4, 0644, -1, "f"), 0);
    cr_assert_eq(dv_wtfs_write_atomic(top, "f", "two!\n", 5, 0600, dir_fd_of(outside), "f"), 0);
    char got[16] = {0};
    int fd = openat(top, "f", O_RDONLY);
    cr_assert_geq(fd, 0);
    cr_expect_eq(read(fd, got, sizeof(got)), 5);
    close(fd);
    cr_expect_str_eq(got, "two!\n");
    char target[8192];
    snprintf(target, sizeof(target), "%s/keep", outside);
    cr_assert_eq(symlinkat(target, top, "g"), 0);
    cr_expect_eq(dv_wtfs_write_atomic(top, "g", "x", 1, 0644, -1, "g"), DV_EUSAGE);
    cr_expect(strstr(dv_error_last(), "symbolic link"), "%s", dv_error_last());
    FILE *f = fopen(target, "r");
    cr_assert_not_null(f);
    char line[32] = {0};
    cr_expect_not_null(fgets(line, sizeof(line), f));
    fclose(f);
    cr_expect_str_eq(line, "outside data\n");
}
