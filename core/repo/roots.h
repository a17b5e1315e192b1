/*
 * roots: what dv gc keeps besides branches, tags and the revisions it is given, read
 * through libgit2: the pointer files of every worktree of the repository (its work-tree
 * files and its git index), each worktree's HEAD, the stashes, and the commits of reflog
 * entries younger than a cutoff. A root that cannot be read is reported, never skipped
 * silently: what it keeps is not known.
 */
#ifndef DV_ROOTS_H
#define DV_ROOTS_H

#include "core/base/error.h"

#include "core/repo/repo.h"
#include "core/repo/rev.h"

#include <stddef.h>
#include <stdint.h>

typedef struct dv_roots_stats {
    size_t worktrees;       /* the main worktree and the linked ones read */
    size_t history_commits; /* distinct commits added: HEADs, stashes, reflog entries */
} dv_roots_stats;

/**
 * Add to set the commits that keep their data whatever the branches and tags say: the HEAD
 * of every worktree, every stash (refs/stash and its reflog, whatever their age) with its
 * parents (the index and untracked-files commits), and the commits of the reflog entries of
 * every worktree's HEAD and of every reference whose time is at or after since (seconds
 * since the epoch; INT64_MIN keeps them all, INT64_MAX none). A reflog entry whose commit
 * git no longer has is passed over, as git passes it over. stats may be NULL.
 */
DV_NODISCARD int dv_roots_add_history(dv_revset *set, dv_repo *repo, int64_t since,
                                      dv_roots_stats *stats);

/**
 * Call fn for each pointer of every worktree of the repository, the main one and each linked
 * one (git worktree list): each pointer file staged in its git index (every stage of a
 * conflict), read from the staged blob, and the file at the same path in its work tree
 * (absent is fine: the staged blob is then the root). The path given to fn names the
 * worktree for messages ("<path>" in this one, "<worktree top>/<path>" in another, with
 * " (staged)" for a blob of the index). A pointer that cannot be read goes to bad, or ends
 * the walk when bad is NULL.
 */
DV_NODISCARD int dv_roots_each_worktree_pointer(dv_repo *repo, dv_rev_pointer_fn fn,
                                                dv_rev_bad_fn bad, void *ctx);

#endif
