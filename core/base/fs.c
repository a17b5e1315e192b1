/* fs: durable file writes and small I/O helpers. */
#include "core/base/fs.h"

#include "core/base/error.h"
#include "core/base/tempfile.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

int dv_fs_same_file(const struct stat *a, const struct stat *b)
{
    return a->st_dev == b->st_dev && a->st_ino == b->st_ino && a->st_size == b->st_size &&
           a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec;
}

int dv_fs_unchanged_while_read(const struct stat *before, const struct stat *after)
{
    /* ctime too: a writer that puts the mtime back (touch -r, rsync) still moves it. */
    return dv_fs_same_file(before, after) && before->st_ctim.tv_sec == after->st_ctim.tv_sec &&
           before->st_ctim.tv_nsec == after->st_ctim.tv_nsec;
}

int dv_fs_write_all(int fd, const void *data, size_t len, const char *path)
{
    struct iovec one = {(void *)data, len};
    return dv_fs_writev_all(fd, &one, 1, path);
}

int dv_fs_writev_all(int fd, struct iovec *iov, int n, const char *path)
{
    while (n > 0) {
        ssize_t done = writev(fd, iov, n < IOV_MAX ? n : IOV_MAX);
        if (done < 0) {
            if (errno == EINTR)
                continue;
            return dv_error_errno("cannot write %s", path);
        }
        /* Drop what was written: whole buffers, then the front of a partial one. */
        for (; n > 0 && (size_t)done >= iov->iov_len; iov++, n--)
            done -= (ssize_t)iov->iov_len;
        if (n > 0) {
            iov->iov_base = (char *)iov->iov_base + done;
            iov->iov_len -= (size_t)done;
        }
    }
    return 0;
}

int dv_fs_pread_full(int fd, void *data, size_t len, uint64_t off, size_t *got, const char *path)
{
    char *p = data;
    size_t total = 0;
    while (total < len) {
        ssize_t n = pread(fd, p + total, len - total, (off_t)(off + total));
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return dv_error_errno("cannot read %s at offset %llu", path,
                                  (unsigned long long)(off + total));
        }
        if (n == 0)
            break;
        total += (size_t)n;
    }
    *got = total;
    return 0;
}

int dv_fs_pread_all(int fd, void *data, size_t len, uint64_t off, const char *path)
{
    size_t got = 0;
    int error = dv_fs_pread_full(fd, data, len, off, &got, path);
    if (error == 0 && got < len)
        error = dv_error_set(DV_ECORRUPT, "%s is truncated at offset %llu", path,
                             (unsigned long long)(off + got));
    return error;
}

int dv_fs_read_full(int fd, void *data, size_t len, size_t *got, const char *path)
{
    char *p = data;
    size_t total = 0;
    while (total < len) {
        ssize_t n = read(fd, p + total, len - total);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return dv_error_errno("cannot read %s", path);
        }
        if (n == 0)
            break;
        total += (size_t)n;
    }
    *got = total;
    return 0;
}

static void random_suffix(char out[7])
{
    static const char alphabet[] = "abcdefghijklmnopqrstuvwxyz0123456789";
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    uint64_t x = (uint64_t)ts.tv_nsec ^ ((uint64_t)getpid() << 32) ^ (uint64_t)(uintptr_t)out;
    static _Thread_local uint64_t counter;
    x += ++counter * 0x9e3779b97f4a7c15ULL;
    for (int i = 0; i < 6; i++) {
        x ^= x >> 33;
        x *= 0xff51afd7ed558ccdULL;
        x ^= x >> 29;
        out[i] = alphabet[x % 36];
    }
    out[6] = '\0';
}

int dv_fs_tmpfile_in(int *fd_out, dv_buf *tmp_path, const char *dir, const char *prefix,
                     mode_t mode)
{
    int error;
    for (int attempt = 0; attempt < 100; attempt++) {
        char suffix[7];
        random_suffix(suffix);
        dv_buf_clear(tmp_path);
        if ((error = dv_buf_printf(tmp_path, "%s%s%s%s", dir, dir[0] ? "/" : "", prefix, suffix)) <
            0)
            return error;
        /* Registered before it exists, so that it is removed however the process ends
         * (tempfile.h), even by a signal that arrives while open() creates it. A name that
         * exists already (EEXIST: a file that is not ours) is forgotten at once. */
        if ((error = dv_tempfile_register(tmp_path->ptr)) < 0)
            return error;
        int fd = open(tmp_path->ptr, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, mode);
        if (fd >= 0) {
            *fd_out = fd;
            return 0;
        }
        int open_errno = errno;
        dv_tempfile_forget(tmp_path->ptr);
        errno = open_errno;
        if (errno != EEXIST)
            return dv_error_errno("cannot create temporary file %s", tmp_path->ptr);
    }
    return dv_error_set(DV_EIO, "cannot create a temporary file in %s", dir);
}

