/*
 * export: a tracked directory or file (or a path inside tracked data) at a git revision, or
 * in the work tree's pointer files, written as one archive (tar, tar.gz, tar.zst, tar.xz,
 * zip) straight from the store: no checkout, every chunk's SHA-256 checked as it is read,
 * memory a few chunk groups whatever the size. The one place dv writes archives, all through
 * libarchive. With the reproducible option the bytes depend only on the content and the
 * options: entries in tree order, owner and group 0, every time 0, no compressor timestamp.
 */
#ifndef DV_EXPORT_H
#define DV_EXPORT_H

#include "core/base/error.h"

#include "core/repo/repo.h"
#include "core/repo/rev.h"

#include <stdint.h>

typedef enum dv_export_format {
    DV_EXPORT_TAR = 1,
    DV_EXPORT_TAR_GZ,
    DV_EXPORT_TAR_ZST,
    DV_EXPORT_TAR_XZ,
    DV_EXPORT_ZIP,
} dv_export_format;

/** The format a name gives: tar, tar.gz (tgz), tar.zst (tzst), tar.xz (txz), zip.
 *  DV_EUSAGE naming it and listing the formats otherwise. */
DV_NODISCARD int dv_export_format_parse(dv_export_format *out, const char *name);
/** The format an output file's name ends in (".tar", ".tar.gz", ".tgz", ...; any case).
 *  DV_EUSAGE naming the file when none matches (say --format). */
DV_NODISCARD int dv_export_format_of_path(dv_export_format *out, const char *path);
/** "tar", "tar.gz", "tar.zst", "tar.xz", "zip". */
const char *dv_export_format_name(dv_export_format format);

typedef struct dv_export_options {
    dv_export_format format;
    /* The directory the entries go under, with or without its final '/': the exported
     * directory's content (a file itself) lies there. NULL: under the exported path's own
     * name (data/train gives train/..., model.bin gives model.bin); "": a directory's content
     * at the top of the archive. Relative, without "." or ".." components. */
    const char *prefix;
    int reproducible; /* every time 0 (1970-01-01T00:00:00Z), gzip without its timestamp */
} dv_export_options;

typedef struct dv_export_result {
    uint64_t files, symlinks, dirs; /* entries written */
    uint64_t bytes;                 /* file content written */
} dv_export_result;

/** Check a prefix as dv_export_options takes it: DV_EUSAGE naming it when it is absolute,
 *  has an empty, "." or ".." component, or holds a control character. */
DV_NODISCARD int dv_export_check_prefix(const char *prefix);

/**
 * Write the archive of path (a work-tree path: tracked data, or a path inside a tracked
 * directory) at rev, or in the work tree's pointer files when rev is NULL, to out_path: a
 * temp file beside it, fsynced and renamed into place at the end, so a failure leaves no file
 * there (and what was there before stays). An existing out_path is replaced only with
 * replace set. Without the reproducible option entries carry the commit's time (for the work
 * tree's pointer files, the time of the export). Errors: DV_EUSAGE for a path not tracked
 * there, a bad prefix, or an existing out_path without replace; DV_ENOTFOUND naming what the
 * store lacks (run dv fetch); DV_ECORRUPT when what the store holds fails its checks; DV_EIO
 * writing the archive.
 */
DV_NODISCARD int dv_export_file(dv_export_result *result, dv_repo *repo, dv_rev *rev,
                                const char *path, const dv_export_options *opts,
                                const char *out_path, int replace);

/**
 * The same, written to fd (left open; a pipe, standard output), named out_name in messages.
 * When the reader of a pipe goes away, *pipe_closed is set and DV_EIO returned. Bytes written
 * before an error stay written.
 */
DV_NODISCARD int dv_export_fd(dv_export_result *result, dv_repo *repo, dv_rev *rev,
                              const char *path, const dv_export_options *opts, int fd,
                              const char *out_name, int *pipe_closed);

#endif
