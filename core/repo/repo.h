/*
 * repo: a dv repository: the git work tree it lives in (through libgit2), its
 * .dv directory, settings, store and lock. Also the git glue: staging paths,
 * editing .gitignore files, and turning user paths into work-tree paths.
 */
#ifndef DV_REPO_H
#define DV_REPO_H

#include "core/base/error.h"

#include "core/base/buf.h"
#include "core/base/lock.h"
#include "core/data/chunker.h"
#include "core/object/pointer.h"
#include "core/repo/config.h"
#include "storage/odb.h"

#include <git2.h>
#include <stdint.h>

#define DV_DIR_NAME ".dv"
#define DV_FORMAT_VERSION 1
#define DV_LOCK_TIMEOUT_MS_DEFAULT 30000

typedef struct dv_repo {
    git_repository *git;
    dv_buf workdir;   /* absolute, no trailing slash */
    int workdir_fd;   /* the work tree's top, open: every work-tree path is walked from it */
    dv_buf dv_dir;    /* <workdir>/.dv */
    dv_buf cache_dir; /* <workdir>/.dv/cache or cache.dir */
    dv_config *config;
    dv_chunk_params chunk_params;
    int compression_level;
    uint64_t pack_target_bytes;
    uint64_t pack_min_bytes; /* pack.minSize: dv gc merges smaller packs */
    long lock_timeout_ms;
    dv_odb *odb;         /* opened by dv_repo_odb */
    dv_lock *lock;       /* held after dv_repo_lock */
    dv_lock *store_lock; /* <cache>/gc.lock, held after dv_repo_lock_store */
} dv_repo;

/** Initialise libgit2 once per process. */
DV_NODISCARD int dv_repo_global_init(void);

/** Find the git work tree containing start_dir. DV_ENOREPO outside a repository or in a bare one.
 */
DV_NODISCARD int dv_repo_discover_git(git_repository **out, const char *start_dir);

/**
 * Create .dv (config with chunking parameters, .gitignore) at the top of the work tree
 * containing start_dir and stage the committed files. *already is set when dv was
 * initialised before (nothing is changed then).
 */
DV_NODISCARD int dv_repo_init(int *already, dv_buf *top, const char *start_dir,
                              const dv_chunk_params *params);

/** Open the dv repository containing start_dir. DV_ENOREPO if there is none. */
DV_NODISCARD int dv_repo_open(dv_repo **out, const char *start_dir);
/** Open it as far as its configuration, whose values are not checked (so that dv config
 *  can mend a bad one): git, the work tree and the config files only, no store. */
DV_NODISCARD int dv_repo_open_settings(dv_repo **out, const char *start_dir);
void dv_repo_free(dv_repo *repo);

/** The store (opened on first use). */
DV_NODISCARD int dv_repo_odb(dv_odb **out, dv_repo *repo);

/** Open <cache>/partial, the store of trees and manifests kept without what they name (the
 *  objects dv diff fetches for itself, the trees down to a path pulled alone): *out is NULL
 *  when it does not exist and create is 0. Free it with dv_odb_free. */
DV_NODISCARD int dv_repo_partial_odb(dv_odb **out, dv_repo *repo, int create);

/** <workdir>/.dv/tmp (created if missing): where restored files are written before
 *  they are renamed into place, so an interrupted command leaves nothing in the
 *  work tree. */
DV_NODISCARD int dv_repo_tmp_dir(dv_buf *out, dv_repo *repo);
/** <workdir>/.dv/tmp open as a directory (created if missing), for temp files renamed
 *  into the work tree; the caller closes *fd. */
DV_NODISCARD int dv_repo_tmp_fd(int *fd, dv_repo *repo);
/** Remove what interrupted commands left in .dv/tmp. Only with the lock held. */
DV_NODISCARD int dv_repo_clean_tmp(dv_repo *repo);

/** dv_repo_clean_tmp at the end of a command whose result is error: a failure to clean is
 *  not the command's (the next command cleans .dv/tmp), and error keeps its message. */
