/*
 * log: the commits of git history where a tracked data path's pointer changed, newest
 * first, read through libgit2 from the commits' trees (nothing is checked out, the store
 * is not read). Each commit is compared with its parent by tree-entry id down the path, so
 * a commit that did not touch a pointer costs one lookup per level; only where ids differ
 * are the pointer blobs read. Memory is one tree level per depth of the two trees being
 * compared, the ids of the commits walked and one commit per branch still to walk, whatever
 * the length of the history: while it walks, dv_log holds libgit2's process-wide object cache
 * to 256 KiB (and gives it back its size after).
 */
#ifndef DV_LOG_H
#define DV_LOG_H

#include "core/base/error.h"

#include "core/object/pointer.h"
#include "core/repo/repo.h"
#include "core/repo/rev.h"

#include <git2.h>
#include <stdint.h>

/** How a data path changed in a commit. */
typedef enum dv_log_change_kind {
    DV_LOG_ADDED = 1,
    DV_LOG_MODIFIED,
    DV_LOG_DELETED,
    DV_LOG_RENAMED, /* --follow: the pointer came from old_path, with the same content id */
} dv_log_change_kind;

/** A commit shown, lent for the callback. */
typedef struct dv_log_commit {
    const git_oid *id;
    const char *short_id;  /* the shortest unique abbreviation of id, at least core.abbrev */
    const git_oid *parent; /* the commit compared against; NULL for a root commit */
    int64_t time;          /* committer time, seconds since the epoch */
    int offset_minutes;    /* the committer's time zone, minutes east of UTC */
    const char *subject;   /* the first paragraph of the message, on one line */
} dv_log_commit;

/** One data path that changed in a commit, lent for the callback. */
typedef struct dv_log_change {
    dv_log_change_kind kind;
    const char *path;         /* the data path (without ".dv"), relative to the top */
    const char *old_path;     /* DV_LOG_RENAMED: the data path in the parent; else NULL */
    const dv_pointer *before; /* the parent's pointer; NULL when added */
    const dv_pointer *after;  /* the commit's pointer; NULL when deleted */
} dv_log_change;

/** Called for each change, those of one commit one after the other (by path given, sorted,
 *  then in git's tree order); a negative return stops the walk and is returned. */
typedef int (*dv_log_fn)(void *ctx, const dv_log_commit *commit, const dv_log_change *change);

typedef struct dv_log_options {
    long long max_commits; /* show at most this many commits; negative: no limit */
    int follow;            /* one path: continue under the name a pointer file had before */
} dv_log_options;

typedef struct dv_log_result {
    size_t commits_walked, commits_shown;
    /* Commits whose parent is not in the repository (a shallow clone's boundary): the walk
     * ends there, and what such a commit changed is not known, so it is not shown. */
    size_t n_boundaries;
    git_oid boundary, boundary_parent; /* the first one met, when n_boundaries > 0 */
} dv_log_result;

/**
 * Walk the history from rev, newest commit first (by committer time), calling fn for each
 * tracked data path matching paths (work-tree paths: a tracked data path, or a directory of
 * git above pointer files, "" for the top; every pointer when n_paths is 0) whose pointer
 * differs from the parent's. Merges are simplified as git log does for a path: a merge whose
 * pointers under paths equal one parent's is not shown and only the first such parent is
 * walked; any other merge is shown against its first parent and all its parents are walked.
 * A root commit is compared with an empty tree. With opts->follow (one path, a pointer file,
 * not a directory), a pointer that a parent lacks is looked for in that parent under another
 * name, by its blob id and then by its content id, among the pointer files the commit no
 * longer has; if found, the change is DV_LOG_RENAMED and the walk goes on under that name.
 *
 * Errors: DV_EUSAGE naming a path that lies inside tracked data at rev, a --follow of other
 * than one pointer file, or a path no commit walked tracks (after the others are shown);
 * DV_ECORRUPT naming the commit that cannot be read, or a pointer file of a commit that is
 * not one (as dv_rev_each_pointer). A missing parent is not an error: see result.
 */
DV_NODISCARD int dv_log(dv_log_result *result, dv_repo *repo, dv_rev *rev, const char *const *paths,
                        size_t n_paths, const dv_log_options *opts, dv_log_fn fn, void *ctx);

#endif
