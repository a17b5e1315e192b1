/*
 * cat: the bytes of one tracked file (a file inside a tracked directory too) at a git
 * revision or in the work tree's pointer files, read from the store chunk by chunk, every
 * chunk's SHA-256 checked, and handed to a writer in order. Chunks are read and checked a
 * group at a time on worker threads, a few groups ahead of the writer: memory is one
 * manifest and those groups (a few MiB), whatever the file's size.
 */
#ifndef DV_CAT_H
#define DV_CAT_H

#include "core/base/error.h"

#include "core/repo/repo.h"
#include "core/repo/rev.h"
#include "storage/odb.h"

#include <stdint.h>

#define DV_CAT_TO_END UINT64_MAX

/** Takes the next len bytes of the file; a negative return stops dv_cat and is returned. */
typedef int (*dv_cat_write_fn)(void *ctx, const void *data, size_t len);

/**
 * Write the bytes [offset, offset + length) of the file at path (a work-tree path) at rev, or
 * in the work tree's pointer files when rev is NULL, through fn; length DV_CAT_TO_END for all
 * the rest. A range past the end is cut at the end. Errors: DV_EUSAGE when path is not
 * tracked or is a directory or a symlink; DV_ENOTFOUND naming the path whose manifest or
 * chunk the store lacks (run dv fetch); DV_ECORRUPT when what the store holds disagrees
 * with the pointer or tree, or a chunk does not hash to its id. Bytes of a group that fails
 * are not written: what was written before an error is the file's, up to where it stopped.
 */
DV_NODISCARD int dv_cat(dv_repo *repo, dv_rev *rev, const char *path, uint64_t offset,
                        uint64_t length, dv_cat_write_fn fn, void *ctx);

/**
 * The same for the file whose manifest (or manifest list) is id and whose size is size, as
 * a tree or pointer names it, in odb; path names it in messages. Errors as dv_cat's.
 */
DV_NODISCARD int dv_cat_object(dv_odb *odb, const dv_oid *id, uint64_t size, const char *path,
                               uint64_t offset, uint64_t length, dv_cat_write_fn fn, void *ctx);

#endif
