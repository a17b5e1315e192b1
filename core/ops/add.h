/*
 * add: put work-tree paths under dv: store their content, then write their
 * pointer files (only after the store is durable), ignore the data paths in
 * git and stage pointer and .gitignore files.
 */
#ifndef DV_ADD_H
#define DV_ADD_H

#include "core/base/error.h"

#include "core/repo/repo.h"
#include "core/repo/worktree.h"

typedef struct dv_add_options {
    dv_ingest_progress_fn progress;
    void *progress_ctx;
    dv_worktree_warn_fn warn;
    void *warn_ctx;
} dv_add_options;

typedef struct dv_add_result {
    uint64_t paths;
    uint64_t files;        /* files and symlinks added */
    uint64_t bytes;        /* their total size */
    uint64_t bytes_read;   /* bytes read and hashed (unchanged files are not read) */
    uint64_t bytes_stored; /* bytes appended to the store, after compression */
    uint64_t bytes_reused; /* bytes the store already had */
    uint64_t pointers_written;
} dv_add_result;

/** Total size of regular files under relpaths, for a progress bar (lstat only). */
DV_NODISCARD int dv_add_measure(uint64_t *bytes, dv_repo *repo, const char *const *relpaths,
                                size_t n);

/** Add the work-tree paths (relative to the top). The caller holds the lock. */
DV_NODISCARD int dv_add(dv_add_result *result, dv_repo *repo, const char *const *relpaths, size_t n,
                        const dv_add_options *opts);

#endif
