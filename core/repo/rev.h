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

/** Called for a pointer file that cannot be used (message names the revision and path),
 *  when a walk passes over it; a negative return stops the walk. */
typedef int (*dv_rev_bad_fn)(void *ctx, const char *message);

/** 1 if a pointer for data_relpath is of interest to a caller asking for filter: filter is ""
 *  (everything), names data_relpath, its pointer file, a directory above it, or a path
 *  inside its data. */
DV_NODISCARD int dv_rev_path_matches(const char *data_relpath, const char *filter);

/** 1 if filter names a path strictly inside data_relpath's data ("data/x" inside "data"). */
DV_NODISCARD int dv_rev_path_inside(const char *filter, const char *data_relpath);

enum {
    DV_SELECT_NONE = 0,  /* no filter names it */
    DV_SELECT_WHOLE = 1, /* a filter names it, its pointer file or a directory above it */
    DV_SELECT_PARTS = 2, /* only paths inside its data are named */
};

/**
 * How filters select the data of the pointer at data_relpath (no filters: whole). For
 * DV_SELECT_PARTS, parts (room for n_filters) gets the indexes of the filters that name
 * paths inside it, sorted by path, none inside another (nor repeated), and *n_parts their
 * count; each path inside is filters[parts[i]] + strlen(data_relpath) + 1.
 */
int dv_rev_path_select(size_t *parts, size_t *n_parts, const char *data_relpath,
                       const char *const *filters, size_t n_filters);

/**
 * Refuse data paths dv must never write: a name that is a form of .git or .dv (a restored
 * .git directory runs its config's commands), and a data path inside another pointer's
 * (evil.dv restoring a symlink, then evil/x.dv writing through it): DV_ECORRUPT naming
 * them. Sorts paths.
 */
DV_NODISCARD int dv_rev_check_data_paths(char **paths, size_t n);

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
/** Read and parse the pointer blob a tree entry of a commit names (name, "<rev>:<path>.dv",
 *  for messages): DV_ECORRUPT unless it is a regular file's blob of at most
 *  DV_POINTER_MAX_BYTES (checked before it is read) that parses. */
DV_NODISCARD int dv_rev_read_pointer_entry(dv_pointer *out, git_repository *git,
                                           const git_tree_entry *e, const char *name);
/** Read and parse the pointer blob id (a staged one, from git's index): as above, without
 *  the tree entry's mode. */
DV_NODISCARD int dv_rev_read_pointer_blob(dv_pointer *out, git_repository *git, const git_oid *id,
                                          const char *name);
/** The same, with the blob's bytes as they are into text (replaced), for writing the pointer
 *  file as git would check it out. */
DV_NODISCARD int dv_rev_read_pointer_text(dv_pointer *out, dv_buf *text, dv_rev *rev,
                                          const char *pointer_relpath);

/**
 * The same for the work tree: the pointer files staged in git's index whose data path
 * matches one of filters, read from the work tree (dv_repo_read_pointer), in index order.
 * A pointer file that cannot be read is its error (DV_ECORRUPT, DV_ENOTFOUND), naming it.
 */
DV_NODISCARD int dv_rev_each_worktree_pointer(dv_repo *repo, const char *const *filters,
                                              size_t n_filters, dv_rev_pointer_fn fn, void *ctx);

/**
 * Many revisions walked as one: those named, and all branches, all tags or every commit
 * reachable from a reference or HEAD. A tree or pointer blob met again at the same path
 * in a later revision is passed over by id, so a history whose commits share most of
 * their trees costs what its distinct trees cost, and memory is one id per distinct
 * (tree or pointer, path).
 */
typedef struct dv_revset dv_revset;
#define DV_REVSET_BRANCHES 1u /* refs/heads/ */
#define DV_REVSET_TAGS 2u     /* refs/tags/, those that peel to a commit */
#define DV_REVSET_COMMITS 4u  /* every commit of every reference and HEAD */

DV_NODISCARD int dv_revset_new(dv_revset **out, dv_repo *repo);
void dv_revset_free(dv_revset *set);
/** Add the revision spec names (as dv_rev_resolve; its errors). */
DV_NODISCARD int dv_revset_add(dv_revset *set, const char *spec);
/** Add the commits reachable from tip_hex (a full commit id) and not from base_hex (NULL
 *  for none) nor from the references that hide_glob names (e.g. the remote-tracking branches of one
 * remote; NULL for none), as git rev-list <tip> ^<base> --not --glob=<hide> lists them. A base or
 * reference this repository lacks hides nothing. */
DV_NODISCARD int dv_revset_add_range(dv_revset *set, const char *tip_hex, const char *base_hex,
                                     const char *hide_glob);
/** Add the commit id, named name in messages (as "HEAD@{2}"): DV_ECORRUPT when git cannot
 *  read it. */
DV_NODISCARD int dv_revset_add_commit(dv_revset *set, const git_oid *id, const char *name);
/** How many revisions were added one by one (dv_revset_add, dv_revset_add_commit). */
size_t dv_revset_count(const dv_revset *set);
/** Add the references of which (DV_REVSET_*), listed when the set is walked. */
void dv_revset_add_refs(dv_revset *set, unsigned which);
/** 1 when nothing was added (set may be NULL): the work tree's pointers are meant. */
DV_NODISCARD int dv_revset_is_empty(const dv_revset *set);

/**
 * The one list of pointers every command reads, from one of its two sources: call fn for
 * each distinct (pointer, data path) of the set's revisions whose data path matches one of
 * filters, or, when set is NULL or empty, for each pointer file staged in git (as
 * dv_rev_each_worktree_pointer). A pointer that cannot be used goes to bad when it is
 * given, and the walk goes on; without bad it ends the walk (its error as above).
 */
DV_NODISCARD int dv_revset_each_pointer(dv_repo *repo, dv_revset *set, const char *const *filters,
                                        size_t n_filters, dv_rev_pointer_fn fn, dv_rev_bad_fn bad,
                                        void *ctx);
/** "A..B" (A and B) or "A...B" (the merge base of A and B, and B), an empty side being HEAD,
 *  as git diff takes them: 1 with both resolved, 0 when spec holds no "..", or an error of
 *  dv_rev_resolve (DV_EUSAGE too when the sides of "..." share no ancestor). */
DV_NODISCARD int dv_rev_resolve_range(dv_rev **a, dv_rev **b, dv_repo *repo, const char *spec);
/** The commit the revision resolved to, for a history walk that starts there. Lent with rev. */
const git_commit *dv_rev_commit(const dv_rev *rev);

#endif
