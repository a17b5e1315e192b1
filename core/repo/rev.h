/*
 * rev: the pointer files of a git revision, read through libgit2 (no checkout, no change
 * to HEAD or the index), and of the work tree, as one kind of list: each tracked data
 * path with its parsed pointer. What a commit holds is distrusted like any file: names
 * are checked, pointer blobs are size-checked before they are read and then parsed.
 */
#ifndef DV_REV_H
#define DV_REV_H

#include "core/base/error.h"

#include "core/object/pointer.h"
#include "core/repo/repo.h"

#include <git2.h>

/** A resolved revision: a commit of the repository's git history. */
typedef struct dv_rev dv_rev;

/**
 * Resolve spec (a branch, a tag, a commit id, "HEAD~3", anything git_revparse_single takes)
 * to a commit. DV_EUSAGE naming spec when it names nothing, or nothing that peels to a
 * commit. The repository is lent and must outlive the revision.
 */
DV_NODISCARD int dv_rev_resolve(dv_rev **out, dv_repo *repo, const char *spec);
void dv_rev_free(dv_rev *rev);
/** The spec the revision was resolved from, for messages. Lent with rev. */
const char *dv_rev_name(const dv_rev *rev);

/**
 * Called for each tracked data path (relative to the top, without ".dv") and its parsed
 * pointer; both are lent for the call. A negative return stops the walk and is returned.
 */
typedef int (*dv_rev_pointer_fn)(void *ctx, const char *data_relpath, const dv_pointer *pointer);

/** 1 if a pointer for data_relpath is of interest to a caller asking for filter: filter is ""
 *  (everything), names data_relpath, a directory above it, or a path inside its data. */
DV_NODISCARD int dv_rev_path_matches(const char *data_relpath, const char *filter);

/**
 * Call fn for each pointer file of the revision's tree whose data path matches one of
 * filters (work-tree paths; all when n_filters is 0), in git's tree order. Trees are read
 * one level at a time and only those that can hold a filtered path are entered. A blob
 * ending in ".dv" that is not a regular file, is larger than DV_POINTER_MAX_BYTES or does
 * not parse, and a name dv never writes, are DV_ECORRUPT naming the revision and path.
 */
DV_NODISCARD int dv_rev_each_pointer(dv_rev *rev, const char *const *filters, size_t n_filters,
                                     dv_rev_pointer_fn fn, void *ctx);

/** Read and parse the pointer blob at pointer_relpath ("<path>.dv") of the revision.
 *  DV_ENOTFOUND when the revision has no such file; DV_ECORRUPT as above. */
DV_NODISCARD int dv_rev_read_pointer(dv_pointer *out, dv_rev *rev, const char *pointer_relpath);

/**
 * The same for the work tree: the pointer files staged in git's index whose data path
 * matches one of filters, read from the work tree (dv_repo_read_pointer), in index order.
 * A pointer file that cannot be read is its error (DV_ECORRUPT, DV_ENOTFOUND), naming it.
 */
DV_NODISCARD int dv_rev_each_worktree_pointer(dv_repo *repo, const char *const *filters,
                                              size_t n_filters, dv_rev_pointer_fn fn, void *ctx);

/** The commit the revision resolved to, for a history walk that starts there. Lent with rev. */
const git_commit *dv_rev_commit(const dv_rev *rev);

#endif
