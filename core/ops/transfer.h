/*
 * transfer: moving objects between the local store and a remote.
 *
 * push: the objects reachable from the pointer files that the remote lacks (learned
 * from its pack indexes) are sent as packs: a local pack whose objects are all wanted
 * is uploaded as it is; the wanted objects of other packs are copied, still
 * compressed, into new packs first. Each pack is uploaded before its index, so a
 * reader never sees a pack that is not whole.
 *
 * fetch: the objects reachable from the pointer files that the store lacks are found
 * in the remote's pack indexes, level by level (trees and manifests; the chunks they
 * name are gathered and fetched last, all at once); neighbouring entries of one remote
 * pack are read with one ranged request; every object's CRC-32C and SHA-256 are
 * checked before it is written into a local pack. Trees and manifests are stored after
 * the chunks, so the store never holds one without what it names.
 */
#ifndef DV_TRANSFER_H
#define DV_TRANSFER_H

#include "core/base/error.h"

#include "core/data/ingest.h"
#include "core/ops/checkout.h"
#include "core/repo/repo.h"
#include "core/repo/rev.h"
#include "remotes/remote.h"

#include <stdint.h>

#define DV_TRANSFER_JOBS_DEFAULT 4
#define DV_FETCH_RANGE_BYTES (16u << 20) /* largest ranged read (unless one object is larger) */
#define DV_FETCH_BUFFER_BYTES                                                                      \
    (64u << 20)                       /* ranges in flight at once, in all: with more jobs,         \
                                         each range is smaller (at least 1 MiB) */
#define DV_FETCH_GAP_BYTES (1u << 20) /* read across a gap up to this between wanted entries */
#define DV_FETCH_HASH_GROUP 32 /* objects verified together: dv_hash_many runs 16 side by side */

typedef struct dv_transfer_options {
    int jobs; /* requests in flight; 0 = transfer.jobs from the configuration, or the default */
    dv_ingest_progress_fn progress; /* bytes moved so far */
    void *progress_ctx;
    void (*planned)(void *progress_ctx, uint64_t bytes_to_move); /* may be NULL */
    dv_revset *revs; /* the revisions whose pointers name the data; NULL or empty: the work
                        tree's (the pointer files staged in git) */
    /* dv_fetch, for a restore that runs beside it (core/ops/pull): once every tree and
     * manifest has arrived, and before any chunk is fetched, they are also written to
     * held_copy (when not NULL; flushed) and ready is called; arrived after each ranged
     * read's chunks are stored. Both are called from the fetching threads. May be NULL. */
    dv_odb *held_copy;
    void (*ready)(void *pipe_ctx);
    void (*arrived)(void *pipe_ctx);
    void *pipe_ctx;
} dv_transfer_options;

typedef struct dv_transfer_result {
    uint64_t objects_reachable; /* objects the pointer files name, directly or below */
    uint64_t objects_moved;     /* sent or fetched */
    uint64_t packs_moved;       /* packs uploaded (push) */
    uint64_t bytes_moved;       /* pack bytes sent or received */
    dv_path_list bad_pointers;  /* pointer files that could not be read (skipped) */
    uint64_t objects_at_risk;   /* push: objects it relies on that the store lacks and the
                                   remote holds only where a running dv gc --remote may
                                   delete them (or no longer holds) */
} dv_transfer_result;

void dv_transfer_result_free(dv_transfer_result *result);

/** Requests in flight: requested when > 0, else transfer.jobs (1..64, refused outside), else
 *  DV_TRANSFER_JOBS_DEFAULT. *out is usable (the default) even on failure. */
DV_NODISCARD int dv_transfer_jobs(int *out, dv_repo *repo, int requested);

/** Send what the remote lacks of the data named by the pointer files (all, or those under
 *  the work-tree paths in filters). Unreadable pointer files are listed in
 *  result->bad_pointers and skipped (so are they by dv_fetch); free the result. */
DV_NODISCARD int dv_push(dv_transfer_result *result, dv_repo *repo, dv_remote *remote,
                         const char *const *filters, size_t n_filters,
                         const dv_transfer_options *opts);

/** Bring into the local store what it lacks of the data named by the pointer files (all,
 *  or those under filters). The caller holds the lock. */
DV_NODISCARD int dv_fetch(dv_transfer_result *result, dv_repo *repo, dv_remote *remote,
                          const char *const *filters, size_t n_filters,
                          const dv_transfer_options *opts);

/** A fetcher of objects one batch at a time, for reads that find them missing (ondemand):
 *  each batch is fetched exactly (not what its objects name) into the store into, in few
 *  ranged reads, every object verified. The remote's indexes are loaded at the first batch
 *  and kept. Free it even when dv_fetcher_new fails. */
typedef struct dv_fetcher dv_fetcher;
DV_NODISCARD int dv_fetcher_new(dv_fetcher **out, dv_repo *repo, dv_remote *remote, dv_odb *into,
                                const dv_transfer_options *opts);
/** Fetch ids (none of them in into): DV_ENOTFOUND naming the first one the remote lacks. */
DV_NODISCARD int dv_fetcher_get(dv_fetcher *fetcher, const dv_oid *ids, size_t n);
/** 1 if the remote holds id, 0 if not, < 0 when its indexes cannot be loaded. */
DV_NODISCARD int dv_fetcher_remote_has(dv_fetcher *fetcher, const dv_oid *id);
/** Objects and pack bytes fetched so far. */
void dv_fetcher_counts(const dv_fetcher *fetcher, uint64_t *objects, uint64_t *bytes);
void dv_fetcher_free(dv_fetcher *fetcher);

#endif
