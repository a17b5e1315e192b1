/*
 * gc: delete from the local store every object that no kept root reaches. Roots: the
 * pointer files of every worktree (work tree and git's index), every worktree's HEAD,
 * stashes, recent reflog entries (core/repo/roots), plus the branches, tags, commits and
 * revisions asked for (core/repo/rev); the objects they reach (core/ops/reach) are kept
 * and every pack holding anything else is rewritten (storage/repack), small packs merged.
 * When a root cannot be read, nothing is deleted. A drop (dv drop, dv gc --pushed) takes
 * roots out of the kept set and deletes what only they reach, once the remote's indexes
 * show it holds all of that: whole subgraphs go, so the store keeps its closure.
 */
#ifndef DV_GC_H
#define DV_GC_H

#include "core/base/error.h"

#include "core/object/pointer.h"
#include "core/ops/checkout.h"
#include "core/repo/repo.h"
#include "remotes/remote.h"
#include "storage/repack.h"

#include <stddef.h>
#include <stdint.h>

typedef struct dv_gc_options {
    unsigned refs;           /* DV_REVSET_BRANCHES, _TAGS, _COMMITS */
    const char *const *revs; /* revisions whose data is kept too */
    size_t n_revs;
    int64_t expire_days; /* reflog entries older than this many days keep nothing;
                            DV_EXPIRE_NEVER: every entry keeps its commit */
    int dry_run;         /* count, delete nothing */
    /** With it, called for each pointer of the history (any commit of a reference, any
     *  reflog entry) whose object is in the store and would go: its path and pointer. */
    int (*dropped)(void *ctx, const char *data_relpath, const dv_pointer *pointer);
    void *ctx;
    int repack_only; /* read no roots, delete nothing: merge small packs only */
    /* A drop: the roots at these data paths (work-tree relative; a folder names the data
     * paths inside it) in this worktree's work tree and git index, and those of the
     * history at the same path with the same content, leave the kept set, and what only
     * they reach is deleted, unreachable objects left alone. */
    const char *const *drop_paths;
    size_t n_drop_paths;
    int drop_pushed;   /* as gc, and every root whose object remote lists leaves the kept set */
    dv_remote *remote; /* for a drop: what it holds is read from its indexes (one listing) */
    int force;         /* drop even what remote lacks */
} dv_gc_options;

typedef struct dv_gc_result {
    dv_repack_result repack;
    uint64_t roots;         /* pointers read at the roots (distinct per path and id) */
    size_t worktrees;       /* worktrees whose pointers were read */
    size_t history_commits; /* commits kept for HEADs, stashes and reflogs */
    uint64_t missing;       /* reachable objects not in the store (never fetched) */
    dv_path_list bad;       /* roots that could not be read (then nothing is deleted) */
    uint64_t dropped_roots; /* roots a drop took out of the kept set */
    dv_path_list dropped;   /* their paths in this worktree (drop_paths), once each */
    dv_path_list unpushed;  /* roots with objects to delete that remote lacks: the drop was
                               refused (DV_ECONFLICT), or with force, done */
    uint64_t partial_bytes; /* of <cache>/partial (what dv diff fetched), removed by a gc */
} dv_gc_result;

/**
 * Collect the roots, walk what they reach, and repack (or with dry_run, count). The caller
 * holds the repository lock and the store's gc lock exclusively. DV_EUSAGE naming a revision
 * that resolves to nothing; DV_ECORRUPT when a root cannot be read (listed in out->bad) or
 * the store has a pack it cannot read (run dv fsck): nothing is deleted then. A drop: DV_EUSAGE
 * for a path that names no tracked data, DV_ECONFLICT when remote lacks some of what would
 * be deleted and force is not set (out->unpushed names the roots; nothing is deleted). Free
 * out with dv_gc_result_free in every case.
 */
DV_NODISCARD int dv_gc(dv_gc_result *out, dv_repo *repo, const dv_gc_options *opts);
void dv_gc_result_free(dv_gc_result *result);

#endif