int dv_fs_tmpfile(int *fd_out, dv_buf *tmp_path, const char *final_path, mode_t mode)
{
    dv_buf dir = DV_BUF_INIT, base = DV_BUF_INIT, prefix = DV_BUF_INIT;
    int error;
    if ((error = dv_fs_dirname(&dir, final_path)) < 0 ||
        (error = dv_fs_basename(&base, final_path)) < 0)
        goto done;
    /* Keep temp names short enough for NAME_MAX even for long final names. */
    if (base.len > 200)
        dv_buf_truncate(&base, 200);
    if ((error = dv_buf_printf(&prefix, ".%s.tmp-", base.ptr)) < 0)
        goto done;
    error = dv_fs_tmpfile_in(fd_out, tmp_path, dir.ptr, prefix.ptr, mode);
done:
    dv_buf_release(&dir);
    dv_buf_release(&base);
    dv_buf_release(&prefix);
    return error;
}

int dv_fs_fsync_dir(const char *dir)
{
    int fd = open(dir[0] ? dir : ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return dv_error_errno("cannot open directory %s", dir);
    int rc = fsync(fd);
    if (rc < 0 && errno != EINVAL) {
        int error = dv_error_errno("cannot fsync directory %s", dir);
        close(fd);
        return error;
    }
    close(fd);
    return 0;
}

int dv_fs_fsync_parent(const char *path)
{
    dv_buf dir = DV_BUF_INIT;
    int error = dv_fs_dirname(&dir, path);
    if (!error)
        error = dv_fs_fsync_dir(dir.ptr);
    dv_buf_release(&dir);
    return error;
}

int dv_fs_commit_tmp(int fd, const char *tmp_path, const char *final_path, int flags)
{
    int error = 0;
    if ((flags & DV_FS_DURABLE) && fsync(fd) < 0) {
        error = dv_error_errno("cannot fsync %s", tmp_path);
        close(fd);
        goto fail;
    }
    if (close(fd) < 0) {
        error = dv_error_errno("cannot close %s", tmp_path);
        goto fail;
    }
    if (rename(tmp_path, final_path) < 0) {
        error = dv_error_errno("cannot rename %s to %s", tmp_path, final_path);
        goto fail;
    }
    dv_tempfile_forget(tmp_path);
    if (flags & DV_FS_DURABLE)
        return dv_fs_fsync_parent(final_path);
    return 0;
fail:
    dv_fs_tmp_discard(tmp_path);
    return error;
}

void dv_fs_tmp_discard(const char *tmp_path)
{
    unlink(tmp_path);
    dv_tempfile_forget(tmp_path);
}

int dv_fs_write_atomic(const char *path, const void *data, size_t len, mode_t mode, int flags)
{
    dv_buf tmp = DV_BUF_INIT;
    int fd = -1, error;
    if ((error = dv_fs_tmpfile(&fd, &tmp, path, mode)) < 0)
        goto done;
    if ((error = dv_fs_write_all(fd, data, len, tmp.ptr)) < 0) {
        close(fd);
        dv_fs_tmp_discard(tmp.ptr);
        goto done;
    }
    error = dv_fs_commit_tmp(fd, tmp.ptr, path, flags);
done:
    dv_buf_release(&tmp);
    return error;
}

int dv_fs_mkdir_p(const char *path, mode_t mode)
{
    dv_buf p = DV_BUF_INIT;
    int error;
    if ((error = dv_buf_puts(&p, path)) < 0)
        return error;
    for (size_t i = 1; i <= p.len; i++) {
        if (i < p.len && p.ptr[i] != '/')
            continue;
        char saved = p.ptr[i];
        p.ptr[i] = '\0';
        if (mkdir(p.ptr, mode) < 0 && errno != EEXIST) {
            error = dv_error_errno("cannot create directory %s", p.ptr);
            goto done;
        }
        p.ptr[i] = saved;
    }
    struct stat st;
    if (stat(path, &st) < 0 || !S_ISDIR(st.st_mode))
        error = dv_error_set(DV_EIO, "cannot create directory %s: a file is in the way", path);
done:
    dv_buf_release(&p);
    return error;
}

int dv_fs_read_file(dv_buf *out, const char *path, size_t max_bytes)
{
    int error = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT)
            return dv_error_set(DV_ENOTFOUND, "%s does not exist", path);
        return dv_error_errno("cannot open %s", path);
    }
    dv_buf_clear(out);
    char chunk[65536];
    for (;;) {
        size_t got = 0;
        if ((error = dv_fs_read_full(fd, chunk, sizeof(chunk), &got, path)) < 0)
            goto done;
        if (got == 0)
            break;
        if (out->len + got > max_bytes) {
            error = dv_error_set(DV_EUSAGE, "%s is larger than %zu bytes", path, max_bytes);
            goto done;
        }
        if ((error = dv_buf_put(out, chunk, got)) < 0)
            goto done;
    }
done:
    close(fd);
    return error;
}

int dv_fs_exists(const char *path)
{
    struct stat st;
    if (lstat(path, &st) == 0)
        return 1;
    if (errno == ENOENT || errno == ENOTDIR)
        return 0;
    return dv_error_errno("cannot stat %s", path);
}

int dv_fs_dirname(dv_buf *out, const char *path)
{
    const char *slash = strrchr(path, '/');
    dv_buf_clear(out);
    if (!slash)
        return dv_buf_puts(out, ".");
    if (slash == path)
        return dv_buf_puts(out, "/");
    return dv_buf_put(out, path, (size_t)(slash - path));
}

int dv_fs_basename(dv_buf *out, const char *path)
{
    const char *slash = strrchr(path, '/');
    dv_buf_clear(out);
    return dv_buf_puts(out, slash ? slash + 1 : path);
}

int64_t dv_fs_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}
