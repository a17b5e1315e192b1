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
    DV_DIFF_RENAMED = 'R',  /* deleted at old_path, added at path: the same content and mode,
                               or (with find_renames) mostly the same chunks */
    DV_DIFF_COPIED = 'C',   /* added at path with the content and mode old_path holds on the
                               old side */
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
    const char *old_path; /* for a rename or a copy, else NULL */
    int status;           /* DV_DIFF_* */
    dv_diff_side old_side, new_side;
    unsigned similarity; /* renames and copies: percent of bytes shared (100: the same id) */
} dv_diff_entry;

/* Renames by shared chunks are looked for only while the deleted files' chunks number at
 * most this (their ids are held in memory: 40 bytes each). */
#define DV_DIFF_SIMILAR_MAX_CHUNKS (4u << 20)

typedef struct dv_diff_options {
    const char *const *filters; /* work-tree paths; everything when n_filters is 0 */
    size_t n_filters;
    /* 0, or pair a deleted file with an added one (a rename) when at least this percent of
     * the larger one's bytes are in chunks both hold; their manifests must be in the store */
    unsigned find_renames;
    /* look for the sources of copies in the whole old side, not only among changed files
     * (reads every tree of the old side when a file was added) */
    int find_copies;
    /* the caller reads the changed files' manifests (dv_diff_new_bytes, content): when the
     * store fetches what it lacks (ondemand), they are asked for in one batch first */
    int reads_manifests;
} dv_diff_options;

typedef struct dv_diff_summary {
    uint64_t added, deleted, modified, renamed, copied;
    uint64_t bytes_added;          /* sizes of files added, and growth of those modified */
    uint64_t bytes_removed;        /* sizes of files deleted, and shrinkage of those modified */
    uint64_t old_bytes, new_bytes; /* of the files that differ, before and after */
    uint64_t not_checked_out;      /* work-tree paths without data, taken as their pointers say */
    int similar_skipped; /* find_renames gave up: too many chunks (DV_DIFF_SIMILAR_MAX_CHUNKS) */
} dv_diff_summary;

/** Called for each changed file in path order, lent for the call; < 0 stops the diff. */
typedef int (*dv_diff_fn)(void *ctx, const dv_diff_entry *entry);

/**
 * Compare tracked data at a (old) with b (new) under opts' filters; NULL for a side means
 * the pointer files staged in git. Files inside tracked directories are compared one by one
 * from the store's trees; manifests and chunks are read only for opts->find_renames. An
 * added file whose content and mode a deleted file had is a rename; one whose content and
 * mode a changed file had (modified, deleted or renamed; not an empty one) is a copy of it,
 * and with opts->find_copies so is one of content the old side holds anywhere. A filter that names
 * nothing on either side is DV_EUSAGE; a tree the store lacks is DV_ENOTFOUND naming its path (run
 * dv fetch); a bad pointer is its error. The summary, when not NULL, counts what fn was given.
 */
DV_NODISCARD int dv_diff(dv_repo *repo, dv_rev *a, dv_rev *b, const dv_diff_options *opts,
                         dv_diff_fn fn, void *ctx, dv_diff_summary *summary);

/**
 * Compare tracked data at a with the work tree's data: the tracked paths are the pointer
 * files staged in git, and what is below each is read from the work tree, each file's id
 * from the stat cache or by hashing it (nothing is stored). A tracked path with no data in
 * the work tree (not checked out) stands as its pointer says, counted in
 * summary->not_checked_out. New sides carry in_worktree. Otherwise as dv_diff.
 */
DV_NODISCARD int dv_diff_worktree(dv_repo *repo, dv_rev *a, const dv_diff_options *opts,
                                  dv_diff_fn fn, void *ctx, dv_diff_summary *summary);

/**
 * The bytes of entry's new version held in chunks its old version lacks, each chunk
 * counted once: what the change truly adds to the store (for an added file, its distinct
 * chunks). 0 for a symlink or a deletion. Reads the two manifests from odb; errors as
 * dv_manifest_read (DV_ENOTFOUND when one is not in the store).
 */
DV_NODISCARD int dv_diff_new_bytes(uint64_t *out, dv_odb *odb, const dv_diff_entry *entry);

#endif
