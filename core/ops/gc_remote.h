/*
 * gc_remote: dv gc --remote, the remote's packs that hold nothing a kept revision needs
 * deleted, those that hold some of it rewritten (their kept objects uploaded from the local
 * store in new packs first). Kept: what the roots of dv gc reach (core/ops/gc.h), plus every
 * object of a pack younger than gc.pruneExpire and everything the trees and manifests of such
 * packs name, so a push from another clone whose commit this clone does not see yet loses
 * nothing. A lock object on the remote keeps two of them apart; the protocol, and what a
 * push does when it meets the lock, are in docs/formats.md ("Remote gc").
 */
#ifndef DV_GC_REMOTE_H
#define DV_GC_REMOTE_H

#include "core/base/error.h"

#include "core/object/hash.h"
#include "core/ops/gc.h"
#include "core/repo/repo.h"
#include "remotes/remote.h"

#include <stddef.h>
#include <stdint.h>

enum { DV_GC_REMOTE_DELETE = 1, DV_GC_REMOTE_REWRITE, DV_GC_REMOTE_SHORT, DV_GC_REMOTE_ORPHAN };

typedef struct dv_gc_remote_options {
    dv_gc_options gc;     /* the roots (refs, revs, expire_days) and dry_run; dropped unused */
    int64_t prune_expire; /* seconds (gc.pruneExpire); DV_REMOTE_PRUNE_NEVER */
    int jobs;             /* 0: transfer.jobs */
    /** Called for each pack that goes or is rewritten (or would, with dry_run), and each one
     *  kept whole because the store lacks what it should keep (DV_GC_REMOTE_SHORT): the pack,
     *  what happens to it, its objects that go and their stored bytes, and the file bytes
     *  (pack and index) removed. May be NULL. */
    void (*pack)(void *ctx, const dv_oid *pack, int fate, uint64_t objects_freed,
                 uint64_t objects_missing, uint64_t file_bytes);
    void *ctx;
} dv_gc_remote_options;

typedef struct dv_gc_remote_result {
    uint64_t roots;
    size_t worktrees, history_commits;
    uint64_t packs_listed, packs_young, packs_kept, packs_rewritten, packs_deleted, packs_short,
        packs_written, packs_orphan;
    uint64_t objects_kept, objects_freed;
    uint64_t bytes_freed;    /* pack and index bytes removed */
    uint64_t bytes_uploaded; /* pack and index bytes of the new packs */
    uint64_t objects_read;   /* trees and manifests read from the remote for the walk */
    uint64_t missing;        /* reachable trees and manifests on neither side (skipped) */
    dv_path_list bad;        /* roots that could not be read (then nothing is deleted) */
} dv_gc_remote_result;

/** gc.pruneExpire in seconds (default 14 days; never: DV_REMOTE_PRUNE_NEVER). */
DV_NODISCARD int dv_gc_remote_prune_expire(int64_t *seconds, dv_repo *repo);

/**
 * Collect the roots and walk them, list the remote and delete (see above; with dry_run, only
 * count). The caller holds the repository lock. DV_EUSAGE for a read-only remote or a
 * revision that resolves to nothing; DV_ELOCKED when another gc holds the remote's lock;
 * DV_ECORRUPT when a root cannot be read (nothing deleted). After a failure half-way, what
 * was deleted held nothing kept, and every kept object is on the remote. Free out in every
 * case.
 */
DV_NODISCARD int dv_gc_remote(dv_gc_remote_result *out, dv_repo *repo, dv_remote *remote,
                              const dv_gc_remote_options *opts);
void dv_gc_remote_result_free(dv_gc_remote_result *result);

#endif
