/*
 * worktree: reading the work tree as dv objects. Gives a file's content id
 * (from the stat cache when the file is unchanged, else by hashing it), and
 * turns a whole directory into a tree object, storing what it reads when asked.
 */
#ifndef DV_WORKTREE_H
#define DV_WORKTREE_H

#include "core/base/error.h"

#include "core/data/ingest.h"
#include "core/object/object.h"
#include "core/repo/repo.h"
#include "core/repo/statcache.h"

#include <sys/stat.h>

typedef struct dv_worktree dv_worktree;

/** Called for paths skipped during a scan (special files, nested .git). */
typedef void (*dv_worktree_warn_fn)(void *ctx, const char *relpath, const char *why);

typedef struct dv_worktree_options {
    int store;                      /* store the content read (dv add), or only hash it */
    dv_ingest_progress_fn progress; /* bytes hashed */
    void *progress_ctx;
    dv_worktree_warn_fn warn;
    void *warn_ctx;
    /* Called after each read of a file, before it is checked for changes (for tests). */
    void (*after_read)(void *ctx, const char *relpath);
    void *after_read_ctx;
} dv_worktree_options;

/* Reads of a file that keeps changing while it is read before dv gives up on it. */
#define DV_WORKTREE_READ_ATTEMPTS 3

/** A scan result for one path. */
typedef struct dv_worktree_item {
    uint8_t mode; /* DV_MODE_* */
    dv_oid id;
    uint64_t size;
    uint64_t files; /* files and symlinks below (directories), else 1 */
} dv_worktree_item;

DV_NODISCARD int dv_worktree_open(dv_worktree **out, dv_repo *repo,
                                  const dv_worktree_options *opts);
void dv_worktree_free(dv_worktree *wt);

/** The stat cache (lent). */
dv_statcache *dv_worktree_statcache(dv_worktree *wt);
/** The store, or NULL when the worktree only hashes. */
dv_odb *dv_worktree_odb(dv_worktree *wt);

/**
 * Id of a regular file's content (its manifest id); st is its lstat. Uses the stat cache
 * when it can, else reads the file (storing it when the worktree stores). A file that
 * changes while it is read is read again, up to DV_WORKTREE_READ_ATTEMPTS times, then
 * refused with DV_ERROR naming it: the id is always that of a version the file had.
 */
DV_NODISCARD int dv_worktree_file_id(dv_oid *id, uint64_t *size, dv_worktree *wt,
                                     const char *relpath, const struct stat *st);

/** Id of a symlink (the chunk id of its target). */
DV_NODISCARD int dv_worktree_link_id(dv_oid *id, uint64_t *size, dv_worktree *wt,
                                     const char *relpath);

/** Scan relpath (file, symlink or directory, recursively) into item. st is its lstat. */
DV_NODISCARD int dv_worktree_scan(dv_worktree_item *item, dv_worktree *wt, const char *relpath,
                                  const struct stat *st);

/** Sorted names in the directory relpath, without "." and "..". Free with dv_worktree_names_free.
 */
typedef struct dv_worktree_names {
    char **names;
    size_t n;
    int dirfd; /* the directory, open, for fstatat() of its entries; closed by _free */
    /* the window of names stat'ed by dv_worktree_name_stat */
    struct stat *st;
    int *stat_errno;
    size_t window_start, window_len;
} dv_worktree_names;
#define DV_WORKTREE_NAMES_INIT                                                                     \
    {                                                                                              \
        NULL, 0, -1, NULL, NULL, 0, 0                                                              \
    }
DV_NODISCARD int dv_worktree_list(dv_worktree_names *out, dv_worktree *wt, const char *relpath);
/** The same for the directory open at fd, which out takes over (closed by _free, also on
 *  failure); relpath is for messages. */
DV_NODISCARD int dv_worktree_list_fd(dv_worktree_names *out, int fd, const char *relpath);
/**
 * lstat of names->names[i] into *st: 0, or the errno of the failed call. Names are
 * stat'ed a window at a time, by the worktree's pool when the directory is large (the
 * kernel's path lookups are most of the cost of a status), so memory stays bounded
 * whatever the directory's size. Cheapest when i only grows.
 */
DV_NODISCARD int dv_worktree_name_stat(dv_worktree *wt, dv_worktree_names *names, size_t i,
                                       struct stat *st);
void dv_worktree_names_free(dv_worktree_names *names);

/** Position in a side-by-side walk of a tree and a directory listing. */
typedef struct dv_worktree_walk {
    size_t tree_index, name_index;
} dv_worktree_walk;

/**
 * Step through tree and names (both sorted by name bytes) together, skipping names dv
 * never enters. Returns 1 with the next name and what stands under it: *entry the tree
 * entry or NULL, *on_disk the listed name or NULL (at least one is set); 0 at the end.
 */
DV_NODISCARD int dv_worktree_walk_next(dv_worktree_walk *walk, const dv_tree *tree,
                                       const dv_worktree_names *names, const dv_tree_entry **entry,
                                       const char **on_disk);

/** "<relpath>/<name>" (or name when relpath is the top) into out. */
DV_NODISCARD int dv_worktree_child(dv_buf *out, const char *relpath, const char *name);

/** Names dv never enters inside a tracked directory. */
DV_NODISCARD int dv_worktree_skip_name(const char *name);

/** Bytes counted by the ingesters so far. */
void dv_worktree_stats(dv_worktree *wt, dv_ingest_stats *out);

/** Save the stat cache if it changed. */
DV_NODISCARD int dv_worktree_save(dv_worktree *wt);
/** Save the stat cache as a cache: a failure (a full disk) only costs the next command a
 *  rehash, so it is dropped, and this thread's last error stays what it was. */
void dv_worktree_save_cache(dv_worktree *wt);
/** For a command that only reads: save the stat cache as a cache, under the repository's
 *  lock (taken for the save when the command does not hold it), or not at all when another
 *  command holds it. Clears this thread's last error. */
void dv_worktree_remember(dv_worktree *wt);

#endif
