/*
 * checkout: make the work tree match the pointer files. Plans every change
 * first; refuses (DV_ECONFLICT) when a change would lose data whose content is
 * not in the store, unless forced; then writes each file to a temp file in its
 * directory and renames it into place. A directory the work tree lacks is built whole
 * in .dv/tmp, its files written by the pool's workers, and renamed into place.
 */
#ifndef DV_CHECKOUT_H
#define DV_CHECKOUT_H

#include "core/base/error.h"

#include "core/data/ingest.h"
#include "core/repo/repo.h"
#include "core/repo/rev.h"

/* Deepest directory nesting a checkout restores, and most files and directories. */
#define DV_CHECKOUT_MAX_DEPTH 1024
#define DV_CHECKOUT_MAX_ENTRIES 100000000ull

typedef struct dv_checkout_options {
    int force;
    /* Bytes restored so far, as files are written: called by one thread at a time, not
     * always the caller's (the workers that fill a new directory call it too). */
    dv_ingest_progress_fn progress;
    void *progress_ctx;
    /* Called once the plan is made, with the bytes it will write (may be NULL). */
    void (*planned)(void *progress_ctx, uint64_t bytes_to_write);
    /* The revision whose pointer files to check out (written to the work tree and git's
     * index first); NULL: the pointer files staged in git. */
    dv_rev *rev;
} dv_checkout_options;

typedef struct dv_path_list {
    char **paths;
    size_t n, alloc;
} dv_path_list;

typedef struct dv_checkout_result {
    uint64_t files_restored;
    uint64_t bytes_restored;
    uint64_t unchanged;
    uint64_t removed;
    uint64_t pointers_written; /* with a revision: pointer files written or removed */
    uint64_t pointers_removed;
    dv_path_list conflicts;    /* paths with unsaved data (the checkout did nothing) */
    dv_path_list overwritten;  /* with force: paths whose unsaved data was replaced */
    dv_path_list bad_pointers; /* pointer files that could not be read (skipped) */
} dv_checkout_result;

/**
 * Make the work-tree data of every pointer file staged in git (or of those under the
 * work-tree paths in filters) match it. With opts->rev, the pointer files are those of
 * that revision: every object they reach must be in the store and the work tree must
 * hold nothing unsaved where they go (else nothing is written); then they are written
 * and staged as git checkout <rev> -- <pointer files> would, a tracked path the revision
 * lacks is removed with its pointer file, and the data is restored. The caller holds the lock.
 * DV_ECONFLICT, with result->conflicts listing the paths and nothing touched, when unsaved data
 * would be lost and opts->force is not set; DV_ENOTFOUND when the store lacks content a pointer
 * names. Unreadable pointer files are listed in result->bad_pointers and skipped.
 */
DV_NODISCARD int dv_checkout(dv_checkout_result *result, dv_repo *repo, const char *const *filters,
                             size_t n_filters, const dv_checkout_options *opts);
void dv_checkout_result_free(dv_checkout_result *result);

DV_NODISCARD int dv_path_list_add(dv_path_list *list, const char *path);
void dv_path_list_free(dv_path_list *list);

#endif
