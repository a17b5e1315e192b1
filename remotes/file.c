/*
 * file: a remote on a directory (local disk, NFS, a mounted share). Objects are
 * files under the directory; a put copies into a temp file beside the final name,
 * fsyncs it and renames it into place, so readers never see part of an object.
 */
#include "remote.h"

#include "core/buf.h"
#include "core/error.h"
#include "core/fs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define COPY_BUFFER_BYTES (1u << 20)

typedef struct file_remote {
    char *root; /* no trailing '/' */
} file_remote;

static const char *root_of(dv_remote *remote)
{
    return ((file_remote *)remote->backend)->root;
}

static int object_path(dv_buf *out, dv_remote *remote, const char *name)
{
    dv_buf_clear(out);
    return dv_buf_printf(out, "%s/%s", root_of(remote), name);
}

static int file_list(dv_remote *remote, const char *prefix, dv_remote_entry_fn fn, void *ctx)
{
    /* prefix is "<dir>/" or "<dir>/<start of name>" */
    int error = 0;
    dv_buf dir = DV_BUF_INIT, path = DV_BUF_INIT, name = DV_BUF_INIT;
    const char *slash = strrchr(prefix, '/');
    size_t dir_len = slash ? (size_t)(slash - prefix) : 0;
    const char *start = slash ? slash + 1 : prefix;
    if ((error = dv_buf_puts(&dir, root_of(remote))) < 0 ||
        (dir_len &&
         ((error = dv_buf_putc(&dir, '/')) < 0 || (error = dv_buf_put(&dir, prefix, dir_len)) < 0)))
        goto done;
    DIR *d = opendir(dir.ptr);
    if (!d) {
        if (errno != ENOENT)
            error = dv_error_errno("cannot list remote directory %s", dir.ptr);
        goto done;
    }
    DV_REMOTE_COUNT(remote, list_requests, 1);
    struct dirent *de;
    while ((errno = 0, de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.' || strncmp(de->d_name, start, strlen(start)))
            continue; /* temp files of puts in progress start with '.' */
        dv_buf_clear(&path);
        dv_buf_clear(&name);
        struct stat st;
        if ((error = dv_buf_printf(&path, "%s/%s", dir.ptr, de->d_name)) < 0)
            break;
        if (stat(path.ptr, &st) < 0) {
            if (errno == ENOENT)
                continue; /* removed while listing */
            error = dv_error_errno("cannot stat %s", path.ptr);
            break;
        }
        if (!S_ISREG(st.st_mode))
            continue;
        if ((dir_len && ((error = dv_buf_put(&name, prefix, dir_len)) < 0 ||
                         (error = dv_buf_putc(&name, '/')) < 0)) ||
            (error = dv_buf_puts(&name, de->d_name)) < 0)
            break;
        if ((error = fn(ctx, name.ptr, (uint64_t)st.st_size)) != 0)
            break;
    }
    if (!de && errno && !error)
        error = dv_error_errno("cannot list remote directory %s", dir.ptr);
    closedir(d);
done:
    dv_buf_release(&dir);
    dv_buf_release(&path);
    dv_buf_release(&name);
    return error;
}

/* Copy all of in_fd to out_fd: copy_file_range where the file systems allow it, else
 * through a buffer. */
static int copy_fd(int in_fd, int out_fd, const char *from, const char *to, uint64_t *copied)
{
    *copied = 0;
    for (;;) {
        ssize_t n = copy_file_range(in_fd, NULL, out_fd, NULL, 1u << 30, 0);
        if (n == 0)
            return 0;
        if (n > 0) {
            *copied += (uint64_t)n;
            continue;
        }
        if (errno == EINTR)
            continue;
        if (errno != EXDEV && errno != EINVAL && errno != ENOSYS && errno != EOPNOTSUPP)
            return dv_error_errno("cannot copy %s to %s", from, to);
        break;
    }
    uint8_t *buf = malloc(COPY_BUFFER_BYTES);
    if (!buf)
        return dv_error_set(DV_ENOMEM, "out of memory copying %s", from);
    int error = 0;
    for (;;) {
        size_t got;
        if ((error = dv_fs_read_full(in_fd, buf, COPY_BUFFER_BYTES, &got, from)) < 0 || got == 0)
            break;
        if ((error = dv_fs_write_all(out_fd, buf, got, to)) < 0)
            break;
        *copied += got;
    }
    free(buf);
    return error;
}

static int file_put(dv_remote *remote, const char *name, const char *local_path)
{
    int error = 0, in_fd = -1, out_fd = -1;
    dv_buf final = DV_BUF_INIT, tmp = DV_BUF_INIT, dir = DV_BUF_INIT;
    uint64_t copied = 0;
    if ((error = object_path(&final, remote, name)) < 0 ||
        (error = dv_fs_dirname(&dir, final.ptr)) < 0 || (error = dv_fs_mkdir_p(dir.ptr, 0777)) < 0)
        goto done;
    in_fd = open(local_path, O_RDONLY | O_CLOEXEC);
    if (in_fd < 0) {
        error = dv_error_errno("cannot open %s", local_path);
        goto done;
    }
    if ((error = dv_fs_tmpfile(&out_fd, &tmp, final.ptr, 0444)) < 0)
        goto done;
    if ((error = copy_fd(in_fd, out_fd, local_path, tmp.ptr, &copied)) < 0) {
        close(out_fd);
        unlink(tmp.ptr);
        goto done;
    }
    error = dv_fs_commit_tmp(out_fd, tmp.ptr, final.ptr, DV_FS_DURABLE);
    if (error == 0) {
        DV_REMOTE_COUNT(remote, put_requests, 1);
        DV_REMOTE_COUNT(remote, bytes_sent, copied);
    }
done:
    if (in_fd >= 0)
        close(in_fd);
    dv_buf_release(&final);
    dv_buf_release(&tmp);
    dv_buf_release(&dir);
    return error;
}

static int file_get(dv_remote *remote, const char *name, uint64_t offset, size_t len, void *buf)
{
    dv_buf path = DV_BUF_INIT;
    int error = object_path(&path, remote, name);
    if (error < 0)
        goto done;
    int fd = open(path.ptr, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        error = errno == ENOENT
                    ? dv_error_set(DV_ENOTFOUND, "%s is not on remote %s", name, remote->display)
                    : dv_error_errno("cannot open %s", path.ptr);
        goto done;
    }
    error = dv_fs_pread_all(fd, buf, len, offset, path.ptr);
    close(fd);
    if (error == 0) {
        DV_REMOTE_COUNT(remote, get_requests, 1);
        DV_REMOTE_COUNT(remote, bytes_received, len);
    }
done:
    dv_buf_release(&path);
    return error;
}

static int file_get_all(dv_remote *remote, const char *name, dv_buf *out, size_t max)
{
    dv_buf path = DV_BUF_INIT;
    int error;
    dv_buf_clear(out);
    if ((error = object_path(&path, remote, name)) < 0)
        goto done;
    if ((error = dv_fs_read_file(out, path.ptr, max)) < 0) {
        if (error == DV_ENOTFOUND)
            error = dv_error_set(DV_ENOTFOUND, "%s is not on remote %s", name, remote->display);
        else if (error == DV_EUSAGE)
            error = dv_error_set(DV_ECORRUPT, "%s on remote %s is larger than %zu bytes", name,
                                 remote->display, max);
        goto done;
    }
    DV_REMOTE_COUNT(remote, get_requests, 1);
    DV_REMOTE_COUNT(remote, bytes_received, out->len);
done:
    dv_buf_release(&path);
    return error;
}

static int file_remove(dv_remote *remote, const char *name)
{
    dv_buf path = DV_BUF_INIT;
    int error = object_path(&path, remote, name);
    if (error == 0 && unlink(path.ptr) < 0 && errno != ENOENT)
        error = dv_error_errno("cannot remove %s", path.ptr);
    if (error == 0) {
        DV_REMOTE_COUNT(remote, other_requests, 1);
        error = dv_fs_fsync_parent(path.ptr);
    }
    dv_buf_release(&path);
    return error;
}

static void file_free(dv_remote *remote)
{
    file_remote *f = remote->backend;
    if (f)
        free(f->root);
    free(f);
}

static const dv_remote_ops file_ops = {
    .kind = "file",
    .list = file_list,
    .put_file = file_put,
    .get = file_get,
    .get_all = file_get_all,
    .remove = file_remove,
    .free = file_free,
};

int dv_remote_file_open(dv_remote **out, const char *dir)
{
    int error = 0;
    file_remote *f = calloc(1, sizeof(*f));
    if (!f)
        return dv_error_set(DV_ENOMEM, "out of memory");
    f->root = strdup(dir);
    if (!f->root) {
        free(f);
        return dv_error_set(DV_ENOMEM, "out of memory");
    }
    size_t n = strlen(f->root);
    while (n > 1 && f->root[n - 1] == '/')
        f->root[--n] = '\0';
    if ((error = dv_remote__new(out, &file_ops, dir, dir, f)) < 0) {
        free(f->root);
        free(f);
        return error;
    }
    return 0;
}
