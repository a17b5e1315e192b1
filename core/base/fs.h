/*
 * fs: file system helpers with dv's durability discipline: content is written
 * to a temp file in the target directory, fsynced, renamed into place, and the
 * directory fsynced, so a crash leaves the old state or the new one.
 */
#ifndef DV_FS_H
#define DV_FS_H

#include "core/base/error.h"

#include "core/base/buf.h"

#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/uio.h>

enum {
    DV_FS_DURABLE = 1, /* fsync the file and the directory */
};

/** 1 if a and b describe the same file with the same size and mtime: unchanged as far
 * as a stat can tell. */
DV_NODISCARD int dv_fs_same_file(const struct stat *a, const struct stat *b);

/** 1 if before and after (fstat of one open file, before and after reading it) say that
 *  it did not change meanwhile: same file, size, mtime and ctime. */
DV_NODISCARD int dv_fs_unchanged_while_read(const struct stat *before, const struct stat *after);

/** write(2) all of data, retrying on EINTR and short writes. path is for messages. */
DV_NODISCARD int dv_fs_write_all(int fd, const void *data, size_t len, const char *path);
/** Write all n buffers in order, retrying short writes; iov is used up (changed). */
DV_NODISCARD int dv_fs_writev_all(int fd, struct iovec *iov, int n, const char *path);
/** pread(2) exactly len bytes at off; DV_ECORRUPT "truncated" if the file ends first. */
DV_NODISCARD int dv_fs_pread_all(int fd, void *data, size_t len, uint64_t off, const char *path);
/** Read up to len bytes (fewer only at end of file); returns the count in *got. */
DV_NODISCARD int dv_fs_read_full(int fd, void *data, size_t len, size_t *got, const char *path);
/** pread(2) up to len bytes at off (fewer only at end of file); the count goes to *got. */
DV_NODISCARD int dv_fs_pread_full(int fd, void *data, size_t len, uint64_t off, size_t *got,
                                  const char *path);

/** Create a new temp file next to final_path ("<dir>/.<base>.tmp-XXXXXX", O_EXCL, mode).
 *  Its path goes to tmp_path. Temp files are registered (tempfile.h), so they are removed
 *  when the process exits or is interrupted: a caller that renames one itself tells
 *  dv_tempfile_forget, one that gives it up calls dv_fs_tmp_discard. */
DV_NODISCARD int dv_fs_tmpfile(int *fd_out, dv_buf *tmp_path, const char *final_path, mode_t mode);
/** Create a temp file in dir (named "<prefix>XXXXXX"). */
DV_NODISCARD int dv_fs_tmpfile_in(int *fd_out, dv_buf *tmp_path, const char *dir,
                                  const char *prefix, mode_t mode);

/** Remove a temp file given up (unlink, missing is fine) and forget it. */
void dv_fs_tmp_discard(const char *tmp_path);

/** fsync a directory. */
DV_NODISCARD int dv_fs_fsync_dir(const char *dir);
/** fsync the directory containing path. */
DV_NODISCARD int dv_fs_fsync_parent(const char *path);

/** Write data to path atomically (temp + rename); flags DV_FS_DURABLE adds fsyncs. */
DV_NODISCARD int dv_fs_write_atomic(const char *path, const void *data, size_t len, mode_t mode,
                                    int flags);

/** Close fd (checked), fsync first when durable, then rename tmp to final (and fsync the
 *  directory when durable). On failure tmp is unlinked. fd is closed in every case. */
DV_NODISCARD int dv_fs_commit_tmp(int fd, const char *tmp_path, const char *final_path, int flags);

/** mkdir -p; existing directories are fine. */
DV_NODISCARD int dv_fs_mkdir_p(const char *path, mode_t mode);

/** Read a whole (small) file into out, failing with DV_EUSAGE if larger than max_bytes.
 *  DV_ENOTFOUND if missing. */
DV_NODISCARD int dv_fs_read_file(dv_buf *out, const char *path, size_t max_bytes);

/** 1 if path exists (lstat), 0 if not, < 0 on another error. */
DV_NODISCARD int dv_fs_exists(const char *path);

/** Directory part of path ("." for none) and last component, into out. */
DV_NODISCARD int dv_fs_dirname(dv_buf *out, const char *path);
DV_NODISCARD int dv_fs_basename(dv_buf *out, const char *path);

/** Current time in nanoseconds since the epoch. */
int64_t dv_fs_now_ns(void);

#endif
