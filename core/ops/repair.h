/*
 * repair: damaged packs replaced by good copies of what they hold.
 *
 * push --repair: the remote is checked in full (remotes/remote_check); each pack with a
 * problem is replaced. When the store has a pack of the same id (packs are named by their
 * content), it is checked whole and uploaded over the remote's, pack then index. Otherwise
 * every object the damaged pack's index lists (the remote's copy, else the cached one) is
 * taken from where a good copy is — another remote pack (nothing to do), the local store,
 * or the damaged pack itself when that object verified there — into new packs that go up
 * whole with their indexes; only then are the damaged pack's index and pack removed. A pack
 * with an object that has no good copy anywhere is left in place and named.
 *
 * fsck --repair: the store is checked (core/ops/fsck); every damaged object, every object a
 * manifest or tree names that is missing, and every object lost with a pack whose index
 * remains, is fetched exactly from the remote (and what a fetched tree or manifest names that
 * the store lacks, level by level) into a store of its own, whose packs are then moved into
 * the store. Each damaged pack is then retired: its sound objects that no other pack holds
 * are copied, verified, into a new pack, and it is removed, index first. A pack with an
 * object that has no good copy stays.
 */
#ifndef DV_REPAIR_H
#define DV_REPAIR_H

#include "core/base/error.h"

#include "core/ops/fsck.h"
#include "core/ops/transfer.h"
#include "core/repo/repo.h"
#include "remotes/remote.h"

#include <stdint.h>

typedef struct dv_repair_result {
    uint64_t packs_bad;        /* remote packs found damaged (or indexes without a pack) */
    uint64_t packs_replaced;   /* of those, replaced and removed (or uploaded again) */
    uint64_t objects_uploaded; /* objects sent in new packs */
    uint64_t bytes_uploaded;
    uint64_t objects_lost; /* objects with no good copy anywhere (their packs are kept) */
} dv_repair_result;

/** Called for each problem found and each one left (message says which); may be NULL. */
typedef void (*dv_repair_note_fn)(void *ctx, const char *message);

/** Replace the remote's damaged packs (see above). The caller holds the lock. */
DV_NODISCARD int dv_push_repair(dv_repair_result *result, dv_repo *repo, dv_remote *remote,
                                const dv_transfer_options *opts, dv_repair_note_fn note, void *ctx);

typedef struct dv_fsck_repair_result {
    uint64_t problems;        /* problems the check found */
    uint64_t objects_fetched; /* good copies fetched */
    uint64_t bytes_fetched;
    uint64_t packs_retired; /* damaged packs removed, their sound objects kept */
    uint64_t objects_lost;  /* damaged or missing objects the remote lacks too */
} dv_fsck_repair_result;

/** Repair the store from remote (see above). The caller holds the lock and the store's gc
 *  lock exclusively. problem and orphan get what the check finds, as for dv_fsck. */
DV_NODISCARD int dv_fsck_repair(dv_fsck_repair_result *result, dv_repo *repo, dv_remote *remote,
                                dv_fsck_problem_fn problem, dv_fsck_orphan_fn orphan,
                                dv_repair_note_fn note, void *ctx);

#endif
