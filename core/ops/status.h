/*
 * status: compare the work tree with the pointer files: per tracked path,
 * clean, modified (with the files added, changed and removed), missing from
 * the work tree, or missing from the store. Unchanged files are not hashed.
 */
#ifndef DV_STATUS_H
#define DV_STATUS_H

#include "core/base/error.h"

#include "core/repo/repo.h"

enum dv_path_state {
    DV_STATE_CLEAN = 0,
    DV_STATE_MODIFIED,
    DV_STATE_MISSING,      /* data not in the work tree */
    DV_STATE_NOT_IN_STORE, /* the content the pointer names is not in the store */
    DV_STATE_BAD_POINTER,  /* the pointer file cannot be read */
    DV_STATE_ERROR,        /* the path could not be compared (message says why) */
    DV_STATE_ON_REMOTE,    /* the work tree matches the pointer, whose content is not in the
                              store but on the default remote (dv drop): remote names it */
};

enum dv_change {
    DV_CHANGE_ADDED = 1,
    DV_CHANGE_MODIFIED,
    DV_CHANGE_REMOVED,
};

typedef struct dv_status_change {
    char *path; /* work-tree relative; directories end with '/' */
    int change;
} dv_status_change;

typedef struct dv_status_path {
    char *path;    /* the data path, work-tree relative */
    char *pointer; /* the pointer file */
    int state;
    int in_store;  /* the store has the pointer's content */
    dv_oid id;     /* the pointer's content id (when it was read) */
    char *remote;  /* not in_store: the default remote, when its cached indexes list it */
    char *message; /* for DV_STATE_BAD_POINTER and DV_STATE_ERROR */
    dv_status_change *changes;
    size_t n_changes, alloc_changes;
} dv_status_path;

typedef struct dv_status_report {
    dv_status_path *paths;
    size_t n, alloc;
} dv_status_report;

/** "clean", "modified", "missing", "not-in-store", "bad-pointer", "error", "on-remote". */
const char *dv_status_state_name(int state);
/** "added", "modified", "removed". */
const char *dv_status_change_name(int change);

/**
 * Status of every tracked path, or of those under the work-tree paths in filters.
 * A filter that names no tracked path is DV_EUSAGE. A path that fails on its own (its
 * pointer file cannot be read, or it cannot be compared) is reported in its entry
 * (DV_STATE_BAD_POINTER, DV_STATE_ERROR, with the message) and the others go on; only
 * running out of memory fails the whole status. Content not in the store is looked up in
 * the default remote's cached indexes (no request is made; a remote that cannot be opened
 * or has no cache is passed over): a path that is clean but for it is DV_STATE_ON_REMOTE.
 */
DV_NODISCARD int dv_status(dv_status_report *out, dv_repo *repo, const char *const *filters,
                           size_t n_filters);
void dv_status_report_free(dv_status_report *report);

/** Collect the pointer files that match filters (all if n_filters is 0), in index order; a
 *  filter naming a path inside a pointer's data selects that pointer (the caller picks the
 *  path out, dv_rev_path_select). Shared by status and checkout. Free each string and the
 *  array. */
DV_NODISCARD int dv_status__match_pointers(char ***out, size_t *n_out, dv_repo *repo,
                                           const char *const *filters, size_t n_filters);

#endif
