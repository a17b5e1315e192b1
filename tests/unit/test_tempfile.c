#include "core/base/buf.h"
#include "core/base/fs.h"
#include "core/base/tempfile.h"
#include "testutil.h"

#include <criterion/criterion.h>
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

static char root[256];

static void setup(void)
{
    testutil_make_root(root, sizeof(root), "tempfile");
}

static void teardown(void)
{
    testutil_remove_tree(root);
}

static int exists(const char *path)
{
    return access(path, F_OK) == 0;
}

TestSuite(tempfile, .init = setup, .fini = teardown);

Test(tempfile, remove_all_unlinks_what_is_registered_and_only_that)
{
    size_t before = dv_tempfile_count();
    dv_buf a = DV_BUF_INIT, b = DV_BUF_INIT, kept = DV_BUF_INIT, final = DV_BUF_INIT;
    int fa, fb, fk;
    cr_assert_eq(dv_fs_tmpfile_in(&fa, &a, root, "a-", 0644), 0);
    cr_assert_eq(dv_fs_tmpfile_in(&fb, &b, root, "b-", 0644), 0);
    cr_assert_eq(dv_buf_joinpath(&final, root, "final"), 0);
    cr_assert_eq(dv_fs_tmpfile(&fk, &kept, final.ptr, 0644), 0);
    cr_assert_eq(dv_tempfile_count(), before + 3);
    /* renamed into place: no longer a temp file */
    cr_assert_eq(dv_fs_commit_tmp(fk, kept.ptr, final.ptr, 0), 0);
    /* given up: removed and forgotten */
    close(fb);
    dv_fs_tmp_discard(b.ptr);
    cr_assert(!exists(b.ptr));
    cr_assert_eq(dv_tempfile_count(), before + 1);
    close(fa);
    dv_tempfile_remove_all();
    cr_assert(!exists(a.ptr), "%s is still there", a.ptr);
    cr_assert(exists(final.ptr), "the committed file was removed");
    cr_assert_eq(dv_tempfile_count(), before);
    dv_buf_release(&a);
    dv_buf_release(&b);
    dv_buf_release(&kept);
    dv_buf_release(&final);
}

Test(tempfile, a_forked_child_leaves_its_parents_temp_files_alone)
{
    dv_buf a = DV_BUF_INIT;
    int fd;
    cr_assert_eq(dv_fs_tmpfile_in(&fd, &a, root, "parent-", 0644), 0);
    close(fd);
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        dv_tempfile_remove_all();
        _exit(0);
    }
    int status;
    cr_assert_eq(waitpid(pid, &status, 0), pid);
    cr_assert(exists(a.ptr), "the child removed its parent's temp file");
    cr_assert_eq(dv_tempfile_remove(a.ptr), 0);
    cr_assert(!exists(a.ptr));
    dv_buf_release(&a);
}

Test(tempfile, many_files_at_once_are_all_remembered)
{
    enum { N = 100 }; /* more than one block of slots */
    dv_buf paths[N];
    size_t before = dv_tempfile_count();
    for (int i = 0; i < N; i++) {
        int fd;
        paths[i] = (dv_buf)DV_BUF_INIT;
        cr_assert_eq(dv_fs_tmpfile_in(&fd, &paths[i], root, "many-", 0644), 0);
        close(fd);
    }
    cr_assert_eq(dv_tempfile_count(), before + N);
    for (int i = 0; i < N; i += 2)
        dv_fs_tmp_discard(paths[i].ptr);
    cr_assert_eq(dv_tempfile_count(), before + N / 2);
    dv_tempfile_remove_all();
    for (int i = 0; i < N; i++) {
        cr_assert(!exists(paths[i].ptr), "%s is still there", paths[i].ptr);
        dv_buf_release(&paths[i]);
    }
}
