/* wtfs: work-tree file operations that never follow a symlink out. */
#include "core/base/wtfs.h"

#include "core/base/error.h"
#include "core/base/fs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#define DIR_FLAGS (O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)

/* Why the component name (relpath up to its end) could not be opened as a directory. */
static int not_a_directory(int dirfd, const char *name, const char *relpath, size_t upto)
{
    struct stat st;
    if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode))
        return dv_error_set(DV_EUSAGE,
                            "%s is beyond a symbolic link (%.*s); dv never reads or writes "
                            "through a symbolic link in the work tree",
                            relpath, (int)upto, relpath);
    return dv_error_set(DV_EUSAGE, "%s: %.*s is not a directory", relpath, (int)upto, relpath);
}

/* Walk the first upto bytes of relpath (whole components) from dirfd. */
static int walk(int *out, int dirfd, const char *relpath, size_t upto, int flags)
{
    int error = 0, fd = dup(dirfd);
    dv_buf name = DV_BUF_INIT;
    if (fd < 0)
        return dv_error_errno("cannot open the directory of %s", relpath);
    size_t at = 0;
    while (at < upto) {
        const char *slash = memchr(relpath + at, '/', upto - at);
        size_t end = slash ? (size_t)(slash - relpath) : upto;
        if (end == at) {
            error = dv_error_set(DV_EUSAGE, "%s has an empty path component", relpath);
            goto done;
        }
        dv_buf_clear(&name);
        if ((error = dv_buf_put(&name, relpath + at, end - at)) < 0)
            goto done;
        if (!strcmp(name.ptr, ".") || !strcmp(name.ptr, "..")) {
            error = dv_error_set(DV_EUSAGE, "%s has a '%s' component", relpath, name.ptr);
            goto done;
        }
        int next = openat(fd, name.ptr, DIR_FLAGS);
        if (next < 0 && errno == ENOENT && (flags & DV_WTFS_CREATE)) {
            if (mkdirat(fd, name.ptr, 0777) < 0 && errno != EEXIST) {
                error = dv_error_errno("cannot create directory %.*s", (int)end, relpath);
                goto done;
            }
            next = openat(fd, name.ptr, DIR_FLAGS);
        }
        if (next < 0) {
            if (errno == ENOENT)
                error = dv_error_set(DV_ENOTFOUND, "%.*s does not exist", (int)end, relpath);
            else if (errno == ELOOP || errno == ENOTDIR)
                error = not_a_directory(fd, name.ptr, relpath, end);
            else
                error = dv_error_errno("cannot open directory %.*s", (int)end, relpath);
            goto done;
        }
        close(fd);
        fd = next;
        at = end + 1;
    }
    *out = fd;
    fd = -1;
done:
    if (fd >= 0)
        close(fd);
    dv_buf_release(&name);
    return error;
}

int dv_wtfs_open_dir(int *out, int dirfd, const char *relpath, int flags)
{
    return walk(out, dirfd, relpath, strlen(relpath), flags);
}

int dv_wtfs_open_parent(int *out, const char **leaf, int dirfd, const char *relpath, int flags)
{
    const char *slash = strrchr(relpath, '/');
    *leaf = slash ? slash + 1 : relpath;
    if (!**leaf)
        return dv_error_set(DV_EUSAGE, "%s ends in '/'", relpath);
    return walk(out, dirfd, relpath, slash ? (size_t)(slash - relpath) : 0, flags);
}

int dv_wtfs_open_regular(int *out, int dirfd, const char *relpath)
{
    int error, parent = -1;
    const char *leaf;
    struct stat st;
    if ((error = dv_wtfs_open_parent(&parent, &leaf, dirfd, relpath, 0)) < 0)
        return error;
    int fd = openat(parent, leaf, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT)
            error = dv_error_set(DV_ENOTFOUND, "%s does not exist", relpath);
        else if (errno == ELOOP)
            error = dv_error_set(DV_EUSAGE,
                                 "%s is a symbolic link; expected a regular file (dv never "
                                 "follows a symbolic link in the work tree)",
                                 relpath);
        else
            error = dv_error_errno("cannot open %s", relpath);
        goto done;
    }
    if (fstat(fd, &st) < 0) {
        error = dv_error_errno("cannot stat %s", relpath);
        close(fd);
        goto done;
    }
    if (!S_ISREG(st.st_mode)) {
        error = dv_error_set(DV_EUSAGE, "%s is not a regular file", relpath);
        close(fd);
        goto done;
    }
    *out = fd;
done:
    if (parent >= 0)
        close(parent);
    return error;
}

int dv_wtfs_lstat(struct stat *st, int dirfd, const char *relpath)
{
    int error, parent = -1;
    const char *leaf;
    if ((error = dv_wtfs_open_parent(&parent, &leaf, dirfd, relpath, 0)) < 0)
        return error;
    if (fstatat(parent, leaf, st, AT_SYMLINK_NOFOLLOW) < 0)
        error = errno == ENOENT ? dv_error_set(DV_ENOTFOUND, "%s does not exist", relpath)
                                : dv_error_errno("cannot stat %s", relpath);
    close(parent);
    return error;
}

