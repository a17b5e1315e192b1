/*
 * presence: how much of each tracked path's content a remote holds, from the remote's pack
 * indexes (cached; one LIST to learn of new packs) and the local store's trees and
 * manifests. Nothing is downloaded but the indexes of packs the cache lacks.
 */
#ifndef DV_PRESENCE_H
#define DV_PRESENCE_H

#include "core/base/error.h"

#include "core/repo/repo.h"
#include "remotes/remote.h"
#include "remotes/remote_index.h"

#include <stdint.h>

enum dv_presence_state {
    DV_PRESENCE_ALL = 1, /* every object of the path is on the remote */
    DV_PRESENCE_PARTLY,  /* some are */
    DV_PRESENCE_NONE,    /* none is */
    DV_PRESENCE_UNKNOWN, /* neither the store nor the remote has an object that names others */
};

typedef struct dv_presence {
    const char *path; /* the data path, lent for the call */
    int state;
    uint64_t bytes;         /* content bytes of the path's chunks (each distinct chunk once) */
    uint64_t missing_bytes; /* of those, the bytes the remote lacks */
    const char *message;    /* for DV_PRESENCE_UNKNOWN: what is missing where */
} dv_presence;

/** "all", "partly", "none", "unknown". */
const char *dv_presence_state_name(int state);

typedef int (*dv_presence_fn)(void *ctx, const dv_presence *presence);

/**
 * For each pointer file staged in git that matches filters (all when n_filters is 0), in
 * index order, call fn with how much of its content remote holds. A pointer file that
 * cannot be read is DV_ECORRUPT naming it.
 */
DV_NODISCARD int dv_presence_each(dv_repo *repo, dv_remote *remote, const char *const *filters,
                                  size_t n_filters, dv_presence_fn fn, void *ctx);

/**
 * What the default remote held when this clone last listed it, without a request: its
 * cached indexes in *index and its name in *name (free both). Both NULL, and 0 returned,
 * when no remote is the default or nothing is cached: then nothing is known to be there.
 * A remote the push checked holds everything below an object it lists (dv drop relies on
 * it).
 */
DV_NODISCARD int dv_presence_cached(dv_remote_index **index, char **name, dv_repo *repo);

#endif
