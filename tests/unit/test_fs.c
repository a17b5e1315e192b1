/*
 * Tests for core/fs: dv_fs_writev_all writes every buffer in order, also more than
 * one writev(2) takes, and names the file when the write fails part way.
 */
#include "testutil.h"

#include "core/base/error.h"
#include "core/base/fs.h"

#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <sys/resource.h>
#include <unistd.h>

static char root[4096];

static void setup(void)
{
    testutil_make_root(root, sizeof(root), "fs");
}

static void teardown(void)
{
    testutil_remove_tree(root);
}

TestSuite(fs, .init = setup, .fini = teardown);

#define N_BUFFERS (2 * IOV_MAX + 7)

Test(fs, writev_all_writes_more_buffers_than_one_call_takes)
{
    static uint8_t data[N_BUFFERS * 37];
    static struct iovec iov[N_BUFFERS];
    size_t at = 0;
    fill_random(data, sizeof(data), 3);
    for (int i = 0; i < N_BUFFERS; i++) {
        size_t len = (size_t)(i % 37) + (i % 5 == 0 ? 0 : 1); /* some empty buffers */
        iov[i].iov_base = data + at;
        iov[i].iov_len = len;
        at += len;
    }
    char path[4200];
    snprintf(path, sizeof(path), "%s/out", root);
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
    cr_assert_geq(fd, 0);
    cr_assert_eq(dv_fs_writev_all(fd, iov, N_BUFFERS, "out"), 0, "%s", dv_error_last());
    static uint8_t back[sizeof(data)];
    cr_assert_eq(pread(fd, back, sizeof(back), 0), (ssize_t)at);
    cr_assert_eq(memcmp(back, data, at), 0, "the file holds the buffers in order");
    close(fd);
}

/* With the file size limit in the middle of a buffer, the first writev is short and
 * the next fails: the error names the file. */
Test(fs, writev_all_reports_a_failed_write_with_the_path)
{
    static uint8_t data[3 * 4096];
    struct iovec iov[3];
    for (int i = 0; i < 3; i++) {
        iov[i].iov_base = data + i * 4096;
        iov[i].iov_len = 4096;
    }
    char path[4200];
    snprintf(path, sizeof(path), "%s/limited", root);
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
    cr_assert_geq(fd, 0);
    signal(SIGXFSZ, SIG_IGN);
    struct rlimit limit = {6000, RLIM_INFINITY};
    cr_assert_eq(setrlimit(RLIMIT_FSIZE, &limit), 0);
    int error = dv_fs_writev_all(fd, iov, 3, "limited.bin");
    cr_assert_lt(error, 0);
    cr_assert(strstr(dv_error_last(), "limited.bin") != NULL, "message: %s", dv_error_last());
    struct stat st;
    cr_assert_eq(fstat(fd, &st), 0);
    cr_assert_eq(st.st_size, 6000, "the short write kept what fit");
    close(fd);
}