/* Empty the directory fd (which is closed), then nothing: the caller removes it. */
static int empty_dir(int fd, dv_buf *display)
{
    int error = 0;
    DIR *d = fdopendir(fd);
    if (!d) {
        error = dv_error_errno("cannot read directory %s", display->ptr);
        close(fd);
        return error;
    }
    size_t len = display->len;
    struct dirent *de;
    errno = 0;
    while ((de = readdir(d))) {
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
            continue;
        struct stat st;
        if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
            if (errno == ENOENT)
                continue;
            error = dv_error_errno("cannot stat %s/%s", display->ptr, de->d_name);
            break;
        }
        if (S_ISDIR(st.st_mode)) {
            int child = openat(dirfd(d), de->d_name, DIR_FLAGS);
            if (child < 0) {
                error = dv_error_errno("cannot open directory %s/%s", display->ptr, de->d_name);
                break;
            }
            if ((error = dv_buf_printf(display, "/%s", de->d_name)) < 0 ||
                (error = empty_dir(child, display)) < 0)
                break;
            dv_buf_truncate(display, len);
            if (unlinkat(dirfd(d), de->d_name, AT_REMOVEDIR) < 0 && errno != ENOENT) {
                error = dv_error_errno("cannot remove directory %s/%s", display->ptr, de->d_name);
                break;
            }
        } else if (unlinkat(dirfd(d), de->d_name, 0) < 0 && errno != ENOENT) {
            error = dv_error_errno("cannot remove %s/%s", display->ptr, de->d_name);
            break;
        }
        errno = 0;
    }
    dv_buf_truncate(display, len);
    closedir(d);
    return error;
}

int dv_wtfs_remove_tree(int dirfd, const char *name, const char *display)
{
    struct stat st;
    if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
        return errno == ENOENT ? 0 : dv_error_errno("cannot stat %s", display);
    if (!S_ISDIR(st.st_mode)) {
        if (unlinkat(dirfd, name, 0) < 0 && errno != ENOENT)
            return dv_error_errno("cannot remove %s", display);
        return 0;
    }
    int fd = openat(dirfd, name, DIR_FLAGS);
    if (fd < 0)
        return dv_error_errno("cannot open directory %s", display);
    dv_buf shown = DV_BUF_INIT;
    int error = dv_buf_puts(&shown, display);
    if (error < 0) {
        close(fd);
        return error;
    }
    if ((error = empty_dir(fd, &shown)) == 0 && unlinkat(dirfd, name, AT_REMOVEDIR) < 0 &&
        errno != ENOENT)
        error = dv_error_errno("cannot remove directory %s", display);
    dv_buf_release(&shown);
    return error;
}

int dv_wtfs_tmpfile(int *fd_out, dv_buf *name_out, int dirfd, const char *prefix, mode_t mode)
{
    static const char digits[] = "abcdefghijklmnopqrstuvwxyz0123456789";
    for (int attempt = 0; attempt < 100; attempt++) {
        unsigned char rnd[8];
        if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd)) {
            uint64_t t = (uint64_t)dv_fs_now_ns() ^ ((uint64_t)getpid() << 32) ^ (uint64_t)attempt;
            memcpy(rnd, &t, sizeof(rnd));
        }
        dv_buf_clear(name_out);
        int error = dv_buf_puts(name_out, prefix);
        for (size_t i = 0; i < sizeof(rnd) && !error; i++)
            error = dv_buf_putc(name_out, digits[rnd[i] % (sizeof(digits) - 1)]);
        if (error < 0)
            return error;
        int fd = openat(dirfd, name_out->ptr, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                        mode);
        if (fd >= 0) {
            *fd_out = fd;
            return 0;
        }
        if (errno != EEXIST)
            return dv_error_errno("cannot create temp file %s", name_out->ptr);
    }
    return dv_error_set(DV_EIO, "cannot create a temp file named %s...: too many exist", prefix);
}

int dv_wtfs_write_atomic(int dirfd, const char *name, const void *data, size_t len, mode_t mode,
                         int tmp_dirfd, const char *display)
{
    int error, fd = -1;
    struct stat st, dir_st, tmp_st;
    dv_buf tmp = DV_BUF_INIT, prefix = DV_BUF_INIT;
    if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && !S_ISREG(st.st_mode))
        return dv_error_set(DV_EUSAGE, "%s is %s; expected a regular file (remove it first)",
                            display, S_ISLNK(st.st_mode) ? "a symbolic link" : "not a regular file");
    if (tmp_dirfd < 0 || fstat(dirfd, &dir_st) < 0 || fstat(tmp_dirfd, &tmp_st) < 0 ||
        dir_st.st_dev != tmp_st.st_dev)
        tmp_dirfd = dirfd;
    if ((error = dv_buf_printf(&prefix, ".%s.tmp-", name)) < 0 ||
        (error = dv_wtfs_tmpfile(&fd, &tmp, tmp_dirfd, prefix.ptr, mode)) < 0)
        goto done;
    if ((error = dv_fs_write_all(fd, data, len, display)) < 0 ||
        (fchmod(fd, mode) < 0 && (error = dv_error_errno("cannot chmod %s", display)) < 0) ||
        (fsync(fd) < 0 && (error = dv_error_errno("cannot fsync %s", display)) < 0)) {
        close(fd);
        unlinkat(tmp_dirfd, tmp.ptr, 0);
        goto done;
    }
    if (close(fd) < 0) {
        error = dv_error_errno("cannot write %s", display);
        unlinkat(tmp_dirfd, tmp.ptr, 0);
        goto done;
    }
    if (renameat(tmp_dirfd, tmp.ptr, dirfd, name) < 0) {
        error = dv_error_errno("cannot rename a temp file to %s", display);
        unlinkat(tmp_dirfd, tmp.ptr, 0);
        goto done;
    }
    if (fsync(dirfd) < 0 && errno != EINVAL)
        error = dv_error_errno("cannot fsync the directory of %s", display);
done:
    dv_buf_release(&tmp);
    dv_buf_release(&prefix);
    return error;
}
