/*
 * file: a remote on a directory (local disk, NFS, a mounted share). Objects are
 * files under the directory; a put copies into a temp file beside the final name,
 * fsyncs it and renames it into place, so readers never see part of an object.
 * The put holds an flock(2) on its temp file until the rename, so the temp files
 * of puts that were killed are the ones that can be locked, and clean removes them.
 */
#include "remotes/file.h"

#include "core/base/buf.h"
#include "core/base/error.h"
#include "core/base/fs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define COPY_BUFFER_BYTES (1u << 20)
/* Where the file system takes no locks, a temp file counts as abandoned once nothing has
 * written to it for this long (a live put writes continuously). */
#define TMP_UNLOCKED_ABANDONED_SECONDS (24 * 3600)
#define TMP_CREATE_ATTEMPTS 8

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
        if ((error = fn(ctx, name.ptr, (uint64_t)st.st_size, (int64_t)st.st_mtime)) != 0)
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

/* flock gives no answer at all here (some NFS mounts, FUSE file systems). */
static int is_no_lock_errno(int e)
{
    return e == ENOLCK || e == EOPNOTSUPP || e == ENOSYS || e == EINVAL;
}

/* Create the temp file for final and lock it, so that no clean removes it while this put is
 * alive. A clean may lock and remove a temp file in the moment between its creation and the
 * lock: the lock is then refused, or the name no longer leads to the file, and another name
 * is tried. */
static int create_locked_tmp(int *fd_out, dv_buf *tmp, const char *final)
{
    for (int attempt = 0; attempt < TMP_CREATE_ATTEMPTS; attempt++) {
        int fd, error;
        struct stat held, named;
        if ((error = dv_fs_tmpfile(&fd, tmp, final, 0444)) < 0)
            return error;
        if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
            int saved = errno;
            if (is_no_lock_errno(saved)) {
                *fd_out = fd; /* cleans fall back to the age of the file */
                return 0;
            }
            close(fd);
            if (saved == EWOULDBLOCK)
                continue; /* a clean holds it and removes it */
            unlink(tmp->ptr);
            errno = saved;
            return dv_error_errno("cannot lock %s", tmp->ptr);
        }
        if (fstat(fd, &held) == 0 && stat(tmp->ptr, &named) == 0 && held.st_dev == named.st_dev &&
            held.st_ino == named.st_ino) {
            *fd_out = fd;
            return 0;
        }
        close(fd); /* removed by a clean before the lock */
    }
    return dv_error_set(DV_EIO, "cannot create a temp file for %s (%d tries)", final,
                        TMP_CREATE_ATTEMPTS);
}

static int file_put(dv_remote *remote, const char *name, const char *local_path)
{
    int error = 0, in_fd = -1, out_fd = -1, lock_fd = -1;
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
    if ((error = create_locked_tmp(&out_fd, &tmp, final.ptr)) < 0)
        goto done;
    /* The lock belongs to the open file, which this descriptor keeps open until the temp
     * name is gone (dv_fs_commit_tmp closes out_fd before its rename). */
    if ((lock_fd = dup(out_fd)) < 0) {
        error = dv_error_errno("cannot duplicate the descriptor of %s", tmp.ptr);
        close(out_fd);
        unlink(tmp.ptr);
        goto done;
    }
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
    if (lock_fd >= 0)
        close(lock_fd);
    if (in_fd >= 0)
        close(in_fd);
    dv_buf_release(&final);
    dv_buf_release(&tmp);
    dv_buf_release(&dir);
    return error;
}

/* Is name what dv_fs_tmpfile makes: ".<name>.tmp-" and 6 characters? */
static int is_tmp_name(const char *name)
{
    size_t len = strlen(name);
    return name[0] == '.' && len > 12 && !memcmp(name + len - 11, ".tmp-", 5);
}

/* Remove the temp file at path if no put holds it: 1 when removed, 0 when left, or an
 * error. */
static int remove_if_abandoned(const char *path)
{
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC), removed = 0, error = 0;
    struct stat held, named;
    if (fd < 0)
        return 0; /* gone already, or not ours to open */
    if (fstat(fd, &held) < 0 || !S_ISREG(held.st_mode))
        goto done;
    if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
        if (!is_no_lock_errno(errno) ||
            time(NULL) - held.st_mtime < (time_t)TMP_UNLOCKED_ABANDONED_SECONDS)
            goto done; /* a put is writing it */
    }
    /* Held by nobody. Unless the name now leads to another file, it is a leftover. */
    if (lstat(path, &named) < 0 || named.st_dev != held.st_dev || named.st_ino != held.st_ino)
        goto done;
    if (unlink(path) < 0) {
        if (errno != ENOENT)
            error = dv_error_errno("cannot remove the leftover temp file %s", path);
        goto done;
    }
    removed = 1;
done:
    close(fd);
    return error < 0 ? error : removed;
}

static int file_clean(dv_remote *remote, const char *prefix, uint64_t *removed)
{
    int error = 0;
    dv_buf dir = DV_BUF_INIT, path = DV_BUF_INIT;
    const char *slash = strrchr(prefix, '/');
    *removed = 0;
    if ((error = dv_buf_puts(&dir, root_of(remote))) < 0 ||
        (slash && ((error = dv_buf_putc(&dir, '/')) < 0 ||
                   (error = dv_buf_put(&dir, prefix, (size_t)(slash - prefix))) < 0)))
        goto done;
    DIR *d = opendir(dir.ptr);
    if (!d) {
        if (errno != ENOENT)
            error = dv_error_errno("cannot list remote directory %s", dir.ptr);
        goto done;
    }
    struct dirent *de;
    while ((errno = 0, de = readdir(d)) != NULL) {
        if (!is_tmp_name(de->d_name))
            continue;
        dv_buf_clear(&path);
        if ((error = dv_buf_printf(&path, "%s/%s", dir.ptr, de->d_name)) < 0)
            break;
        int gone = remove_if_abandoned(path.ptr);
        if (gone < 0) {
            error = gone;
            break;
        }
        *removed += (uint64_t)gone;
    }
    if (!de && errno && !error)
        error = dv_error_errno("cannot list remote directory %s", dir.ptr);
    closedir(d);
    if (error == 0 && *removed) {
        DV_REMOTE_COUNT(remote, other_requests, *removed);
        error = dv_fs_fsync_dir(dir.ptr);
    }
done:
    dv_buf_release(&dir);
    dv_buf_release(&path);
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
    .clean = file_clean,
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