void dv_repo_clean_tmp_after(dv_repo *repo, int error);
/** Take the repository lock for a mutating command. */
DV_NODISCARD int dv_repo_lock(dv_repo *repo, dv_lock_wait_fn on_wait, void *ctx);
/** The name of the store's gc lock, in the cache directory. */
#define DV_STORE_LOCK_NAME "gc.lock"
/**
 * Take the store's gc lock (<cache>/gc.lock, the store created if needed), after the
 * repository lock: shared for a command that writes or reads the store while other
 * worktrees and clones may share it, exclusive for dv gc, which deletes from it. Waits as
 * dv_repo_lock does (core.lockTimeout); DV_ELOCKED on timeout.
 */
DV_NODISCARD int dv_repo_lock_store(dv_repo *repo, int exclusive, dv_lock_wait_fn on_wait,
                                    void *ctx);

/**
 * Turn a user-supplied path (relative to the current directory, or absolute) into a path
 * relative to the work tree top ('/'-separated, no trailing '/'). "" is the top itself.
 * DV_EUSAGE if it lies outside the work tree or inside .git or .dv.
 */
DV_NODISCARD int dv_repo_relpath(dv_buf *out, dv_repo *repo, const char *user_path);
/** <workdir>/<relpath> into out. */
DV_NODISCARD int dv_repo_abspath(dv_buf *out, const dv_repo *repo, const char *relpath);
/** Path for messages: relative to the current directory where possible. */
DV_NODISCARD int dv_repo_display_path(dv_buf *out, const dv_repo *repo, const char *relpath);

/** Stage the work-tree paths in git's index (git add). */
DV_NODISCARD int dv_repo_stage(dv_repo *repo, const char *const *relpaths, size_t n);
/** 1 if git's index tracks relpath itself or anything below it. */
DV_NODISCARD int dv_repo_git_tracks(dv_repo *repo, const char *relpath);
/** Make sure git ignores relpath: when no rule git applies does (git_ignore_path_is_ignored),
 *  append "/<name>" to the .gitignore beside it. *changed says if the file was written; its
 *  work-tree path goes to gitignore_relpath, which is left empty when that file does not
 *  exist (relpath is ignored by a rule elsewhere): then there is nothing to stage. */
DV_NODISCARD int dv_repo_ignore(int *changed, dv_buf *gitignore_relpath, dv_repo *repo,
                                const char *relpath);

/**
 * List the pointer files staged in git's index (paths ending in ".dv" outside .dv/) and the
 * ones present in the work tree but not yet staged are not listed. Calls fn for each
 * work-tree-relative pointer path in index order; stops at fn's first error.
 */
typedef int (*dv_repo_pointer_fn)(void *ctx, const char *pointer_relpath);
DV_NODISCARD int dv_repo_each_pointer(dv_repo *repo, dv_repo_pointer_fn fn, void *ctx);

/**
 * Read the pointer file at the work-tree path pointer_relpath, walking to it from the
 * top without following a symlink and opening it without blocking: DV_ECORRUPT when it,
 * or a directory on the way, is a symlink or it is not a regular file; DV_ENOTFOUND
 * when it is missing.
 */
DV_NODISCARD int dv_repo_read_pointer(dv_pointer *out, dv_repo *repo, const char *pointer_relpath);

/** Write the pointer file at pointer_relpath with text, as a whole (temp file in .dv/tmp,
 *  renamed over it), unless it already holds exactly that; *written says which. wtfs_flags
 *  (DV_WTFS_CREATE) for the directories on the way. */
DV_NODISCARD int dv_repo_write_pointer_text(int *written, dv_repo *repo,
                                            const char *pointer_relpath, const char *text,
                                            size_t len, int wtfs_flags);

/** Remove the work-tree paths from git's index (git rm --cached); the files stay. */
DV_NODISCARD int dv_repo_unstage(dv_repo *repo, const char *const *relpaths, size_t n);

/** Map the libgit2 error in flight to a dv error with what as context. */
DV_NODISCARD int dv_repo_git_error(int code, const char *what);

#endif
