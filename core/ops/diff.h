/*
 * diff: what changed in tracked data between two sides, each a git revision's pointer files
 * or those staged in git: per file, added, deleted, modified (content or mode), or renamed
 * (the same content at a new path), with sizes before and after. Both sides' trees are
 * walked together and a subtree whose id is the same on both is not entered, so a change of
 * one file in a huge dataset reads the trees on its path alone.
 */
#ifndef DV_DIFF_H
#define DV_DIFF_H

#include "core/base/error.h"

#include "core/object/hash.h"
#include "core/repo/repo.h"
#include "core/repo/rev.h"
#include "storage/odb.h"

#include <stdint.h>

enum dv_diff_status {
    DV_DIFF_ADDED = 'A',
    DV_DIFF_DELETED = 'D',
    DV_DIFF_MODIFIED = 'M', /* content, or the executable bit, or file ↔ symlink */
    DV_DIFF_RENAMED = 'R',  /* the same content and mode, deleted at old_path, added at path */
};

/** One side of a file: what a tree entry or pointer says of it. */
typedef struct dv_diff_side {
    int kind;     /* DV_KIND_FILE or DV_KIND_SYMLINK; 0 when absent */
    uint8_t mode; /* DV_MODE_* */
    uint64_t size;
    dv_oid id;       /* manifest, or the chunk holding a link target */
    int in_worktree; /* the work tree's file: id computed, its manifest and chunks maybe not
                        in the store */
} dv_diff_side;

typedef struct dv_diff_entry {
    const char *path;     /* the new path; for a deletion the old one */
    const char *old_path; /* for a rename, else NULL */
    int status;           /* DV_DIFF_* */
    dv_diff_side old_side, new_side;
} dv_diff_entry;

typedef struct dv_diff_summary {
    uint64_t added, deleted, modified, renamed;
    uint64_t bytes_added;          /* sizes of files added, and growth of those modified */
    uint64_t bytes_removed;        /* sizes of files deleted, and shrinkage of those modified */
    uint64_t old_bytes, new_bytes; /* of the files that differ, before and after */
    uint64_t not_checked_out;      /* work-tree paths without data, taken as their pointers say */
} dv_diff_summary;

/** Called for each changed file in path order, lent for the call; < 0 stops the diff. */
typedef int (*dv_diff_fn)(void *ctx, const dv_diff_entry *entry);

/**
 * Compare tracked data at a (old) with b (new) under filters (work-tree paths; everything
 * when n_filters is 0); NULL for a side means the pointer files staged in git. Files inside
 * tracked directories are compared one by one from the store's trees; manifests and chunks
 * are not read. A filter that names nothing on either side is DV_EUSAGE; a tree the store
 * lacks is DV_ENOTFOUND naming its path (run dv fetch); a bad pointer is its error. The
 * summary, when not NULL, counts what fn was given.
 */
DV_NODISCARD int dv_diff(dv_repo *repo, dv_rev *a, dv_rev *b, const char *const *filters,
                         size_t n_filters, dv_diff_fn fn, void *ctx, dv_diff_summary *summary);

/**
 * Compare tracked data at a with the work tree's data: the tracked paths are the pointer
 * files staged in git, and what is below each is read from the work tree, each file's id
 * from the stat cache or by hashing it (nothing is stored). A tracked path with no data in
 * the work tree (not checked out) stands as its pointer says, counted in
 * summary->not_checked_out. New sides carry in_worktree. Otherwise as dv_diff.
 */
DV_NODISCARD int dv_diff_worktree(dv_repo *repo, dv_rev *a, const char *const *filters,
                                  size_t n_filters, dv_diff_fn fn, void *ctx,
                                  dv_diff_summary *summary);

/**
 * The bytes of entry's new version held in chunks its old version lacks, each chunk
 * counted once: what the change truly adds to the store (for an added file, its distinct
 * chunks). 0 for a symlink or a deletion. Reads the two manifests from odb; errors as
 * dv_manifest_read (DV_ENOTFOUND when one is not in the store).
 */
DV_NODISCARD int dv_diff_new_bytes(uint64_t *out, dv_odb *odb, const dv_diff_entry *entry);

#endif
