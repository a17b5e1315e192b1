/*
 * ls: the files inside tracked data at a git revision or in the work tree's pointer
 * files, read from the pointers and the store's trees alone (never the work tree's data,
 * never chunks). Entries are handed to a callback as they are found, so memory is one
 * decoded tree per level.
 */
#ifndef DV_LS_H
#define DV_LS_H

#include "core/base/error.h"

#include "core/object/hash.h"
#include "core/object/pointer.h"
#include "core/repo/repo.h"
#include "core/repo/rev.h"

#include <stdint.h>

typedef struct dv_ls_entry {
    const char *path; /* relative to the top of the work tree */
    int kind;         /* DV_KIND_FILE, DV_KIND_DIR, DV_KIND_SYMLINK */
    uint8_t mode;     /* DV_MODE_* */
    uint64_t size;    /* file size, link target length, or the file bytes below a directory */
    dv_oid id;        /* manifest, tree, or the chunk holding a link target */
} dv_ls_entry;

/** Called for each entry, lent for the call; a negative return stops the listing. */
typedef int (*dv_ls_fn)(void *ctx, const dv_ls_entry *entry);

/**
 * List what lies at paths (work-tree paths; everything tracked when n_paths is 0) at rev, or
 * in the work tree's pointer files when rev is NULL. Files and symlinks are listed; a tracked
 * directory is listed file by file below it when recursive is set, else one level (its
 * subdirectories as entries of kind dir); a path above tracked data (a plain git directory)
 * lists the tracked data below it. Errors: DV_EUSAGE naming a path that is not tracked there;
 * DV_ENOTFOUND naming the path whose tree or manifest the store lacks (run dv fetch);
 * DV_ECORRUPT for a bad pointer or tree.
 */
DV_NODISCARD int dv_ls(dv_repo *repo, dv_rev *rev, const char *const *paths, size_t n_paths,
                       int recursive, dv_ls_fn fn, void *ctx);

/**
 * List every file and symlink the pointer p holds, recursively, from the store's trees, as
 * dv_ls does for a tracked path data_relpath (the entries' paths start with it; "" for paths
 * relative to the pointer's data). Errors as dv_ls.
 */
DV_NODISCARD int dv_ls_pointer(dv_repo *repo, const dv_pointer *p, const char *data_relpath,
                               dv_ls_fn fn, void *ctx);

/**
 * Find the one entry at path (a tracked data path or a path inside tracked data) at rev, or
 * in the work tree's pointer files when rev is NULL, into *out (out->path is NULL). The tree
 * objects on the way are read from the store. Errors as dv_ls.
 */
DV_NODISCARD int dv_ls_find(dv_ls_entry *out, dv_repo *repo, dv_rev *rev, const char *path);

#endif
