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
 */
#ifndef DV_REPAIR_H
#define DV_REPAIR_H

#include "core/base/error.h"

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

#endif
