/*
 * wtfs: file operations inside the work tree that cannot leave it. A path is walked
 * one component at a time from an open directory with O_NOFOLLOW | O_DIRECTORY, and
 * every change is made relative to the directory that holds it (openat, mkdirat,
 * renameat, unlinkat, symlinkat), so no component can be a symbolic link and nothing
 * an earlier step made can redirect a later one. Paths are '/'-separated, relative,
 * without empty, "." or ".." components.
 */
#ifndef DV_WTFS_H
#define DV_WTFS_H

#include "core/base/error.h"

#include "core/base/buf.h"

#include <sys/stat.h>
#include <sys/types.h>

enum {
    DV_WTFS_CREATE = 1, /* make missing directories on the way (mode 0777 less the umask) */
};

/**
 * Open the directory at relpath below dirfd ("" is dirfd itself, duplicated). The
 * caller closes *out. DV_EUSAGE "beyond a symbolic link" when a component is a
 * symlink, DV_EUSAGE when one is not a directory, DV_ENOTFOUND when one is missing
 * (without DV_WTFS_CREATE).
 */
DV_NODISCARD int dv_wtfs_open_dir(int *out, int dirfd, const char *relpath, int flags);

/** Open the directory that holds relpath's last component, as dv_wtfs_open_dir does;
 *  *leaf points at that component inside relpath. */
DV_NODISCARD int dv_wtfs_open_parent(int *out, const char **leaf, int dirfd, const char *relpath,
                                     int flags);

/**
 * Open the regular file relpath below dirfd for reading, never following a symlink and
 * never blocking on a FIFO: DV_EUSAGE when it (or a directory on the way) is a symlink
 * or it is not a regular file, DV_ENOTFOUND when missing.
 */
DV_NODISCARD int dv_wtfs_open_regular(int *out, int dirfd, const char *relpath);

/** lstat of relpath below dirfd, through directories that are not symlinks. 0, or
 *  DV_ENOTFOUND when it (or a directory on the way) is missing. */
DV_NODISCARD int dv_wtfs_lstat(struct stat *st, int dirfd, const char *relpath);

/**
 * Remove name in dirfd and, when it is a directory, everything below it, without ever
 * following a symlink (a symlink is removed itself). display names it in messages.
 * A missing name is success.
 */
DV_NODISCARD int dv_wtfs_remove_tree(int dirfd, const char *name, const char *display);

/** Create a new file "<prefix><random>" in dirfd (O_EXCL, O_NOFOLLOW, mode); its name
 *  goes to name_out. */
DV_NODISCARD int dv_wtfs_tmpfile(int *fd_out, dv_buf *name_out, int dirfd, const char *prefix,
                                 mode_t mode);

/**
 * Write data to name in dirfd whole: a temp file, fsync, renameat over it, fsync of the
 * directory. The temp file is made in tmp_dirfd when it is not -1 and on the same file
 * system (so a kill leaves nothing beside the user's files: that directory is emptied
 * by the next command), else beside name. Refuses (DV_EUSAGE) when name is a symlink or
 * not a regular file. display names it in messages.
 */
DV_NODISCARD int dv_wtfs_write_atomic(int dirfd, const char *name, const void *data, size_t len,
                                      mode_t mode, int tmp_dirfd, const char *display);

#endif
